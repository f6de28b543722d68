"""Server-side render time of the web UI's busiest pages.  Run: ``python -m bench.bench_web``.

A scratch database (SQLite, then PostgreSQL at ``WATCHBILL_TEST_DATABASE_URL`` or the local
server) gets 1,000 users in 20 teams, 200 schedules (a weekly rotation of five people each),
200 escalation policies and services, and 10,000 incidents (9,700 resolved, 200 triggered,
100 acknowledged; the signed-in person was paged for 30 of the open ones). A signed-in
member then asks for the home page (on call now), the incident list and an incident page
(with a 40-entry log) through the whole app (routing, session, queries, Jinja2), in
process. Prints p50 and p95 per page against the target (p95 ≤ 50 ms), wall-clock and CPU
(the process's CPU time per request: what the page costs when the machine is shared and
busy, as wall-clock time then includes waiting for a core).

    python -m bench.bench_web [--db sqlite|postgresql|both] [--repeats 200]
"""

from __future__ import annotations

import argparse
import gc
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from api.app import create_app
from bench.common import ACTOR, percentile, scratch_url
from escalation import service as escalation
from escalation.models import Incident, IncidentLog, IncidentStatus, Service, Severity, TargetType
from paging.outbox.models import Notification, NotificationStatus
from people import passwords
from people import service as people
from people.models import TeamMembership, TeamRole, Urgency, User, UserRole
from schedules import service as schedules
from schedules.specs import LayerSpec
from store.base import new_id
from store.db import Database
from store.settings import Settings

USERS, TEAMS, SCHEDULES, INCIDENTS = 1_000, 20, 200, 10_000
TARGET_MS = 50.0
PASSWORD = "bench password 123"
NOW = datetime.now(UTC).replace(microsecond=0)


