"""Test databases: a fresh SQLite file per test, or a PostgreSQL database per run and worker.

``WATCHBILL_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
names a server to use; each test run creates its own database there, so runs never collide.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import migrate
from store.db import Database
from store.migrations.tables import metadata

PG_ENV = "WATCHBILL_TEST_DATABASE_URL"


def pg_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    name = f"watchbill_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    database.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def fresh_sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / f"watchbill-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def truncate_all(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def backends() -> list[str]:
    """The databases the suite runs on: SQLite always, PostgreSQL when configured."""
    return ["sqlite", "postgresql"] if pg_server_url() else ["sqlite"]


@contextmanager
def own_database(kind: str, directory: Path) -> Iterator[str]:
    """A migrated database of its own (for fixtures wider than a test), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{migrated_sqlite_template(directory)}"
        return
    server = pg_server_url()
    assert server is not None
    with postgres_database(server) as url:
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        yield url
