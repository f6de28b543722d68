"""A pooled PostgreSQL connection the server dropped (a restart, say) is never handed out."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from store.db import Database


def _drop_server_side(url: str, database: Database) -> None:
    """Terminate every backend of ``database``'s pool, as a server restart would."""
    with database.transaction() as session:
        pids = [session.scalar(text("SELECT pg_backend_pid()"))]
    killer = Database(url)
    try:
        with killer.transaction() as session:
            for pid in pids:
                session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


def _one(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(text("SELECT 1")) or 0)


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    database = Database(postgres_url, idle_ping_seconds=0.0, pool_size=1, max_overflow=0)
    try:
        _drop_server_side(postgres_url, database)
        assert _one(database) == 1
    finally:
        database.dispose()


def test_without_the_idle_check_the_dropped_connection_fails_the_unit_of_work(
    postgres_url: str,
) -> None:
    """The contrast: what the idle check saves a request from."""
    database = Database(postgres_url, idle_ping_seconds=None, pool_size=1, max_overflow=0)
    try:
        _drop_server_side(postgres_url, database)
        with pytest.raises(OperationalError):
            _one(database)
        assert _one(database) == 1  # and the pool recovers by itself afterwards
    finally:
        database.dispose()
