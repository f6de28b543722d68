"""The engine's LISTEN connection (PostgreSQL): one for good, so no wake-up is lost."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from paging.engine import wake
from paging.engine.loop import Engine
from store.db import Database
from store.settings import Settings
from tests.waiting import wait_until

_LISTENERS = text(
    "SELECT pid FROM pg_stat_activity "
    "WHERE datname = current_database() AND query = :listen AND pid <> pg_backend_pid()"
)


def _listeners(database: Database) -> list[int]:
    with database.engine.connect() as connection:
        found = connection.execute(_LISTENERS, {"listen": f"LISTEN {wake.CHANNEL}"})
        return [int(pid) for (pid,) in found]


def test_the_engine_listens_on_one_connection_for_good(
    database_url: str, database: Database, settings: Settings
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    engine = Engine(database, settings)
    engine.start()
    try:
        wait_until(lambda: len(_listeners(database)) == 1, timeout=10)
        [first] = _listeners(database)
        seen = set()
        deadline = time.monotonic() + 3  # three of its one-second waits
        while time.monotonic() < deadline:
            seen.update(_listeners(database))
            time.sleep(0.05)
        # Reconnecting to wait again would leave moments when a NOTIFY reaches nobody.
        assert seen == {first}
    finally:
        engine.stop()
