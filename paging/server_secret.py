"""The server's signing secret: ``WATCHBILL_SECRET_KEY``, or one generated once and stored.

With no key configured, the first caller generates 256 random bits and stores them in
``server_secrets``; every process sharing the database then signs with the same key, and links
survive restarts. Concurrent first callers race on the primary key; the loser reads the winner's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, utcnow
from store.settings import Settings

SIGNING_KEY = "signing-key"


class ServerSecret(Base):
    """Secrets the server makes for itself (the link-signing key when none is configured)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _stored(session: Session, name: str) -> str | None:
    row = session.get(ServerSecret, name, populate_existing=True)
    return row.value if row is not None else None


def server_secret(
    session: Session, settings: Settings, now: datetime, *, create: bool = True
) -> bytes | None:
    """The configured or stored secret; None only when ``create`` is false and none exists."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    value = _stored(session, SIGNING_KEY)
    if value is None and create:
        try:
            with session.begin_nested():
                session.add(
                    ServerSecret(name=SIGNING_KEY, value=secrets.token_hex(32), created_at=now)
                )
        except IntegrityError:
            pass  # another process stored one first
        value = _stored(session, SIGNING_KEY)
    return value.encode() if value is not None else None


def derive(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so one secret can sign several kinds of things safely."""
    return hmac.new(secret, f"watchbill:{purpose}".encode(), hashlib.sha256).digest()


def signing_secret(session: Session, settings: Settings, now: datetime) -> bytes:
    """The secret, for signing inside a long transaction (the engine's claim).

    When none exists yet, on PostgreSQL it is stored in a transaction of its own: the claim
    transaction must not hold the new row, or a second engine's claim waits on it while
    holding what the first one needs next (a deadlock). SQLite has one writer at a time, so
    there it is stored in the caller's transaction.
    """
    found = server_secret(session, settings, now, create=False)
    if found is not None:
        return found
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        with Session(bind) as own, own.begin():
            server_secret(own, settings, now)
    created = server_secret(session, settings, now)
    assert created is not None
    return created
