"""Engine and session factory. SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from store.sqlite_writer import serialise_writers

SUPPORTED_URLS = "sqlite:///path/to/watchbill.db or postgresql+psycopg://user:password@host/db"


class DatabaseUrlError(ValueError):
    """``WATCHBILL_DATABASE_URL`` names no database Watchbill can use (the message says why
    and names the supported kinds)."""


def database_url(url: str) -> URL:
    """``url`` parsed and checked: SQLite (whose folder exists) or PostgreSQL through psycopg 3.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver Watchbill installs).
    Anything else is a :class:`DatabaseUrlError` naming the supported URLs, never a driver's
    import error or traceback.
    """
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise DatabaseUrlError(f"{url!r} is not a database URL; use {SUPPORTED_URLS}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            return parsed.set(drivername="postgresql+psycopg")
        if driver != "psycopg":
            raise DatabaseUrlError(
                f"the PostgreSQL driver {driver!r} is not supported; use {SUPPORTED_URLS}"
            )
        return parsed
    if backend == "sqlite":
        if parsed.drivername != "sqlite":
            raise DatabaseUrlError(
                f"the SQLite driver {driver!r} is not supported; use {SUPPORTED_URLS}"
            )
        path = sqlite_path(parsed)
        if path is not None and not path.parent.is_dir():
            raise DatabaseUrlError(f"the folder {path.parent} for the SQLite file does not exist")
        return parsed
    raise DatabaseUrlError(f"the database {backend!r} is not supported; use {SUPPORTED_URLS}")


def sqlite_path(url: str | URL) -> Path | None:
    """The absolute path of an SQLite URL's file; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: A pooled connection unused for longer than this is tested before it is handed out.
IDLE_PING_SECONDS = 5.0
_LAST_USED = "watchbill_last_used"


def make_engine(
    url: str, *, idle_ping_seconds: float | None = IDLE_PING_SECONDS, **kwargs: Any
) -> Engine:
    """Create an engine for ``url`` (checked by :func:`database_url`); SQLite gets WAL,
    foreign keys and a busy timeout."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 10}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's driver opens transactions lazily and never for SELECT; make BEGIN explicit
        # so that a unit of work is one transaction, as on PostgreSQL.
        event.listen(engine, "connect", _disable_pysqlite_autobegin)
        serialise_writers(engine)  # first: a transaction waits its turn before BEGIN
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(parsed, **kwargs)
    if idle_ping_seconds is not None:
        _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it has sat idle (after a database
    restart, say); a stale one is replaced, so the unit of work never sees it.

    SQLAlchemy's ``pool_pre_ping`` tests every checkout: a round trip per transaction, about
    a tenth of the events API's throughput. A connection in steady use needs no test (and
    if the server drops one mid-use, SQLAlchemy invalidates the pool on that error).
    """

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last <= idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError("pooled connection is gone; reconnecting") from exc

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()


def _disable_pysqlite_autobegin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so two writers queue on busy_timeout
    # instead of failing with "database is locked" on upgrade from a read transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def conninfo(url: str | URL) -> str:
    """libpq's connection string for a SQLAlchemy ``postgresql+psycopg://`` URL (for psycopg's
    own connections: the engine's LISTEN, the events API's async pool)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.url = self.engine.url.render_as_string(hide_password=False)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def session(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error. The one place we commit."""
        with self.sessionmaker() as session, session.begin():
            yield session

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A unit of work on a bare connection (no ORM), for work that on PostgreSQL is one
        statement: committed on success, rolled back on error.

        On PostgreSQL the connection is in autocommit: the statement is atomic by itself and
        commits as it ends, which saves the BEGIN and COMMIT round trips (two of three for a
        repeated event). Run one writing statement there, never two. On SQLite it is an
        ordinary transaction (the writer's turn, ``BEGIN IMMEDIATE``): there, statements cost
        no round trips and several may run.
        """
        if is_sqlite(self.engine):
            with self.engine.begin() as connection:
                yield connection
            return
        with self._autocommit.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
