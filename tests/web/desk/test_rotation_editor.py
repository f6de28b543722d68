"""The rotation editor, posted as a browser would: buttons change the draft, Preview shows
what saving changes, Save does exactly that (and only for the draft that was previewed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from people.models import TeamRole
from schedules import queries
from schedules.core.changes import compare
from schedules.models import LayerVersionRow, Schedule
from tests.web.desk.conftest import Browser, Desk, form_fields, replaced, weekly

CHANGE_ROW = re.compile(
    r'<li data-start="([^"]+)" data-end="([^"]+)" data-before="([^"]*)" data-after="([^"]*)">'
)


def _press(browser: Browser, path: str, fields: list[tuple[str, str]], op: str) -> str:
    answer = browser.post(path, [*fields, ("op", op)])
    assert answer.status_code in (200, 303, 409, 422), answer.text
    return str(answer.text if answer.status_code != 303 else answer.headers["location"])


def _fields(html: str) -> list[tuple[str, str]]:
    return form_fields(html, "rotation-editor")


def test_a_schedule_is_made_entirely_from_the_form(desk: Desk) -> None:
    ada, bob, cy = desk.person("Ada"), desk.person("Bob"), desk.person("Cy")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder), (cy, TeamRole.responder))
    manager = desk.sign_in(ada)
    html = manager.get("/schedules/new").text
    fields = replaced(_fields(html), name="Payments", time_zone="Europe/Berlin", team_id=team)
    for person in (bob, cy, ada):
        html = _press(
            manager,
            "/schedules/new",
            [*replaced(fields, **{"layers-0-add_user": person.id})],
            "add_user:0",
        )
        fields = _fields(html)
    assert [v for k, v in fields if k == "layers-0-users"] == [bob.id, cy.id, ada.id]
    fields = _fields(_press(manager, "/schedules/new", fields, "user_up:0:2"))  # Ada before Cy
    assert [v for k, v in fields if k == "layers-0-users"] == [bob.id, ada.id, cy.id]
    fields = _fields(_press(manager, "/schedules/new", fields, "add_restriction:0"))
    typed: dict[str, str | list[str]] = {
        "layers-0-length": "1", "layers-0-unit": "days", "layers-0-handoff_time": "08:00",
        "layers-0-start_date": "2025-12-08", "layers-0-start_time": "08:00",
        "layers-0-r-0-days": ["mon", "tue", "wed", "thu", "fri"], "layers-0-r-0-start": "08:00",
        "layers-0-r-0-end": "20:00",
    }  # fmt: skip
    fields = replaced(fields, **typed)
    preview = _press(manager, "/schedules/new", fields, "preview")
    assert "Create schedule" in preview and CHANGE_ROW.search(preview)
    location = _press(manager, "/schedules/new", _fields(preview), "save")
    assert location.startswith("/schedules/")
    with desk.database.transaction() as session:
        schedule = session.scalars(select(Schedule).where(Schedule.name == "Payments")).one()
        found = queries.schedule_timeline(
            session, schedule.id, datetime(2025, 12, 8, tzinfo=UTC),
            datetime(2025, 12, 13, tzinfo=UTC),
        )  # fmt: skip
    assert [s.user_id for s in found.final] == [bob.id, ada.id, cy.id, bob.id, ada.id]
    assert found.final[0].start == datetime(2025, 12, 8, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    assert found.final[0].end == datetime(2025, 12, 8, 19, 0, tzinfo=UTC)  # 20:00 Berlin


def _versions(desk: Desk) -> int:
    with desk.database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(LayerVersionRow)) or 0)


def test_the_preview_shows_exactly_what_the_saved_edit_changes_and_the_past_stays(
    desk: Desk,
) -> None:
    ada, bob, cy = desk.person("Ada"), desk.person("Bob"), desk.person("Cy")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder), (cy, TeamRole.responder))
    schedule_id = desk.schedule(team, [weekly([ada.id, bob.id, cy.id])])
    since, until = datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
    with desk.database.transaction() as session:
        before = queries.schedule_timeline(session, schedule_id, since, until).final
    manager = desk.sign_in(ada)
    path = f"/schedules/{schedule_id}/edit"
    fields = _fields(manager.get(path).text)
    unchanged = _press(manager, path, fields, "preview")
    assert "Nobody's shifts change in this window." in unchanged
    edited = replaced(_fields(unchanged), **{"layers-0-users": [ada.id, cy.id, bob.id]}, weeks="4")
    preview = _press(manager, path, edited, "preview")
    shown = [
        (datetime.fromisoformat(a), datetime.fromisoformat(b), c or None, d or None)
        for a, b, c, d in CHANGE_ROW.findall(preview)
    ]
    assert shown and all(start >= desk.clock.now for start, *_ in shown)
    desk.clock.now += timedelta(seconds=20)  # saving comes a little later
    versions = _versions(desk)
    assert _press(manager, path, _fields(preview), "save") == f"/schedules/{schedule_id}"
    assert _versions(desk) == versions + 1
    with desk.database.transaction() as session:
        after = queries.schedule_timeline(session, schedule_id, since, until).final
    window = (shown[0][0] - timedelta(days=1), datetime(2026, 1, 5, tzinfo=UTC))
    saved = [(c.start, c.end, c.before, c.after) for c in compare(before, after, *window)]
    assert saved == [c for c in shown if c[1] <= window[1]]
    past = desk.clock.now
    assert [s for s in after if s.end <= past] == [s for s in before if s.end <= past]


def test_save_needs_the_preview_of_this_very_draft(desk: Desk) -> None:
    ada, bob = desk.person("Ada"), desk.person("Bob")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    schedule_id = desk.schedule(team, [weekly([ada.id, bob.id])])
    manager = desk.sign_in(ada)
    path = f"/schedules/{schedule_id}/edit"
    preview = _press(manager, path, _fields(manager.get(path).text), "preview")
    sneaky = replaced(_fields(preview), **{"layers-0-users": [bob.id, ada.id]})
    versions = _versions(desk)
    again = manager.post(path, [*sneaky, ("op", "save")])
    assert again.status_code == 409
    assert "changed since the preview" in again.text and "Preview" in again.text
    assert _versions(desk) == versions


def test_mistakes_are_named_in_words_and_nothing_is_saved(desk: Desk) -> None:
    ada = desk.person("Ada")
    team = desk.team((ada, TeamRole.manager))
    manager = desk.sign_in(ada)
    fields = replaced(
        _fields(manager.get("/schedules/new").text),
        name="Broken", team_id=team, time_zone="Mars/Olympus",
        **{"layers-0-handoff_time": "25:00", "layers-0-length": "0"},
    )  # fmt: skip
    answer = manager.post("/schedules/new", [*fields, ("op", "preview")])
    assert answer.status_code == 422
    assert "Time zone: unknown time zone" in answer.text
    fields = replaced(fields, time_zone="Europe/Berlin")
    answer = manager.post("/schedules/new", [*fields, ("op", "preview")])
    assert "Layer 1 (Layer 1) shift length: between 1 and 1000." in answer.text
    assert "Layer 1 (Layer 1) handoff time: a time like 09:00, please." in answer.text
    fields = replaced(fields, **{"layers-0-handoff_time": "09:00", "layers-0-length": "1"})
    answer = manager.post("/schedules/new", [*fields, ("op", "preview")])
    assert (
        answer.status_code == 422
        and "Layer 1 (Layer 1) users: a layer needs at least one user" in answer.text
    )
    with desk.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0