def populate(database: Database) -> tuple[str, str]:
    """The organisation above; (the signed-in person's email, an open incident's id)."""
    with database.transaction() as session:
        user_rows = [
            {
                "id": new_id(),
                "name": f"Person {n}",
                "email": f"person{n}@example.com",
                "time_zone": "Europe/London",
                "role": UserRole.member,
                "ical_token": new_id(),
                "created_at": NOW,
            }
            for n in range(USERS)
        ]
        session.execute(insert(User), user_rows)
        user_ids = [str(row["id"]) for row in user_rows]
        me = user_ids[0]
        passwords.set_password(session, ACTOR, me, PASSWORD)
        team_ids = [people.create_team(session, ACTOR, name=f"Team {t}").id for t in range(TEAMS)]
        session.flush()
        session.execute(
            insert(TeamMembership),
            [
                {
                    "id": new_id(),
                    "team_id": team_ids[n % TEAMS],
                    "user_id": user_id,
                    "role": TeamRole.responder,
                    "created_at": NOW,
                }
                for n, user_id in enumerate(user_ids)
            ],
        )
        start = NOW - timedelta(days=30)
        services: list[Service] = []
        for s in range(SCHEDULES):
            team = team_ids[s % TEAMS]
            crew = tuple(user_ids[(s * 5 + k) % USERS] for k in range(5))
            schedule = schedules.create_schedule(
                session,
                ACTOR,
                name=f"Schedule {s:03d}",
                time_zone="Europe/London",
                team_id=team,
                layers=[LayerSpec("Primary", start, crew, start, 7, "days")],
            )
            session.flush()
            policy = escalation.create_policy(
                session,
                ACTOR,
                name=f"Policy {s:03d}",
                team_id=team,
                repeat=1,
                tiers=[
                    escalation.TierInput(300, [(TargetType.schedule, schedule.id)]),
                    escalation.TierInput(600, [(TargetType.user, crew[0])]),
                ],
            )
            session.flush()
            services.append(
                escalation.create_service(
                    session,
                    ACTOR,
                    name=f"Service {s:03d}",
                    escalation_policy_id=policy.id,
                    team_id=team,
                    acknowledgement_timeout_seconds=None,
                    auto_resolve_timeout_seconds=None,
                )
            )
        session.flush()
        incidents = []
        for n in range(INCIDENTS):
            service = services[n % SCHEDULES]
            status = (
                IncidentStatus.triggered
                if n >= INCIDENTS - 200
                else IncidentStatus.acknowledged
                if n >= INCIDENTS - 300
                else IncidentStatus.resolved
            )
            at = NOW - timedelta(minutes=INCIDENTS - n)
            incidents.append(
                {
                    "id": new_id(),
                    "service_id": service.id,
                    "number": n // SCHEDULES + 1,
                    "title": f"Incident {n}: error rate above threshold on {service.name}",
                    "details": {"source": f"host-{n % 50}", "custom_details": {"rate": "7%"}},
                    "severity": Severity.critical if n % 3 else Severity.warning,
                    "urgency": Urgency.high,
                    "status": status,
                    "dedup_key": new_id(),
                    "trigger_count": 1,
                    "created_at": at,
                    "updated_at": at,
                    "resolved_at": at + timedelta(minutes=5)
                    if status is IncidentStatus.resolved
                    else None,
                    "policy_id": service.escalation_policy_id,
                    "epoch": 0,
                    "loop": 0,
                    "tier": 0,
                }
            )
        session.execute(insert(Incident), incidents)
        session.execute(update(Service).values(last_incident_number=INCIDENTS // SCHEDULES))
        open_ids = [str(row["id"]) for row in incidents[-300:]]
        session.execute(
            insert(Notification),
            [
                {
                    "id": new_id(),
                    "kind": "page",
                    "incident_id": incident_id,
                    "epoch": 0,
                    "loop": 0,
                    "tier": 0,
                    "user_id": me,
                    "channel": "sms",
                    "address": "+12015550100",
                    "send_at": NOW,
                    "status": NotificationStatus.sent,
                    "sent_at": NOW,
                    "attempts": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for incident_id in open_ids[::10]
            ],
        )
        shown = open_ids[-1]
        session.execute(
            insert(IncidentLog),
            [
                {
                    "incident_id": shown,
                    "at": NOW - timedelta(seconds=40 - k),
                    "kind": "notified",
                    "message": f"Notified Person {k} by sms (+1201555{k:04d})",
                    "data": {"user_id": user_ids[k]},
                }
                for k in range(40)
            ],
        )
        return "person0@example.com", shown


def _sign_in(client: TestClient, email: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _time(fn: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call."""
    for _ in range(5):
        fn()
    wall, cpu = [], []
    gc.collect()
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def run(kind: str, repeats: int) -> bool:
    with scratch_url(kind) as url:
        database = Database(url)
        began = time.perf_counter()
        email, incident_id = populate(database)
        print(f"\n{kind}: populated in {time.perf_counter() - began:.1f} s")
        settings = Settings(_env_file=None, database_url=url, public_url="http://testserver")
        ok = True
        with TestClient(create_app(settings, database)) as client:
            _sign_in(client, email)
            pages = {
                "home (on call now)": "/",
                "incident list (open)": "/incidents",
                "incident list (resolved, page 3)": "/incidents?status=resolved&page_number=3",
                "incident page": f"/incidents/{incident_id}",
            }
            for label, path in pages.items():

                def get(path: str = path) -> None:
                    answer = client.get(path, follow_redirects=False)
                    assert answer.status_code == 200, (path, answer.status_code)

                wall, cpu = _time(get, repeats)
                p50, p95 = percentile(wall, 50), percentile(wall, 95)
                met = p95 <= TARGET_MS
                ok &= met
                print(
                    f"  {label:<34} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
                    f"(cpu p50 {percentile(cpu, 50):6.2f}  p95 {percentile(cpu, 95):6.2f})  "
                    f"target p95 <= {TARGET_MS:.0f} ms  {'ok' if met else 'MISSED'}"
                )
        database.dispose()
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run(kind, args.repeats) for kind in kinds]
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
