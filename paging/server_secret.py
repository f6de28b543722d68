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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paging.twoway_models import ServerSecret
from store.settings import Settings

SIGNING_KEY = "signing-key"


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
