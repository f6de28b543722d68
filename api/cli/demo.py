"""``watchbill demo``: fill an empty database with a small organisation, then say what to try.

The three commands it prints (trigger an event, watch it page, acknowledge it) are meant to be
pasted as they are, with ``watchbill serve`` running: ``tests/api/test_quick_start.py`` runs
the README's quick start, this command and those three exactly as printed.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from api.cli import demo_data
from api.cli.base import CliError, app, ensure_schema, open_database, settings
from api.cli.startup import describe_database
from schedules import queries
from store.base import utcnow

DEDUP_KEY = "demo-disk-full-db-1"


def program() -> str:
    """How to call this program again: ``watchbill`` when that is what the shell finds, else
    the path it was started by (``.venv/bin/watchbill``)."""
    started = sys.argv[0] if sys.argv else ""
    if Path(started).name != "watchbill" or not Path(started).is_file():
        return "watchbill"
    found = shutil.which("watchbill")
    if found is not None and Path(found).resolve() == Path(started).resolve():
        return "watchbill"
    return shlex.quote(started)


def trigger_command(base_url: str, integration_key: str) -> str:
    event = {
        "routing_key": integration_key,
        "event_action": "trigger",
        "dedup_key": DEDUP_KEY,
        "payload": {
            "summary": "Disk 95% full on db-1",
            "source": "db-1",
            "severity": "critical",
        },
    }
    return (
        f"curl -sS -X POST {shlex.quote(base_url + '/v2/enqueue')} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(event))}"
    )


@app.command()
def demo(
    url: Annotated[
        str | None,
        typer.Option(help="where 'watchbill serve' answers (default: WATCHBILL_PUBLIC_URL)"),
    ] = None,
) -> None:
    """Fill an empty database with a demo team, schedules, a policy and a service."""
    base_url = (url or settings().public_url).rstrip("/")
    database = open_database()
    ensure_schema(database)
    now = utcnow()
    with database.transaction() as session:
        found = demo_data.is_empty(session)
        if found is not None:
            raise CliError(
                f"the database is not empty ({found}): the demo only fills an empty one "
                "(set WATCHBILL_DATABASE_URL to a new file, e.g. sqlite:///demo.db)"
            )
        made = demo_data.build(session, now)
        shift = queries.on_call_shift(session, made.primary.id, now)
        by_id = {u.id: u for u in made.people.values()}
        paged = by_id[shift.user_id] if shift is not None else made.people["ada@example.com"]
        key = made.service.integration_key
    me = program()
    london = made.primary.time_zone
    change = ""
    if made.clock_change is not None:
        day = made.clock_change.astimezone(ZoneInfo(london)).strftime("%a %d %b %Y")
        change = f", which stays 09:00 across the clock change on {day}"
    lines = [
        f"Demo organisation created in {describe_database(database)}:",
        f"  team       {made.team}: Ada Lovelace (manager), Grace Hopper and Alan Turing",
        "  people     each with an SMS number (paged at once) and an e-mail address (a minute",
        "             later); with no SMS or mail provider configured, pages go to the log",
        "             channel: the log of 'watchbill serve' and each incident's log",
        f"  schedules  {made.primary.name} ({london}): weekly, hand-off Mondays 09:00 {london}",
        f"             time{change}",
        f"             {made.secondary.name} ({made.secondary.time_zone}): daily, on call",
        "             weekdays 09:00-17:00 only",
        f"  policy     {made.policy.name}: level 1 {made.primary.name}; after 5 min level 2",
        f"             {made.secondary.name} and Ada Lovelace; then once more from level 1",
        f"  service    {made.service.name}, integration key {key}",
        f"On call now in {made.primary.name}: {paged.name}",
        "",
        f"Try it, with 'watchbill serve' running at {base_url}:",
        "  1. Trigger an event as a monitoring tool would (PagerDuty Events API v2):",
        f"     {trigger_command(base_url, key)}",
        f"  2. Watch it page {paged.name} (the log of 'watchbill serve' shows the page too):",
        f"     {me} incidents show 1",
        f"  3. Acknowledge it as {paged.name}:",
        f"     {me} incidents ack 1 --as {paged.email}",
        "",
        f"Then: '{me} oncall' shows who is on call at each level; '{me} incidents' lists",
        "incidents; the API is documented at " + base_url + "/docs.",
    ]
    typer.echo("\n".join(lines))
