"""Benchmark the team lead's desk: ``python -m bench.bench_desk [sqlite|postgresql|both]``.

A schedule with 5 layers (weekly, business hours, 12-hour, weeknights, weekends; 12 people)
and 200 overrides of one to three hours spread over the month shown (all of them visible in
the final schedule: about 400 final pieces), on a fresh database of each kind. A signed-in team
manager asks, end to end through the app (Starlette's TestClient, in process):

* the schedule page for that month (``view=month``): load, timeline with every layer's own
  shifts, SVG drawing, shift list (target: p95 <= 100 ms);
* the preview of an edit (the rotation editor's Preview button: the first layer's people
  reordered, the saving call run in a savepoint and rolled back, two timelines over four
  weeks, the changes, the page) (target: p95 <= 150 ms).

Prints p50 and p95 per database, of wall-clock time (the target) and of this process's CPU
time (what the work costs when the machine is shared and wall time includes waiting for a
CPU). The clock is fixed, so every run draws the same month.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from bench.common import ACTOR, percentile, scratch_database
from people import passwords
from people import service as people
from people.models import TeamRole, UserRole
from schedules import overrides
from schedules import service as schedules
from schedules.specs import LayerSpec, RestrictionSpec
from store.db import Database
from store.settings import Settings

PAGE_TARGET_MS = 100.0
PREVIEW_TARGET_MS = 150.0
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
MONTH = datetime(2026, 3, 1, tzinfo=UTC)
PASSWORD = "benchmark password 1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SAMPLES = 60
OVERRIDES = 200
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _layers(users: list[str]) -> list[LayerSpec]:
    anchor = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

    def layer(name: str, people: list[str], length: int, unit: str,
              *restrictions: RestrictionSpec) -> LayerSpec:  # fmt: skip
        return LayerSpec(name, anchor, tuple(people), anchor, length, unit,
                         restrictions=restrictions)  # fmt: skip

    return [
        layer("Weekly", users[0:4], 1, "weeks"),
        layer("Business hours", users[4:7], 1, "days", RestrictionSpec("09:00", "17:00", WEEKDAYS)),
        layer("Twelve hours", users[7:9], 12, "hours"),
        layer("Weeknights", users[9:11], 2, "days", RestrictionSpec("20:00", "08:00", WEEKDAYS)),
        layer("Weekends", users[11:12] + users[0:1], 1, "weeks",
              RestrictionSpec("08:00", "08:00", ("sat", "sun"))),
    ]  # fmt: skip


def prepare(database: Database) -> tuple[str, str]:
    """The team, its people, the schedule and 200 overrides in March; (schedule id, email)."""
    with database.transaction() as session:
        lead = people.create_user(
            session, ACTOR, name="Bench Lead", email="lead@example.com", time_zone="Europe/Berlin",
            role=UserRole.member,
        )  # fmt: skip
        users = [
            people.create_user(
                session, ACTOR, name=f"Person {n:02d}", email=f"p{n}@example.com",
                time_zone="Europe/Berlin", role=UserRole.member,
            )
            for n in range(12)
        ]  # fmt: skip
        team = people.create_team(session, ACTOR, name="Bench team")
        session.flush()
        people.add_member(session, ACTOR, team.id, user_id=lead.id, role=TeamRole.manager)
        for user in users:
            people.add_member(session, ACTOR, team.id, user_id=user.id, role=TeamRole.responder)
        passwords.set_password(session, ACTOR, lead.id, PASSWORD)
        schedule = schedules.create_schedule(
            session, ACTOR, name="Bench", time_zone="Europe/Berlin", team_id=team.id,
            layers=_layers([u.id for u in users]),
        )  # fmt: skip
        session.flush()
        schedule_id, ids = schedule.id, [u.id for u in users]
    rng = random.Random(16)
    slot = timedelta(days=31) / OVERRIDES  # one override in each slot: all of them show
    with database.transaction() as session:
        for n in range(OVERRIDES):
            start = MONTH + n * slot + timedelta(minutes=15 * rng.randrange(4))
            length = timedelta(minutes=30 * rng.randrange(2, 6))
            overrides.create_override(
                session, ACTOR, schedule_id, user_id=rng.choice(ids), start=start,
                end=start + length, now=MONTH,
            )  # fmt: skip
    return schedule_id, "lead@example.com"


def sign_in(client: TestClient, email: str) -> str:
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = CSRF.search(client.get("/schedules").text)
    assert found is not None
    return found.group(1)


def _form(html: str) -> list[tuple[str, str]]:
    """The rotation editor's fields as a browser posts them (enough for this page)."""
    fields: list[tuple[str, str]] = []
    form = html[
        html.index('id="rotation-editor"') : html.index(
            "</form>", html.index('id="rotation-editor"')
        )
    ]
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or (
            kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag
        ):
            continue
        fields.append((name.group(1), value.group(1) if value else ""))
    for name, body in re.findall(r'<select id="[^"]*" name="([^"]+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        fields.append((name, chosen.group(1) if chosen else ""))
    return fields


def timed(fn: Callable[[], None], samples: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process, all threads) milliseconds of each call."""
    fn()
    fn()  # warm: templates compiled, zones loaded
    wall, cpu = [], []
    for _ in range(samples):
        started, used = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def run(kind: str) -> None:
    with scratch_database(kind) as database:
        schedule_id, email = prepare(database)
        settings = Settings(
            _env_file=None, database_url=database.url, public_url="http://bench.test",
            admin_token=SecretStr("bench-admin-token"),
        )  # fmt: skip
        app = create_app(settings, database, clock=lambda: NOW)
        with TestClient(app) as client:
            csrf = sign_in(client, email)
            page_path = f"/schedules/{schedule_id}?view=month&day=2026-03-01"
            page = client.get(page_path)
            assert page.status_code == 200, page.text[:500]

            def schedule_page() -> None:
                assert client.get(page_path).status_code == 200

            edit = f"/schedules/{schedule_id}/edit"
            fields = [(k, v) for k, v in _form(client.get(edit).text) if k != "csrf_token"]
            users = [v for k, v in fields if k == "layers-0-users"]
            fields = [(k, v) for k, v in fields if k not in ("layers-0-users", "weeks")]
            fields += [("layers-0-users", u) for u in reversed(users)] + [("weeks", "4")]
            body = urlencode([*fields, ("op", "preview"), ("csrf_token", csrf)])
            headers = {"content-type": "application/x-www-form-urlencoded"}
            first = client.post(edit, content=body, headers=headers)
            assert first.status_code == 200 and "change" in first.text, first.text[:2000]

            def preview() -> None:
                answer = client.post(edit, content=body, headers=headers)
                assert answer.status_code == 200

            bars = page.text.count('class="bar ')
            for label, fn, target in (
                (f"schedule page, month, 5 layers, 200 overrides ({bars} bars)", schedule_page,
                 PAGE_TARGET_MS),
                ("preview of an edit (4 weeks, before and after)", preview, PREVIEW_TARGET_MS),
            ):  # fmt: skip
                wall, cpu = timed(fn, SAMPLES)
                p95 = percentile(wall, 95)
                verdict = "ok" if p95 <= target else "MISSED"
                print(f"{kind:<10} {label}\n{'':<10} wall p50 {percentile(wall, 50):6.1f} ms  "
                      f"p95 {p95:6.1f} ms   cpu p50 {percentile(cpu, 50):6.1f} ms  "
                      f"p95 {percentile(cpu, 95):6.1f} ms   target p95 <= {target:.0f} ms  "
                      f"{verdict}")  # fmt: skip


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    kinds = ("sqlite", "postgresql") if which == "both" else (which,)
    print(f"desk benchmark ({SAMPLES} samples each, in process, clock fixed at {NOW.isoformat()})")
    load = os.getloadavg()[0]
    print(f"load average now {load:.1f} on {os.cpu_count()} CPUs: on a shared machine wall")
    print("time includes waiting for a CPU; cpu is this process's own time")
    for kind in kinds:
        run(kind)


if __name__ == "__main__":
    main()
