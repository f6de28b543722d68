"""Tables of web sign-in: sessions (by token digest) and sign-in attempts (for rate limits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, CreatedMixin, IdMixin


class WebSession(IdMixin, CreatedMixin, Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 digest is kept,
    so a copy of the database signs nobody in. Ended by signing out, by idle time (after
    ``last_seen_at``), by age (``created_at``), by a password change, or with its user."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[datetime]
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class SignInAttempt(IdMixin, Base):
    """One try to sign in, kept a day: failures per account and per address are rate-limited."""

    __tablename__ = "sign_in_attempts"

    at: Mapped[datetime] = mapped_column(index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
