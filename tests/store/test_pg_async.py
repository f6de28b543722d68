"""Statements on psycopg's async connections (PostgreSQL): values typed, dropped ones replaced."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import bindparam, literal, select, text

from escalation.models import IncidentStatus
from store.base import UtcDateTime
from store.db import Database
from store.pg_async import APPLICATION_NAME, AsyncStatement, async_pool


def test_constants_and_values_pass_through_their_column_types(postgres_url: str) -> None:
    statement = AsyncStatement(
        select(
            literal(IncidentStatus.resolved).label("status"),
            bindparam("b_at", type_=UtcDateTime()).label("at"),
        )
    )
    paris = timezone(timedelta(hours=1))

    async def run() -> tuple[object, ...] | None:
        pool = async_pool(postgres_url, max_size=1)
        await pool.open()
        try:
            async with pool.connection() as connection:
                return await statement.first(
                    connection, {"b_at": datetime(2026, 12, 1, 10, 0, tzinfo=paris)}
                )
        finally:
            await pool.close()

    row = asyncio.run(run())
    assert row is not None
    assert row[0] == "resolved"
    assert row[1] == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _terminate_pool_backends(url: str) -> int:
    killer = Database(url)
    try:
        with killer.transaction() as session:
            killed = session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            ).all()
        return len(killed)
    finally:
        killer.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    one = AsyncStatement(select(literal(1)))

    async def run() -> tuple[object, ...] | None:
        pool = async_pool(postgres_url, max_size=1, idle_ping_seconds=0.0)
        await pool.open(wait=True)
        try:
            async with pool.connection() as connection:
                await one.first(connection, {})
            # A server restart, say, while the connection sits in the pool.
            assert await asyncio.to_thread(_terminate_pool_backends, postgres_url) == 1
            await asyncio.sleep(0.2)
            async with pool.connection() as connection:
                return await one.first(connection, {})
        finally:
            await pool.close()

    assert asyncio.run(run()) == (1,)
