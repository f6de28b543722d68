"""Real engine processes: SIGKILL in the middle of escalations; two engines on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escalation import service as escalation
from escalation.models import IncidentLog, TargetType
from paging import intake
from paging.models import Notification, NotificationStatus
from people.models import ContactType
from store.audit import Actor
from store.db import Database
from tests.factories import Factory
from tests.waiting import wait_until

ENGINE = [sys.executable, "-c", "from api.cli import main; main()", "engine"]


class Engines:
    def __init__(self, url: str, logs: Path) -> None:
        self.url = url
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
        env.update(
            WATCHBILL_DATABASE_URL=self.url,
            WATCHBILL_ENGINE_LEASE_SECONDS="5",
            WATCHBILL_ENGINE_SWEEP_SECONDS="0.5",
        )
        log = self.logs / f"engine-{len(self.processes)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(ENGINE, env=env, stdout=subprocess.DEVNULL, stderr=sink)
        self.processes.append(process)
        return process

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait for ``predicate``; fail at once, with its log, if a live engine exits."""

        def check() -> bool:
            for i, process in enumerate(self.processes):
                code = process.poll()
                if code is not None and code != -signal.SIGKILL:
                    text = (self.logs / f"engine-{i}.log").read_text()[-3000:]
                    raise AssertionError(f"engine {i} exited with {code}:\n{text}")
            return predicate()

        wait_until(check, timeout=timeout)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def engines(database_url: str, tmp_path: Path) -> Iterator[Engines]:
    running = Engines(database_url, tmp_path)
    yield running
    running.stop_all()


def _setup(database: Database, factory: Factory, incidents: int, tiers: int, people: int) -> None:
    """``incidents`` incidents on a policy of ``tiers`` one-second tiers over ``people``."""
    persons = []
    for i in range(people):
        person = factory.user()
        cm = factory.contact(person, ContactType.sms, f"+1201555{2000 + i:04d}")
        factory.rule(person, cm, 0)
        persons.append(person)
    actor = Actor.system("tests")
    now = datetime.now(UTC)
    with database.transaction() as session:
        policy = escalation.create_policy(
            session,
            actor,
            name="p",
            team_id=None,
            repeat=0,
            tiers=[
                escalation.TierInput(1, [(TargetType.user, persons[t % people].id)])
                for t in range(tiers)
            ],
        )
        services = [
            escalation.create_service(
                session,
                actor,
                name=f"s{i}",
                escalation_policy_id=policy.id,
                team_id=None,
                acknowledgement_timeout_seconds=None,
                auto_resolve_timeout_seconds=None,
            )
            for i in range(4)
        ]
        for n in range(incidents):
            intake.trigger(session, services[n % 4], intake.Trigger(title=f"alert {n}"), now)


def _deliveries(database: Database) -> Counter[tuple[str, str]]:
    """(incident, notification) pairs the log channel actually wrote, with their count."""
    with database.transaction() as session:
        rows = session.execute(
            select(IncidentLog.incident_id, IncidentLog.data).where(
                IncidentLog.kind == "page_logged"
            )
        ).all()
    return Counter((incident, str((data or {}).get("notification_id"))) for incident, data in rows)


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        total = session.scalar(select(func.count()).select_from(Notification)) or 0
        done = (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == NotificationStatus.sent)
            )
            or 0
        )
    return int(total), int(done)


def _check_exactly_once(database: Database, incidents: int, tiers: int) -> None:
    total, done = _counts(database)
    assert total == incidents * tiers, "one row per (incident, tier, person, rule), no more"
    assert done == total, "every page went out"
    with database.transaction() as session:
        rows = session.scalars(select(Notification)).all()
        carriers = {r.id: (r.bundled_into or r.id) for r in rows}
        by_incident = {r.id: r.incident_id or "" for r in rows}
    delivered = _deliveries(database)
    # Each notification went out once: either itself or inside one bundle, never twice.
    for notification_id, carrier in carriers.items():
        key = (by_incident[notification_id], carrier)
        assert delivered[key] == 1, (notification_id, delivered[key])
    assert all(count == 1 for count in delivered.values()), "a page was written twice"


def test_sigkilled_engine_restarts_and_loses_or_repeats_nothing(
    database: Database, factory: Factory, engines: Engines
) -> None:
    incidents, tiers = 30, 3
    _setup(database, factory, incidents, tiers, people=6)
    first = engines.start()
    engines.wait_until(lambda: _counts(database)[1] >= 25, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    stalled = _counts(database)
    assert stalled[1] < incidents * tiers, "the kill came in the middle of the work"
    engines.start()
    engines.wait_until(
        lambda: _counts(database) == (incidents * tiers, incidents * tiers), timeout=60
    )
    _check_exactly_once(database, incidents, tiers)


def test_two_engines_share_the_work_and_one_finishes_after_the_other_dies(
    database_url: str, database: Database, factory: Factory, engines: Engines
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several engines need PostgreSQL")
    incidents, tiers = 200, 2
    a = engines.start()
    engines.start()
    _setup(database, factory, incidents, tiers, people=20)
    engines.wait_until(lambda: _counts(database)[1] >= incidents // 2, timeout=60)
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=10)
    engines.wait_until(
        lambda: _counts(database) == (incidents * tiers, incidents * tiers), timeout=90
    )
    _check_exactly_once(database, incidents, tiers)
    with database.transaction() as session:
        claimers = {
            (c or "").split(":")[1]
            for c in session.scalars(select(Notification.claimed_by)).all()
            if c
        }
    assert len(claimers) >= 2, "both engines sent pages"
