"""The schedule page: the timeline in words and pictures, read only for other teams, and a
server that refuses what the page does not offer (forged posts with a valid CSRF token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from people.models import TeamRole
from schedules import overrides
from schedules.models import ScheduleOverride
from store.audit import AuditEntry
from tests.factories import SYSTEM
from tests.web.desk.conftest import START, Desk, daily, weekly


def _count(desk: Desk, model: type) -> int:
    with desk.database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_week_shows_names_overrides_gaps_now_and_switches_zone(desk: Desk) -> None:
    ada, bob = desk.person("Ada Lovelace"), desk.person("Bob Okafor", time_zone="Asia/Tokyo")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    schedule_id = desk.schedule(team, [weekly([ada.id, bob.id], days=("mon", "tue", "wed"))])
    with desk.database.transaction() as session:
        overrides.create_override(
            session, SYSTEM, schedule_id, user_id=ada.id, start=START + timedelta(hours=2),
            end=START + timedelta(hours=4), now=START,
        )  # fmt: skip
    page = desk.sign_in(ada).get(f"/schedules/{schedule_id}")
    assert page.status_code == 200
    html = page.text
    assert "Week of Mon 8 Dec 2025" in html
    assert bob.id not in re.sub(r"<[^>]*>", " ", html)  # names, never ids, in what is read
    assert "Bob Okafor, Tue 9 Dec 09:00–12:00 CET, Layer 1 (Weekly)" in html  # week 2: Bob
    assert 'class="bar override p' in html
    assert "Ada Lovelace, Tue 9 Dec 12:00–14:00 CET, Override" in html
    assert 'class="bar gap nobody"' in html and "Nobody on call" in html
    assert 'class="now"' in html
    assert "Coverage warnings (next 14 days)" in html  # Thursday to Monday: nobody
    assert "/calendars/schedules/" in html and "webcal://" in html
    mine = desk.sign_in(bob).get(f"/schedules/{schedule_id}?tz=mine")
    assert "Times in Asia/Tokyo." in mine.text and "Tue 9 Dec 20:00–22:00 JST" in mine.text


def test_another_teams_manager_reads_only_and_forged_posts_are_refused(desk: Desk) -> None:
    ada, bob, eve = desk.person("Ada"), desk.person("Bob"), desk.person("Eve")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    desk.team((eve, TeamRole.manager))
    schedule_id = desk.schedule(team, [daily([ada.id, bob.id])])
    intruder = desk.sign_in(eve)
    page = intruder.get(f"/schedules/{schedule_id}").text
    assert "Read only" in page
    for offered in ("Edit rotation", "Cover…", "Add override", "Delete schedule"):
        assert offered not in page
    assert intruder.get(f"/schedules/{schedule_id}/edit").status_code == 403
    before = (_count(desk, ScheduleOverride), _count(desk, AuditEntry))
    start = (START + timedelta(days=1)).isoformat()
    end = (START + timedelta(days=2)).isoformat()
    forged = [
        (f"/schedules/{schedule_id}/overrides",
         {"user_id": eve.id, "start_at": start, "end_at": end}),
        (f"/schedules/{schedule_id}/delete", {"confirm": "yes"}),
        (f"/schedules/{schedule_id}/swap", {"first_user": ada.id, "first_start": start,
                                            "first_end": end, "second": f"{bob.id}|{end}|{end}"}),
        (f"/schedules/{schedule_id}/edit", {"op": "save", "layer_count": "0", "name": "Mine",
                                            "time_zone": "Europe/Berlin"}),
    ]  # fmt: skip
    for path, data in forged:
        answer = intruder.post(path, data)
        assert answer.status_code == 403, (path, answer.text)
        assert "only an admin or a team" in answer.text
    assert (_count(desk, ScheduleOverride), _count(desk, AuditEntry)) == before
    no_token = intruder.client.post(f"/schedules/{schedule_id}/delete", data={"confirm": "yes"})
    assert no_token.status_code == 403 and "did not come from this site" in no_token.text


def test_a_responder_takes_a_shift_and_cannot_give_one_to_someone_else(desk: Desk) -> None:
    ada, bob, cy = desk.person("Ada"), desk.person("Bob"), desk.person("Cy")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder), (cy, TeamRole.responder))
    schedule_id = desk.schedule(team, [daily([ada.id, cy.id])])
    bob_browser = desk.sign_in(bob)
    page = bob_browser.get(f"/schedules/{schedule_id}").text
    cover = re.search(r'href="(/schedules/[^"]+/cover\?[^"]+)"', page)
    assert cover is not None
    form = bob_browser.get(cover.group(1).replace("&amp;", "&")).text
    assert "Take this shift" in form and "Cover for" not in form and "Swap" not in form
    start = re.search(r'name="start_at" value="([^"]+)"', form)
    end = re.search(r'name="end_at" value="([^"]+)"', form)
    assert start and end
    taken = bob_browser.post(
        f"/schedules/{schedule_id}/overrides",
        {"user_id": bob.id, "start_at": start.group(1), "end_at": end.group(1)},
    )
    assert taken.status_code == 303
    assert bob_browser.flash(taken).startswith("Override added: Bob is on call from")
    with desk.database.transaction() as session:
        rows = session.scalars(select(ScheduleOverride)).all()
        assert [(o.user_id, o.start.isoformat() if o.start.tzinfo else o.start) for o in rows]
        assert rows[0].user_id == bob.id
    refused = bob_browser.post(
        f"/schedules/{schedule_id}/overrides",
        {"user_id": cy.id, "start_at": end.group(1), "end_at": (datetime.fromisoformat(
            end.group(1)) + timedelta(hours=1)).isoformat()},
    )  # fmt: skip
    assert refused.status_code == 403
    assert "a team responder may only put themself on call" in refused.text


def test_a_manager_swaps_two_shifts_and_cancels_with_the_past_kept(desk: Desk) -> None:
    ada, bob = desk.person("Ada"), desk.person("Bob")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    schedule_id = desk.schedule(team, [daily([ada.id, bob.id])])
    manager = desk.sign_in(ada)
    day = timedelta(days=1)
    tomorrow = datetime(2025, 12, 10, 8, 0, tzinfo=UTC)  # Ada's day (09:00 Berlin)
    swapped = manager.post(
        f"/schedules/{schedule_id}/swap",
        {"first_user": ada.id, "first_start": tomorrow.isoformat(),
         "first_end": (tomorrow + day).isoformat(),
         "second": f"{bob.id}|{(tomorrow + day).isoformat()}|{(tomorrow + 2 * day).isoformat()}"},
    )  # fmt: skip
    assert swapped.status_code == 303 and manager.flash(swapped).startswith("Swapped:")
    with desk.database.transaction() as session:
        made = {(o.user_id, o.start.replace(tzinfo=UTC)) for o in session.scalars(
            select(ScheduleOverride))}  # fmt: skip
    assert made == {(bob.id, tomorrow), (ada.id, tomorrow + day)}
    desk.clock.now = tomorrow + timedelta(hours=3)
    manager = desk.sign_in(ada)  # a day later: the session has gone idle
    with desk.database.transaction() as session:
        running = session.scalars(
            select(ScheduleOverride).where(ScheduleOverride.user_id == bob.id)
        ).one()
    cut = manager.post(f"/schedules/{schedule_id}/overrides/{running.id}/cancel", {})
    assert cut.status_code == 303, cut.text
    assert manager.flash(cut) == "Override cut short now; the part already past is kept."
    desk.clock.now = tomorrow + 5 * day
    manager = desk.sign_in(ada)
    again = manager.post(f"/schedules/{schedule_id}/overrides/{running.id}/cancel", {})
    assert manager.flash(again) == (
        "Override not cancelled: this override is over; the past is kept."
    )
