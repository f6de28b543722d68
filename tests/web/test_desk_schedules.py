"""The team lead's schedule pages in real Chromium, phone and desktop: a schedule made entirely
in the UI matches the API's timeline; an edit's preview is what saving changes and the past
stays; a responder takes a shift; another team's manager reads only and is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from people.models import TeamRole
from schedules import service as schedules
from schedules.models import ScheduleOverride
from schedules.specs import LayerSpec
from store.base import utcnow
from tests.factories import SYSTEM, Person
from tests.web.conftest import sign_in
from tests.web.served import Served, unique

Shift = tuple[datetime, datetime, str | None]


def _api(served: Served, person: Person, path: str, **params: str) -> Any:
    answer = httpx.get(
        served.url(f"/api/v1{path}"), params=params, headers=person.headers, trust_env=False
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _final(served: Served, person: Person, schedule_id: str, since: str, until: str) -> list[Shift]:
    """The API's final timeline with its gaps (user None), whole at the edges."""
    found = _api(
        served, person, f"/schedules/{schedule_id}/timeline", since=since, until=until,
        overflow="true",
    )  # fmt: skip
    pieces = [(s["start"], s["end"], s["user_id"]) for s in found["final"]]
    pieces += [(g["start"], g["end"], None) for g in found["gaps"]]
    return sorted((datetime.fromisoformat(a), datetime.fromisoformat(b), u) for a, b, u in pieces)


def _drawn(page: Page) -> tuple[str, str, list[Shift]]:
    """The window and the final row of the timeline drawn on the schedule page."""
    figure = page.locator("#timeline")
    since, until = figure.get_attribute("data-since"), figure.get_attribute("data-until")
    assert since and until
    bars = figure.locator('a.bar[href^="#f"]').evaluate_all(
        "bars => bars.map(b => [b.dataset.start, b.dataset.end, b.dataset.user])"
    )
    shifts = sorted((datetime.fromisoformat(a), datetime.fromisoformat(b), u or None)
                    for a, b, u in bars)  # fmt: skip
    return since, until, shifts


