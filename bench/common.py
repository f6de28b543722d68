"""What the benchmarks share: scratch databases, percentiles, and responders to page."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paging.providers.registry import wire
from people import contacts
from people import service as people
from people.models import ContactType, Urgency, UserRole
from store import migrate
from store.audit import Actor
from store.db import Database
from store.settings import Settings

#: The PostgreSQL server scratch databases are made on (the test suite's, when it is set).
PG_SERVER = os.environ.get(
    "WATCHBILL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ACTOR = Actor.system("bench")

wire(Settings(_env_file=None))  # the providers' contact kinds, as the app does at start-up


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextmanager
def scratch_url(kind: str, pg_server: str = PG_SERVER) -> Iterator[str]:
    """The URL of a migrated, empty database of ``kind`` ("sqlite" or "postgresql"): a
    temporary file, or a database made on ``pg_server``; removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    name = f"watchbill_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scratch_database(kind: str, pg_server: str = PG_SERVER) -> Iterator[Database]:
    """A :class:`Database` on :func:`scratch_url`."""
    with scratch_url(kind, pg_server) as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


def _migrate(url: str) -> None:
    database = Database(url)
    migrate.upgrade(database.engine)
    database.dispose()


def responder(session: Session, n: int, urgencies: Sequence[Urgency] = (Urgency.high,)) -> str:
    """User number ``n`` with an SMS number paged at once for each urgency; their id."""
    user = people.create_user(
        session,
        ACTOR,
        name=f"Bench Responder {n}",
        email=f"bench{n}@example.com",
        time_zone="UTC",
        role=UserRole.member,
    )
    session.flush()
    cm, _ = contacts.create_contact_method(
        session,
        ACTOR,
        user.id,
        kind=ContactType.sms,
        address=f"+1201555{n:04d}",
        now=datetime.now(UTC),
    )
    for urgency in urgencies:
        contacts.create_rule(
            session, ACTOR, user.id, contact_method_id=cm.id, delay_seconds=0, urgency=urgency
        )
    return user.id
