"""The dispatcher's batching: messages built with the claim, results written by group commit,
and an idle engine tick that costs one query."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text

from escalation import incidents as incident_rows
from escalation.models import IncidentLog
from paging.engine.loop import Engine
from paging.intake.trigger import Trigger, ingest
from paging.outbox import sent_lately
from paging.outbox.channel import Outcome, Outgoing, SendResult
from paging.outbox.claims import Claim
from paging.outbox.dispatch import RECHECK_AFTER, Dispatcher
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.log.channel import LogChannel
from paging.providers.registry import CHANNEL_TYPES
from paging.response import actions
from people.models import ContactType
from store.db import Database
from store.settings import Settings
from tests.factories import Factory

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Gathering:
    """A provider that holds every send until ``count`` of them have arrived at once."""

    name = "gathering"

    def __init__(self, count: int) -> None:
        self.barrier = threading.Barrier(count, timeout=30)

    def send(self, message: Outgoing) -> SendResult:
        self.barrier.wait()
        return SendResult(Outcome.sent, provider_id=f"g-{message.notification_id}")

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        return None


def _incidents(database: Database, factory: Factory, count: int) -> list[str]:
    """``count`` incidents, each with one pending SMS page to its own number."""
    ids = []
    for i in range(count):
        person = factory.user()
        cm = factory.contact(person, ContactType.sms, f"+1201555{i:04d}")
        factory.rule(person, cm, 0)
        service = factory.service(person, name=f"s{i}")
        with database.transaction() as session:
            result = ingest(session, service, Trigger(title=f"disk {i}"), T0)
            ids.append(result.incident.id)
    return ids


def _dispatcher(
    database: Database, settings: Settings, clock: Clock, channel: object = None
) -> Dispatcher:
    return Dispatcher(
        database,
        settings,
        {"sms": channel} if channel is not None else {},  # type: ignore[dict-item]
        LogChannel(database, render=CHANNEL_TYPES.render),
        engine_id="t",
        clock=clock,
        channel_types=CHANNEL_TYPES,
        lease=timedelta(seconds=30),
    )


def _page_count(database: Database, incident_id: str, kind: str = "page_logged") -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IncidentLog)
                .where(IncidentLog.incident_id == incident_id, IncidentLog.kind == kind)
            )
            or 0
        )


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_claim_builds_the_message_so_a_prompt_delivery_sends_it_as_built(
    database: Database, settings: Settings, factory: Factory
) -> None:
    [incident_id] = _incidents(database, factory, 1)
    clock = Clock()
    dispatcher = _dispatcher(database, settings, clock)
    [claim] = dispatcher.claim()
    assert claim.message is not None and claim.message.incidents[0].id == incident_id
    with _statements(database) as seen:
        dispatcher.deliver(claim)
    # The log channel's insert, then the record (rows, incidents, users, update, log):
    # no renewal transaction that reads the rows, incident, service and user again.
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 3, seen
    assert _page_count(database, incident_id) == 1
    assert _page_count(database, incident_id, "notified") == 1


def test_a_claim_that_waited_is_rechecked_and_an_acknowledged_incident_is_not_paged(
    database: Database, settings: Settings, factory: Factory
) -> None:
    [incident_id] = _incidents(database, factory, 1)
    clock = Clock()
    dispatcher = _dispatcher(database, settings, clock)
    [claim] = dispatcher.claim()
    with database.transaction() as session:
        incident = incident_rows.get_incident(session, incident_id)
        actions.acknowledge(session, incident, "Ada", "api", clock())
    clock.now += RECHECK_AFTER + timedelta(seconds=1)  # the send pool was busy
    dispatcher.deliver(claim)
    assert _page_count(database, incident_id) == 0
    with database.transaction() as session:
        row = session.scalars(
            select(Notification).where(Notification.incident_id == incident_id)
        ).one()
        assert row.status is NotificationStatus.cancelled


def test_a_claim_that_waited_renews_its_lease_and_is_sent(
    database: Database, settings: Settings, factory: Factory
) -> None:
    [incident_id] = _incidents(database, factory, 1)
    clock = Clock()
    dispatcher = _dispatcher(database, settings, clock)
    [claim] = dispatcher.claim()
    clock.now += timedelta(seconds=20)  # waited, but within its 30 s lease
    dispatcher.deliver(claim)
    assert _page_count(database, incident_id) == 1
    assert _page_count(database, incident_id, "notified") == 1


def _hold_notification_rows(database: Database) -> Iterator[None]:
    """Keep the recorder's first write waiting: hold the rows (PostgreSQL) or the write lock
    (SQLite) in another transaction."""
    with database.transaction() as session:
        session.connection()  # begins: on SQLite, BEGIN IMMEDIATE takes the write lock
        if database.engine.dialect.name == "postgresql":
            session.execute(text("SELECT id FROM notifications FOR UPDATE"))
        yield


def test_results_arriving_together_are_written_in_one_transaction(
    database: Database, settings: Settings, factory: Factory
) -> None:
    count = 8
    incident_ids = _incidents(database, factory, count)
    clock = Clock()
    dispatcher = _dispatcher(database, settings, clock, Gathering(count))
    claims = dispatcher.claim()
    assert len(claims) == count
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(database.engine, "commit", committed)
    try:
        holder = _hold_notification_rows(database)
        next(holder)  # the first writer blocks; the other results queue behind it
        threads = [threading.Thread(target=dispatcher.deliver, args=(c,)) for c in claims]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while dispatcher.recorder.waiting < count - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.recorder.waiting == count - 1
        next(holder, None)  # commit: the first writer goes on
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(database.engine, "commit", committed)
    # The holder's commit, the first writer's own result, then the seven waiting ones at once.
    assert len(commits) == 3
    for incident_id in incident_ids:
        assert _page_count(database, incident_id, "notified") == 1
    with database.transaction() as session:
        statuses = set(session.scalars(select(Notification.status)))
    assert statuses == {NotificationStatus.sent}


def test_one_result_failing_to_be_written_does_not_cost_the_others_theirs(
    database: Database, settings: Settings, factory: Factory
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce column lengths")
    [first, second] = _incidents(database, factory, 2)
    clock = Clock()
    dispatcher = _dispatcher(database, settings, clock)
    claims = {c.message.incidents[0].id: c for c in dispatcher.claim() if c.message}
    good, bad = claims[first], claims[second]
    broken = SendResult(Outcome.sent, provider_id="x" * 10_000)  # too long for its column
    recorder = dispatcher.recorder
    errors: list[BaseException] = []

    def record(claim: Claim, result: SendResult) -> None:
        try:
            recorder.record(claim.carrier_id, claim.token, claim.live_ids, result)
        except Exception as exc:
            errors.append(exc)

    sent = SendResult(Outcome.sent, provider_id="ok")
    threads = [
        threading.Thread(target=record, args=(bad, broken)),
        threading.Thread(target=record, args=(good, sent)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 1
    assert _page_count(database, first, "notified") == 1
    assert _page_count(database, second, "notified") == 0


def test_an_idle_engine_tick_costs_one_query(database: Database, settings: Settings) -> None:
    engine = Engine(database, settings)  # not started: run_once is the tick's work
    with _statements(database) as seen:
        assert engine.run_once() is None
    assert len([s for s in seen if "SELECT" in s.upper()]) == 1, seen


def test_one_incident_failing_its_step_does_not_hold_back_the_rest_of_the_batch(
    database: Database, settings: Settings, factory: Factory
) -> None:
    incident_ids = _incidents(database, factory, 3)
    with database.transaction() as session:  # a policy that no longer exists: its step fails
        poisoned = incident_rows.get_incident(session, incident_ids[0])
        poisoned.policy_id = "gone"
    clock = Clock()
    clock.now = T0 + timedelta(seconds=601)  # tier 1's delay is 600 s: all three are due
    engine = Engine(database, settings, clock=clock)
    engine.run_once()
    exhausted = [_page_count(database, i, "escalation_exhausted") for i in incident_ids]
    assert exhausted == [0, 1, 1]


def test_what_went_to_a_number_lately_counts_sends_in_the_window_and_sends_under_way(
    database: Database, factory: Factory, settings: Settings
) -> None:
    """Bundling asks this on every pass that plans pages; a number's long history is read as
    a range of (address, sent_at), and each kind of row is counted as before."""
    [incident_id] = _incidents(database, factory, 1)
    dispatcher = _dispatcher(database, settings, Clock())
    window = dispatcher.burst_window
    address = "+12015550000"
    with database.transaction() as session:
        [pending] = session.scalars(select(Notification)).all()

        def row(tier: int, status: NotificationStatus, **values: object) -> Notification:
            values = {"address": address, **values}
            added = Notification(
                kind="page",
                incident_id=incident_id,
                epoch=0,
                loop=0,
                tier=tier,
                user_id=pending.user_id,
                rule_id=pending.rule_id,
                contact_method_id=pending.contact_method_id,
                channel="sms",
                send_at=T0 - 2 * window,
                status=status,
                **values,
            )
            session.add(added)
            session.flush()
            return added

        sent, sending = NotificationStatus.sent, NotificationStatus.sending
        row(1, sent, sent_at=T0 - 2 * window)  # long ago
        carrier = row(2, sent, sent_at=T0 - window / 2)
        row(3, sending, claimed_at=T0 - window / 4)  # under way
        row(4, sending, claimed_at=T0 - 2 * window)  # a lease long lapsed
        row(5, sent, sent_at=T0 - window / 2, bundled_into=carrier.id)  # the same message
        row(6, sent, sent_at=T0 - window / 8, address="+12015559999")  # another number
        recent = sent_lately.sends_since(session, [("sms", address)], T0 - window)
    found = {key: sorted(s.at for s in sends) for key, sends in recent.items()}
    assert found == {("sms", address): [T0 - window / 2, T0 - window / 4]}
