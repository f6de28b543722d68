from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from store import migrate
from store.db import Database
from store.migrations.tables import metadata
from tests import dbtools


def _check_up_down_up(database: Database) -> None:
    assert migrate.current_revision(database.engine) is None
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    migrate.downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision(database.engine)


def test_sqlite_migrates_up_from_empty_and_back(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    _check_up_down_up(database)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_postgresql_migrates_up_from_empty_and_back() -> None:
    server = dbtools.pg_server_url()
    if server is None:
        pytest.skip("WATCHBILL_TEST_DATABASE_URL not set")
    with dbtools.postgres_database(server) as url:
        database = Database(url)
        _check_up_down_up(database)
        database.dispose()


def test_models_match_migrations(database: Database) -> None:
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
