"""Web sessions: start at sign-in, find from the cookie's secret, end at sign-out or expiry.

The cookie carries a random 256-bit secret (signed by the web layer); the table keeps its
SHA-256 digest. A session ends after ``idle`` without a request or ``max_age`` after sign-in.
``last_seen_at`` is written at most once a minute, so reading pages costs no writes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from people import tokens
from people.auth_models import WebSession
from people.models import User
from people.service import may_sign_in

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    max_age: timedelta


def start(
    session: Session,
    user: User,
    now: datetime,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for ``user``; returns its secret (for the cookie only)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=tokens.digest(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=(address or "")[:64] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    return secret


def find(
    session: Session, secret: str, now: datetime, lifetime: Lifetime
) -> tuple[WebSession, User] | None:
    """The live session and its user for a cookie secret; None (and the row gone) if expired."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == tokens.digest(secret)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    expired = now - row.last_seen_at > lifetime.idle or now - row.created_at > lifetime.max_age
    if user is None or expired or not may_sign_in(user):
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row, user


def end(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == tokens.digest(secret)))


def end_all(session: Session, user_id: str) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
