"""Paging engine benchmark: trigger → channel hand-off latency, and escalation lateness.

Run: ``python -m bench.bench_engine [--only sqlite|postgresql]``. Prints figures with targets:
hand-off p99 ≤ 500 ms at a sustained 50 incidents/s; escalation lateness p99 ≤ 1 s with
10,000 open incidents. The provider is a stand-in channel that records when it is handed a
message (the engine, database and timers are the real ones).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench.common import ACTOR, percentile, responder, scratch_database
from escalation import service as escalation
from escalation.models import IncidentLog, TargetType
from paging import intake
from paging.channels.base import Outcome, Outgoing, SendResult
from paging.engine import Engine
from store.db import Database
from store.settings import Settings


class RecordingProvider:
    """Stands in for Twilio: records the instant each incident was handed over."""

    name = "bench"

    def __init__(self) -> None:
        self.handed: dict[str, float] = {}
        self.lock = threading.Lock()

    def send(self, message: Outgoing) -> SendResult:
        now = time.time()
        with self.lock:
            for view in message.incidents:
                self.handed.setdefault(view.id, now)
        return SendResult(Outcome.sent, provider_id="bench")

    def lookup(self, message: Outgoing, since: datetime) -> SendResult | None:
        return None


def _services(database: Database, people_count: int, delays: list[int]) -> list[str]:
    with database.transaction() as session:
        users = [responder(session, i) for i in range(people_count)]
        service_ids = []
        for i, user_id in enumerate(users):
            following = users[(i + 1) % len(users)]
            policy = escalation.create_policy(
                session,
                ACTOR,
                name=f"p{i}",
                team_id=None,
                repeat=0,
                tiers=[
                    escalation.TierInput(d, [(TargetType.user, u)])
                    for d, u in zip(delays, [user_id, following], strict=False)
                ],
            )
            service = escalation.create_service(
                session,
                ACTOR,
                name=f"s{i}",
                escalation_policy_id=policy.id,
                team_id=None,
                acknowledgement_timeout_seconds=None,
                auto_resolve_timeout_seconds=None,
            )
            service_ids.append(service.id)
    return service_ids


def _settings(database: Database) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database.url,
        page_burst=1_000_000,
        engine_sweep_seconds=5.0,
    )


def handoff_latency(kind: str, rate: int = 50, seconds: int = 10) -> None:
    with scratch_database(kind) as database:
        services = _services(database, 20, [3600])
        provider = RecordingProvider()
        engine = Engine(database, _settings(database), channels={"sms": provider})
        engine.start()
        triggered: dict[str, float] = {}
        lock = threading.Lock()

        def fire(n: int) -> None:
            with database.transaction() as session:
                service = escalation.get_service(session, services[n % len(services)])
                result = intake.trigger(
                    session, service, intake.Trigger(title=f"bench {n}"), datetime.now(UTC)
                )
                incident_id = result.incident.id
            with lock:
                triggered[incident_id] = time.time()  # committed: from here the clock runs

        try:
            # Open loop: triggers start on schedule whatever the previous ones cost.
            interval = 1.0 / rate
            start = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as pool:
                for n in range(rate * seconds):
                    pause = start + n * interval - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    pool.submit(fire, n)
            achieved = len(triggered) / (time.monotonic() - start)
            deadline = time.monotonic() + 30
            while len(provider.handed) < len(triggered) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            engine.stop()
        latencies = [
            (provider.handed[i] - t) * 1000 for i, t in triggered.items() if i in provider.handed
        ]
        lost = len(triggered) - len(latencies)
        print(
            f"[{kind}] trigger→hand-off at {achieved:.0f} incidents/s over {len(triggered)}: "
            f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
            f"max {max(latencies):.0f} ms (target p99 ≤ 500 ms); not handed over: {lost}"
        )


def escalation_lateness(kind: str, incidents: int = 10_000, delay: int = 150) -> None:
    with scratch_database(kind) as database:
        services = _services(database, 50, [delay, 3600])
        provider = RecordingProvider()
        engine = Engine(database, _settings(database), channels={"sms": provider})
        engine.start()
        try:
            started = time.monotonic()
            batch = 250
            for first in range(0, incidents, batch):
                with database.transaction() as session:
                    for n in range(first, min(incidents, first + batch)):
                        service = escalation.get_service(session, services[n % len(services)])
                        intake.trigger(
                            session, service, intake.Trigger(title=f"e{n}"), datetime.now(UTC)
                        )
            created = time.monotonic() - started
            if created > delay:
                print(f"[{kind}] creating took {created:.0f} s > delay {delay} s; raise --delay")
            deadline = time.monotonic() + delay + created + 60
            while time.monotonic() < deadline:
                with database.transaction() as session:
                    done = session.scalar(
                        select(func.count())
                        .select_from(IncidentLog)
                        .where(IncidentLog.kind == "escalated")
                    )
                if done == incidents:
                    break
                time.sleep(0.5)
        finally:
            engine.stop()
        with database.transaction() as session:
            rows = session.execute(
                select(IncidentLog.incident_id, IncidentLog.kind, IncidentLog.at).where(
                    IncidentLog.kind.in_(["notify_tier", "escalated"])
                )
            ).all()
        first_notified: dict[str, datetime] = {}
        escalated: dict[str, datetime] = {}
        for incident_id, kind_, at in rows:
            if kind_ == "notify_tier":
                first_notified.setdefault(incident_id, at)
            else:
                escalated[incident_id] = at
        lateness = [
            (escalated[i] - (first_notified[i] + timedelta(seconds=delay))).total_seconds() * 1000
            for i in escalated
            if i in first_notified
        ]
        print(
            f"[{kind}] escalation lateness with {incidents} open incidents "
            f"(created in {created:.1f} s): p50 {statistics.median(lateness):.0f} ms, "
            f"p99 {percentile(lateness, 99):.0f} ms, max {max(lateness):.0f} ms "
            f"(target p99 ≤ 1000 ms); "
            f"escalated {len(escalated)}/{incidents}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument(
        "--delay",
        type=int,
        default=150,
        help="tier 1 → tier 2 seconds; must exceed the creation time",
    )
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    for kind in kinds:
        handoff_latency(kind)
        escalation_lateness(kind, args.incidents, args.delay)


if __name__ == "__main__":
    main()
