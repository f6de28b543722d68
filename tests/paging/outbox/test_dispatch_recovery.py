"""Crash windows of the dispatcher, made deterministic with an injected clock.

A crash is a ``BaseException`` escaping the channel (as a killed process would stop there):
the claim is never recorded, its lease lapses, and another engine takes over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from escalation.models import IncidentLog
from paging.intake.trigger import Trigger, ingest
from paging.outbox.channel import Outgoing, SendResult
from paging.outbox.dispatch import Dispatcher
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.log.channel import LogChannel
from paging.providers.registry import CHANNEL_TYPES
from people.models import ContactType
from store.db import Database
from store.settings import Settings
from tests.factories import Factory


class Crash(BaseException):
    """Stands for the process dying at this point."""


class CrashingLog(LogChannel):
    def __init__(self, database: Database, *, before_send: bool) -> None:
        super().__init__(database)
        self.before_send = before_send

    def send(self, message: Outgoing) -> SendResult:
        if self.before_send:
            raise Crash
        super().send(message)
        raise Crash


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def pending(database: Database, factory: Factory) -> str:
    """One incident with one pending page (sms, to the log channel)."""
    person = factory.user()
    cm = factory.contact(person, ContactType.sms, "+12015550111")
    factory.rule(person, cm, 0)
    service = factory.service(person, name="s")
    with database.transaction() as session:
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        result = ingest(session, service, Trigger(title="db down"), now)
        return result.incident.id


def _dispatcher(
    database: Database, settings: Settings, clock: Clock, channel: LogChannel, name: str
) -> Dispatcher:
    return Dispatcher(
        database,
        settings,
        {},
        channel,
        engine_id=name,
        clock=clock,
        channel_types=CHANNEL_TYPES,
        lease=timedelta(seconds=30),
    )


def _logged_pages(database: Database, incident_id: str) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IncidentLog)
                .where(IncidentLog.incident_id == incident_id, IncidentLog.kind == "page_logged")
            )
            or 0
        )


def _status(database: Database, incident_id: str) -> NotificationStatus:
    with database.transaction() as session:
        row = session.scalars(
            select(Notification).where(Notification.incident_id == incident_id)
        ).one()
        return row.status


def test_crash_after_send_is_detected_and_not_sent_again(
    database: Database, settings: Settings, pending: str
) -> None:
    clock = Clock()
    first = _dispatcher(database, settings, clock, CrashingLog(database, before_send=False), "a")
    [claim] = first.claim()
    with pytest.raises(Crash):
        first.deliver(claim)
    assert _logged_pages(database, pending) == 1
    assert _status(database, pending) is NotificationStatus.sending

    second = _dispatcher(database, settings, clock, LogChannel(database), "b")
    assert second.claim() == [], "the lease still holds"
    clock.now += timedelta(seconds=31)
    [takeover] = second.claim()
    assert takeover.recheck_since is not None
    second.deliver(takeover)
    assert _logged_pages(database, pending) == 1, "the re-check found it; no second page"
    assert _status(database, pending) is NotificationStatus.sent


def test_crash_before_send_is_sent_after_the_lease_lapses(
    database: Database, settings: Settings, pending: str
) -> None:
    clock = Clock()
    first = _dispatcher(database, settings, clock, CrashingLog(database, before_send=True), "a")
    [claim] = first.claim()
    with pytest.raises(Crash):
        first.deliver(claim)
    assert _logged_pages(database, pending) == 0
    clock.now += timedelta(seconds=31)
    second = _dispatcher(database, settings, clock, LogChannel(database), "b")
    [takeover] = second.claim()
    second.deliver(takeover)
    assert _logged_pages(database, pending) == 1
    assert _status(database, pending) is NotificationStatus.sent


def test_late_result_of_a_lapsed_claim_is_ignored(
    database: Database, settings: Settings, pending: str
) -> None:
    """The first engine wakes up after its lease lapsed and another took over: its record is
    dropped, so the row is not written twice."""
    clock = Clock()
    first = _dispatcher(database, settings, clock, LogChannel(database), "a")
    [claim] = first.claim()
    clock.now += timedelta(seconds=31)
    second = _dispatcher(database, settings, clock, LogChannel(database), "b")
    [takeover] = second.claim()
    second.deliver(takeover)
    first.deliver(claim)  # too late: the rows are no longer held by its token
    assert _logged_pages(database, pending) == 1
    with database.transaction() as session:
        row = session.scalars(select(Notification).where(Notification.incident_id == pending)).one()
        assert row.claimed_by == takeover.token
        assert row.status is NotificationStatus.sent
