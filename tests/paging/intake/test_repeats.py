"""The repeat counter: a trigger on an open incident is counted and logged, the same on every
database (SQLite's two statements, PostgreSQL's one, and PostgreSQL's from the event loop)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from escalation.models import Incident, IncidentLog, Service
from paging.intake import repeats
from paging.intake.repeats import Repeat, Repeating
from paging.intake.trigger import Trigger, ingest
from paging.response import actions
from store.db import Database
from store.pg_async import async_pool
from tests.factories import Factory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VIA = "Events API v2"


def _opened(database: Database, factory: Factory) -> tuple[Service, Incident]:
    service = factory.service(factory.user())
    with database.transaction() as session:
        row = session.get(Service, service.id)
        assert row is not None
        incident = ingest(session, row, Trigger(title="Disk full", dedup_key="disk"), T0).incident
        session.expunge(incident)
    return service, incident


def _repeats_logged(database: Database, incident_id: str) -> list[tuple[str, object, datetime]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(IncidentLog)
            .where(IncidentLog.incident_id == incident_id, IncidentLog.kind == "deduplicated")
            .order_by(IncidentLog.at)
        )
        return [(e.message, e.data, e.at) for e in rows]


def test_a_repeat_is_counted_on_the_open_incident_by_service_or_by_key(
    database: Database, factory: Factory
) -> None:
    service, incident = _opened(database, factory)
    by_id = Repeating("disk", VIA, service_id=service.id)
    by_key = Repeating("disk", VIA, routing_key=service.integration_key)
    at = [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    with database.single_statement() as connection:
        assert repeats.count(connection, by_id, at[0]) == Repeat(incident.id, 2)
    with database.single_statement() as connection:
        assert repeats.count(connection, by_key, at[1]) == Repeat(incident.id, 3)
    assert _repeats_logged(database, incident.id) == [
        ("Triggered again via Events API v2 (#2); not paged again", {"count": 2}, at[0]),
        ("Triggered again via Events API v2 (#3); not paged again", {"count": 3}, at[1]),
    ]
    with database.transaction() as session:
        row = session.get(Incident, incident.id)
        assert row is not None and (row.trigger_count, row.updated_at) == (3, at[1])


def test_the_message_is_the_one_every_database_writes() -> None:
    assert repeats.message("heartbeat monitor", 7) == (
        "Triggered again via heartbeat monitor (#7); not paged again"
    )


def test_nothing_is_counted_when_nothing_is_open_with_the_key(
    database: Database, factory: Factory
) -> None:
    service, incident = _opened(database, factory)
    with database.single_statement() as connection:
        other = Repeating("other", VIA, service_id=service.id)
        assert repeats.count(connection, other, T0) is None
        unknown = Repeating("disk", VIA, routing_key="no-such-key")
        assert repeats.count(connection, unknown, T0) is None
    with database.transaction() as session:
        row = session.get(Incident, incident.id)
        assert row is not None
        actions.resolve(session, row, "ops", "api", T0 + timedelta(minutes=1))
    with database.single_statement() as connection:
        resolved = Repeating("disk", VIA, service_id=service.id)
        assert repeats.count(connection, resolved, T0 + timedelta(minutes=2)) is None
    assert _repeats_logged(database, incident.id) == []


def test_a_repeat_names_its_service_one_way() -> None:
    with pytest.raises(ValueError):
        Repeating("disk", VIA)
    with pytest.raises(ValueError):
        Repeating("disk", VIA, service_id="s", routing_key="k")


def test_counted_in_the_event_loop_it_is_the_same_count_and_entry(
    database: Database, database_url: str, factory: Factory
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the event loop counts on psycopg's async connections (PostgreSQL)")
    service, incident = _opened(database, factory)
    at = T0 + timedelta(minutes=1)

    async def count() -> Repeat | None:
        pool = async_pool(database_url, max_size=1)
        await pool.open()
        try:
            async with pool.connection() as connection:
                of = Repeating("disk", VIA, routing_key=service.integration_key)
                return await repeats.count_async(connection, of, at)
        finally:
            await pool.close()

    assert asyncio.run(count()) == Repeat(incident.id, 2)
    assert _repeats_logged(database, incident.id) == [
        ("Triggered again via Events API v2 (#2); not paged again", {"count": 2}, at)
    ]
