"""Real engine processes: SIGKILL in the middle of escalations; two engines on PostgreSQL.

The engines page through the Twilio fake over HTTP, which holds its answers back when the test
says: so the kill lands while sends are in flight (accepted by "Twilio", not yet recorded), by
arrangement, never by timing.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from escalation import service as escalation
from escalation.models import Incident, TargetType
from paging.intake.trigger import Trigger, ingest
from paging.outbox.models import Notification, NotificationStatus
from people.models import ContactType
from store.audit import Actor
from store.db import Database
from tests.factories import Factory
from tests.fakes.twilio_fake import TwilioFake
from tests.waiting import wait_until

ENGINE = [sys.executable, "-c", "from api.cli import main; main()", "engine"]
OURS = "+12015550100"
DONE = (NotificationStatus.sent, NotificationStatus.delivered)


class Engines:
    def __init__(self, url: str, logs: Path, twilio: TwilioFake) -> None:
        self.url = url
        self.logs = logs
        self.twilio = twilio
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
        env.update(
            WATCHBILL_DATABASE_URL=self.url,
            WATCHBILL_ENGINE_LEASE_SECONDS="5",
            WATCHBILL_ENGINE_SWEEP_SECONDS="0.5",
            WATCHBILL_TWILIO_ACCOUNT_SID=self.twilio.account_sid,
            WATCHBILL_TWILIO_AUTH_TOKEN=self.twilio.auth_token,
            WATCHBILL_TWILIO_FROM=OURS,
            WATCHBILL_TWILIO_API_URL=self.twilio.url,
            # Held answers must outlast the test's wait for its preconditions.
            WATCHBILL_TWILIO_TIMEOUT_SECONDS="60",
            # Nobody listens for the fake's status callbacks: the engine runs alone.
            WATCHBILL_PUBLIC_URL="http://127.0.0.1:9",
            # Every page a message of its own (storm bundling is tested elsewhere).
            WATCHBILL_PAGE_BURST="100000",
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
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake() as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def engines(database_url: str, tmp_path: Path, twilio: TwilioFake) -> Iterator[Engines]:
    running = Engines(database_url, tmp_path, twilio)
    yield running
    twilio.release_answers()
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
            ingest(session, services[n % 4], Trigger(title=f"alert {n}"), now)


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        total = session.scalar(select(func.count()).select_from(Notification)) or 0
        done = (
            session.scalar(
                select(func.count()).select_from(Notification).where(Notification.status.in_(DONE))
            )
            or 0
        )
    return int(total), int(done)


def _claimed(database: Database) -> dict[str, str]:
    """The rows being sent right now, by the engine (host:pid) that claimed them."""
    with database.transaction() as session:
        rows = session.execute(
            select(Notification.id, Notification.claimed_by).where(
                Notification.status == NotificationStatus.sending
            )
        ).all()
    return {row_id: ":".join((by or "").split(":")[:2]) for row_id, by in rows}


def _check_exactly_once(database: Database, twilio: TwilioFake, total: int) -> None:
    """Every page is one text at the fake, none twice, and recorded as sent."""
    assert _counts(database) == (total, total), "one row per step, every one sent"
    with database.transaction() as session:
        rows = session.execute(
            select(Notification.address, Notification.incident_id, Notification.provider_id)
        ).all()
        by_title = {t: i for t, i in session.execute(select(Incident.title, Incident.id))}
    # A page names its incident by its title ("alert 12", unique here); its link is a token.
    texts: Counter[tuple[str, str | None]] = Counter(
        (m.to, by_title[match.group(1)])
        for m in twilio.messages
        if (match := re.search(r"\b(alert \d+)\b", m.body))
    )
    twice = sorted(key for key, count in texts.items() if count > 1)
    assert not twice, f"sent twice (number, incident): {twice}"
    assert len(twilio.messages) == total, "a page was sent twice, or one was lost"
    assert all(texts[(address, incident)] == 1 for address, incident, _ in rows)
    sids = {m.sid for m in twilio.messages}
    assert {provider for *_, provider in rows} == sids, "each row records its own text"


def test_sigkilled_engine_restarts_and_loses_or_repeats_nothing(
    database: Database, factory: Factory, engines: Engines, twilio: TwilioFake
) -> None:
    incidents, tiers = 30, 3
    total = incidents * tiers
    # 25 texts are answered; from the 26th on, "Twilio" accepts and sends them but its
    # answers are held: the engine cannot finish, and dies with sends in flight.
    twilio.hold_answers(after=25)
    _setup(database, factory, incidents, tiers, people=6)
    first = engines.start()
    engines.wait_until(lambda: twilio.unanswered > 0 and _counts(database)[1] >= 25, timeout=30)
    in_flight = set(_claimed(database))
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert in_flight and _counts(database)[1] < total, "the kill came in the middle of the work"
    twilio.release_answers()  # too late for the dead engine: it never learns they went out
    engines.start()
    engines.wait_until(lambda: _counts(database) == (total, total), timeout=60)
    _check_exactly_once(database, twilio, total)


def test_two_engines_share_the_work_and_one_finishes_after_the_other_dies(
    database_url: str,
    database: Database,
    factory: Factory,
    engines: Engines,
    twilio: TwilioFake,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several engines need PostgreSQL")
    incidents, tiers = 200, 2
    total = incidents * tiers
    twilio.hold_answers()  # every send stays in flight until both engines have their share
    a = engines.start()
    engines.start()
    _setup(database, factory, incidents, tiers, people=20)

    def both_at_work() -> bool:
        return len(set(_claimed(database).values())) == 2

    engines.wait_until(both_at_work, timeout=30)
    a_name = f"{socket.gethostname()}:{a.pid}"
    a_claims = {row for row, by in _claimed(database).items() if by == a_name}
    assert a_claims, "the engine to be killed holds sends in flight"
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=10)
    twilio.release_answers()
    engines.wait_until(lambda: _counts(database) == (total, total), timeout=90)
    _check_exactly_once(database, twilio, total)
    with database.transaction() as session:
        taken_over = session.scalars(
            select(Notification.claimed_by).where(Notification.id.in_(a_claims))
        ).all()
    assert all(by and not by.startswith(a_name + ":") for by in taken_over), (
        "the survivor finished the dead engine's sends"
    )
