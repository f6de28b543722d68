"""Paging engine benchmark: trigger → channel hand-off latency, and escalation lateness.

Run: ``python -m bench.bench_engine [--only sqlite|postgresql]``. Prints figures with targets:
hand-off p99 ≤ 500 ms at a sustained 50 incidents/s; escalation lateness p99 ≤ 1 s with
10,000 open incidents whose next steps fall due at ``--rate`` per second (default 200; 0 for
all at once, which shows the most steps a second the engine takes). The provider is a
stand-in channel that records when it is handed a message (the engine, database and timers
are the real ones).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bench.common import ACTOR, percentile, responder, scratch_database
from escalation import service as escalation
from escalation.models import Incident, IncidentLog, TargetType
from paging.engine import wake
from paging.engine.loop import Engine
from paging.intake.trigger import Trigger, ingest
from paging.outbox.channel import Outcome, Outgoing, SendResult
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

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
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
                result = ingest(session, service, Trigger(title=f"bench {n}"), datetime.now(UTC))
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


def escalation_lateness(kind: str, incidents: int = 10_000, rate: float = 200.0) -> None:
    """Open ``incidents`` incidents (tier 1 paged), then let their tier-2 steps fall due at
    ``rate`` per second (0: all at once) and measure how late each step is taken.

    The due times are set once every incident is open and its first page sent, so the load
    does not depend on how fast this script creates incidents (on PostgreSQL here about
    100/s, on SQLite about 500/s: the rate used to follow from that).
    """
    with scratch_database(kind) as database:
        services = _services(database, 50, [3600, 3600])
        provider = RecordingProvider()
        engine = Engine(database, _settings(database), channels={"sms": provider})
        engine.start()
        try:
            started = time.monotonic()
            ids: list[str] = []
            for first in range(0, incidents, 250):
                with database.transaction() as session:
                    for n in range(first, min(incidents, first + 250)):
                        service = escalation.get_service(session, services[n % len(services)])
                        triggered = ingest(
                            session, service, Trigger(title=f"e{n}"), datetime.now(UTC)
                        )
                        ids.append(triggered.incident.id)
            created = time.monotonic() - started
            deadline = time.monotonic() + 120
            while len(provider.handed) < incidents and time.monotonic() < deadline:
                time.sleep(0.2)  # every first page out before the steps begin
            begin = datetime.now(UTC) + timedelta(seconds=5)
            due = {
                incident_id: begin + timedelta(seconds=n / rate if rate else 0)
                for n, incident_id in enumerate(ids)
            }
            with database.transaction() as session:
                session.execute(
                    update(Incident), [{"id": i, "next_escalation_at": t} for i, t in due.items()]
                )
                wake.request(session)
            deadline = time.monotonic() + 5 + (incidents / rate if rate else 0) + 120
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
            escalated = dict(
                session.execute(
                    select(IncidentLog.incident_id, IncidentLog.at).where(
                        IncidentLog.kind == "escalated"
                    )
                ).all()
            )
        lateness = [(escalated[i] - due[i]).total_seconds() * 1000 for i in escalated]
        span = (max(escalated.values()) - begin).total_seconds()
        pace = f"falling due at {rate:.0f}/s" if rate else "all due at once"
        print(
            f"[{kind}] escalation lateness, {incidents} open incidents "
            f"(opened in {created:.0f} s), "
            f"tier-2 steps {pace}: p50 {statistics.median(lateness):.0f} ms, "
            f"p99 {percentile(lateness, 99):.0f} ms, max {max(lateness):.0f} ms "
            f"(target p99 ≤ 1000 ms); escalated {len(escalated)}/{incidents}, "
            f"{len(escalated) / span:.0f} steps/s over {span:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=float, default=200.0, help="tier-2 steps due per second (0: all at once)"
    )
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    for kind in kinds:
        handoff_latency(kind)
        escalation_lateness(kind, args.incidents, args.rate)


if __name__ == "__main__":
    main()