def test_a_schedule_made_in_the_ui_has_the_apis_timeline(page: Page, served: Served) -> None:
    n = unique()
    lead = served.person(name=f"Lena Lead {n}", time_zone="Europe/Berlin")
    ana, ben, cai = (served.person(name=f"{x} {n}") for x in ("Ana Alves", "Ben Brook", "Cai Chen"))
    team = served.team(
        (lead, TeamRole.manager), (ana, TeamRole.responder), (ben, TeamRole.responder),
        (cai, TeamRole.responder),
    )  # fmt: skip
    sign_in(page, served, lead, "/schedules")
    page.get_by_role("link", name="New schedule").click()
    page.get_by_label("Schedule name").fill("Payments primary")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Team").select_option(team)
    first = page.get_by_role("group", name="Layer 1", exact=True)
    first.get_by_label("Layer name").fill("Weekly")
    for person in ("Ana Alves", "Ben Brook", "Cai Chen"):
        first.get_by_label("Add a person").select_option(label=f"{person} {n}")
        first.get_by_role("button", name="Add person").click()
    first = page.get_by_role("group", name="Layer 1", exact=True)
    expect(first.locator("ol.people li")).to_have_count(3)
    first.get_by_label("Unit").select_option("weeks")
    first.get_by_label("Handoff day (weekly shifts)").select_option("mon")
    first.get_by_label("Handoff time").fill("09:00")
    page.get_by_role("button", name="Add layer").click()
    second = page.get_by_role("group", name="Layer 2", exact=True)
    second.get_by_label("Layer name").fill("Office hours")
    for person in ("Cai Chen", "Ana Alves"):
        second.get_by_label("Add a person").select_option(label=f"{person} {n}")
        second.get_by_role("button", name="Add person").click()
    second = page.get_by_role("group", name="Layer 2", exact=True)
    second.get_by_label("Unit").select_option("days")
    second.get_by_role("button", name="Add restriction").click()
    restriction = page.get_by_role("group", name="Restriction 1: on call only")
    expect(restriction.get_by_label("Mon")).to_be_checked()
    restriction.get_by_label("To").fill("18:00")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_role("heading", name="Payments primary", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Schedule Payments primary created.")
    schedule_id = page.url.rsplit("/", 1)[1]
    since, until, drawn = _drawn(page)
    assert drawn == _final(served, lead, schedule_id, since, until)
    expect(page.locator("#timeline a.bar.gap").first).to_be_attached()  # before it starts
    expect(page.locator("#timeline line.now")).to_be_attached()
    page.get_by_role("link", name="Later").click()  # next week: both layers, all three people
    since, until, drawn = _drawn(page)
    assert {u for _, _, u in drawn} == {ana.id, ben.id, cai.id}
    assert drawn == _final(served, lead, schedule_id, since, until)
    layers = _api(served, lead, f"/schedules/{schedule_id}")["layers"]
    assert [len(layer["users"]) for layer in layers] == [3, 2]
    assert layers[1]["restrictions"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
    ]


def _who(shifts: list[Shift], at: datetime) -> str | None:
    return next((u for a, b, u in shifts if a <= at < b), None)


def test_an_edit_previews_exactly_what_saving_changes_and_keeps_the_past(
    page: Page, served: Served
) -> None:
    n = unique()
    lead = served.person(name=f"Lou Lead {n}", time_zone="Europe/Berlin")
    ada, bo, cy = (served.person(name=f"{x} {n}") for x in ("Ada Ames", "Bo Berg", "Cy Cruz"))
    team = served.team((lead, TeamRole.manager), (ada, TeamRole.responder),
                       (bo, TeamRole.responder), (cy, TeamRole.responder))  # fmt: skip
    begun = (utcnow() - timedelta(days=15)).replace(minute=0, second=0, microsecond=0)
    with served.database.transaction() as session:
        schedule_id = schedules.create_schedule(
            session, SYSTEM, name="Rota", time_zone="Europe/Berlin", team_id=team,
            layers=[LayerSpec("Daily", begun, (ada.id, bo.id, cy.id), begun, 1, "days")],
        ).id  # fmt: skip
    since = (begun + timedelta(days=1)).isoformat()
    until = (utcnow() + timedelta(days=20)).isoformat()
    before = _final(served, lead, schedule_id, since, until)
    sign_in(page, served, lead, f"/schedules/{schedule_id}/edit")
    layer = page.get_by_role("group", name="Layer 1", exact=True)
    layer.get_by_role("button", name=f"Move Cy Cruz {n} up").click()  # desk.js: no round trip
    expect(layer.locator("ol.people li .who")).to_have_text(
        [f"Ada Ames {n}", f"Cy Cruz {n}", f"Bo Berg {n}"]
    )
    page.get_by_label("Preview").select_option("2")
    page.get_by_role("button", name="Preview", exact=True).click()
    rows = page.locator("ol.changes li").evaluate_all(
        "rows => rows.map(r => [r.dataset.start, r.dataset.end, r.dataset.before, r.dataset.after])"
    )
    changes = [(datetime.fromisoformat(a), datetime.fromisoformat(b), c or None, d or None)
               for a, b, c, d in rows]  # fmt: skip
    assert changes
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved. The change takes effect from")
    saved_at = utcnow()
    after = _final(served, lead, schedule_id, since, until)
    assert [s for s in after if s[1] <= changes[0][0]] == [
        s for s in before if s[1] <= changes[0][0]
    ]
    horizon = changes[-1][1]
    instants = sorted({t for a, b, _ in after + before for t in (a, b) if saved_at <= t < horizon})
    for at in [saved_at, *instants]:
        shown = next((c for c in changes if c[0] <= at < c[1]), None)
        assert _who(before, at) == (shown[2] if shown else _who(after, at)), at
        assert _who(after, at) == (shown[3] if shown else _who(before, at)), at


def test_a_responder_takes_a_shift_and_sees_the_override(page: Page, served: Served) -> None:
    n = unique()
    lead = served.person(name=f"Mo Lead {n}")
    ida = served.person(name=f"Ida Iver {n}")
    raj = served.person(name=f"Raj Rao {n}", time_zone="Asia/Kolkata")
    team = served.team(
        (lead, TeamRole.manager), (ida, TeamRole.responder), (raj, TeamRole.responder)
    )
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    with served.database.transaction() as session:
        schedule_id = schedules.create_schedule(
            session, SYSTEM, name="Support", time_zone="Europe/London", team_id=team,
            layers=[LayerSpec("Daily", start, (ida.id, lead.id), start, 1, "days")],
        ).id  # fmt: skip
    sign_in(page, served, raj, f"/schedules/{schedule_id}")
    expect(page.get_by_role("link", name="Edit rotation")).to_have_count(0)
    page.get_by_role("link", name=re.compile(rf"^Cover Ida Iver {n}")).first.click()
    expect(page.get_by_role("heading", name="Cover a shift")).to_be_visible()
    expect(page.get_by_role("button", name="Cover this shift")).to_have_count(0)  # managers only
    page.get_by_role("button", name="Take this shift").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Override added: Raj Rao {n} is on call from"
    )
    override = page.locator("#timeline a.bar.override", has_text=f"Raj Rao {n}").first
    expect(override).to_be_attached()
    assert "Override" in (override.get_attribute("data-details") or "")
    with served.database.transaction() as session:
        taken = session.scalars(
            select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
        ).one()
    assert taken.user_id == raj.id


def test_another_teams_manager_reads_only_and_a_forged_post_is_refused(
    page: Page, served: Served
) -> None:
    lead, ann = served.person(name="Pat Lead"), served.person(name="Ann Ark")
    eve = served.person(name="Eve Other")
    team = served.team((lead, TeamRole.manager), (ann, TeamRole.responder))
    served.team((eve, TeamRole.manager))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    with served.database.transaction() as session:
        schedule_id = schedules.create_schedule(
            session, SYSTEM, name="Guarded", time_zone="UTC", team_id=team,
            layers=[LayerSpec("Daily", start, (ann.id, lead.id), start, 1, "days")],
        ).id  # fmt: skip
    sign_in(page, served, eve, f"/schedules/{schedule_id}")
    expect(page.get_by_text("Read only")).to_be_visible()
    for name in ("Edit rotation", "Cover…"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name="Add override")).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    forged = page.request.post(
        served.url(f"/schedules/{schedule_id}/overrides"),
        form={"csrf_token": token, "user_id": eve.id, "start_at": later,
              "end_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
        max_redirects=0,
    )  # fmt: skip
    assert forged.status == 403
    assert "only an admin or a team manager" in forged.text()
    with served.database.transaction() as session:
        assert (
            session.scalars(
                select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
            ).all()
            == []
        )
