"""``watchbill demo``, ``oncall`` and ``incidents`` through typer's runner, on a real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.cli import demo_data
from escalation.models import Service
from paging.intake import change_events
from paging.intake.trigger import Trigger, ingest
from people.models import User
from schedules import queries
from schedules.models import Schedule
from store.base import utcnow
from store.db import Database
from tests.api.cli.conftest import Run

LONDON = ZoneInfo("Europe/London")


def _demo(cli: Run) -> str:
    result = cli("demo", "--url", "http://127.0.0.1:18080")
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(output: str, first: str) -> list[str]:
    """The cells of the table row starting with ``first`` (cells are 2+ spaces apart)."""
    for line in output.splitlines():
        if line.strip().startswith(first):
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row {first!r} in:\n{output}")


def test_demo_fills_an_empty_database_and_says_what_to_try(cli: Run, database: Database) -> None:
    output = _demo(cli)
    with database.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        service = session.scalars(select(Service)).one()
        primary = session.scalars(select(Schedule).where(Schedule.name == "Payments primary")).one()
        on_call = queries.on_call_shift(session, primary.id, utcnow())
    assert set(users) == {"ada@example.com", "grace@example.com", "alan@example.com"}
    assert on_call is not None
    paged = next(u for u in users.values() if u.id == on_call.user_id)
    assert "curl -sS -X POST http://127.0.0.1:18080/v2/enqueue" in output
    assert f'"routing_key": "{service.integration_key}"' in output
    assert "watchbill incidents show 1" in output
    assert f"watchbill incidents ack 1 --as {paged.email}" in output
    assert "stays 09:00 across the clock change on" in output


def test_demo_refuses_a_database_that_is_not_empty(cli: Run) -> None:
    _demo(cli)
    again = cli("demo")
    assert again.exit_code == 1
    assert again.stderr.startswith("error: the database is not empty (3 users, 1 teams, 2 sch")


def test_oncall_names_each_schedule_and_policy_level(cli: Run, database: Database) -> None:
    _demo(cli)
    at = datetime(2031, 6, 4, 14, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
    result = cli("oncall", "--at", at.isoformat(), "--time-zone", "America/New_York")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("On call at Wed 04 Jun 2031 10:00 EDT")
    with database.transaction() as session:
        names = {u.id: u.name for u in session.scalars(select(User))}
        ids = {s.name: s.id for s in session.scalars(select(Schedule))}
        first = queries.on_call_shift(session, ids["Payments primary"], at)
        second = queries.on_call_shift(session, ids["Payments secondary"], at)
    assert first is not None and second is not None
    row = _row(out, "Payments primary")
    assert row[1] == names[first.user_id]
    # Monday's 09:00 London hand-off, shown in the zone asked for.
    assert row[3] == "Mon 09 Jun 2031 04:00 EDT"
    assert _row(out, "Payments secondary")[1] == names[second.user_id]
    assert _row(out, "Payments escalation")[1:4] == [
        "1",
        names[first.user_id],
        "schedule Payments primary",
    ]
    assert _row(out, "2 (after 5 min)")[1:3] == [
        names[second.user_id],
        "schedule Payments secondary",
    ]
    assert _row(out, "Ada Lovelace")[1] == "directly"


def test_oncall_hand_off_stays_at_nine_local_across_the_clock_change(cli: Run) -> None:
    _demo(cli)
    change = demo_data.next_clock_change(LONDON, utcnow())
    assert change is not None
    local = change.astimezone(LONDON).date()
    monday = local + timedelta(days=(7 - local.weekday()) % 7 or 7)  # the Monday after it

    def person(at: str) -> list[str]:
        result = cli("oncall", "--schedule", "payments primary", "--at", at, "--time-zone",
                     "Europe/London")  # fmt: skip
        assert result.exit_code == 0, result.output
        return _row(result.stdout, "Payments primary")

    before, after = person(f"{monday} 08:59"), person(f"{monday} 09:00")
    assert before[1] != after[1]  # the hand-off happens at 09:00 local, not an hour off
    assert before[3] == after[2] == monday.strftime("%a %d %b %Y 09:00 ") + after[2][-3:]
    week_before = person(f"{monday - timedelta(days=7)} 09:00")
    assert week_before[2][-3:] != after[2][-3:]  # GMT one week, BST the next (or back)


def test_oncall_with_an_unknown_schedule_lists_the_known_ones(cli: Run) -> None:
    _demo(cli)
    result = cli("oncall", "--schedule", "Nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no schedule named 'Nope' (schedules: 'Payments primary', 'Payments secondary')"
    )


def test_oncall_refuses_a_local_time_the_clocks_skip(cli: Run) -> None:
    _demo(cli)
    change = demo_data.next_clock_change(LONDON, utcnow())
    assert change is not None
    if change.astimezone(LONDON).utcoffset() == timedelta(0):
        change = demo_data.next_clock_change(LONDON, change + timedelta(days=1))
    assert change is not None  # the spring change: 01:00 local does not exist
    day = change.astimezone(LONDON).date()
    result = cli("oncall", "--at", f"{day} 01:30", "--time-zone", "Europe/London")
    assert result.exit_code == 1
    assert "does not exist in that time zone" in result.stderr


def _trigger(database: Database, title: str) -> str:
    with database.transaction() as session:
        service = session.scalars(select(Service)).one()
        result = ingest(session, service, Trigger(title=title, source="test", via="api"), utcnow())
        return result.incident.id


def test_incidents_list_show_and_acknowledge_as_a_person(cli: Run, database: Database) -> None:
    _demo(cli)
    first = _trigger(database, "Disk full on db-1")
    _trigger(database, "Latency above 2 s")
    listed = cli("incidents", "--status", "triggered")
    assert listed.exit_code == 0, listed.output
    assert _row(listed.stdout, "2")[1:5] == [
        "Payments API",
        "triggered",
        "critical",
        "Latency above 2 s",
    ]
    assert _row(listed.stdout, "1")[4] == "Disk full on db-1"
    shown = cli("incidents", "show", "#1")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("#1 Disk full on db-1\n")
    assert "triggered" in shown.stdout and first in shown.stdout
    acked = cli("incidents", "ack", "1", "--as", "grace@example.com")
    assert acked.exit_code == 0, acked.output
    assert acked.stdout.strip() == "#1 acknowledged by grace@example.com (now acknowledged)"
    assert "acknowledged" in cli("incidents", "show", first).stdout
    again = cli("incidents", "ack", "1", "--as", "grace@example.com")
    assert again.stdout.strip() == "#1 was already acknowledged; nothing changed"
    assert _row(cli("incidents", "--status", "acknowledged").stdout, "1")[2] == "acknowledged"
    resolved = cli("incidents", "resolve", first, "--as", "ada@example.com")
    assert resolved.exit_code == 0 and "resolved by ada@example.com" in resolved.stdout


def test_an_incident_shows_the_recent_changes_on_its_service(cli: Run, database: Database) -> None:
    _demo(cli)
    with database.transaction() as session:
        key = session.scalars(select(Service)).one().integration_key
        change = change_events.Change(key, "Deployed payments v42", "ci", None, None, None, None)
        change_events.record(session, change, utcnow() - timedelta(minutes=10))
    _trigger(database, "Payments failing")
    shown = cli("incidents", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "Recent changes on this service" in shown.stdout
    assert "Deployed payments v42" in shown.stdout and "ci" in shown.stdout


def test_acting_needs_the_rights_of_the_person_named(cli: Run, database: Database) -> None:
    _demo(cli)
    _trigger(database, "Disk full")
    cli("user", "create", "--email", "eve@example.com", "--name", "Eve")
    result = cli("incidents", "ack", "1", "--as", "eve@example.com")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: only admins, the service's team responders")
    unknown = cli("incidents", "ack", "1", "--as", "nobody@example.com")
    assert unknown.stderr.strip() == "error: --as: no user with email 'nobody@example.com'"
    missing = cli("incidents", "show", "7")
    assert missing.stderr.strip() == "error: no incident #7"
