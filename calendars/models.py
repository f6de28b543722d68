"""Calendar tables: what each feed last rendered, and imported calendars.

``calendar_feed_events``
    One row per event a feed has shown (``feed_key`` is ``schedule:<id>`` or ``user:<id>``).
    It keeps the event's UID while the shift lasts, its content fingerprint, SEQUENCE and
    LAST-MODIFIED: when the fingerprint changes, SEQUENCE is bumped and LAST-MODIFIED set, so
    calendar clients update the event instead of showing a duplicate.
``calendar_feed_renders``
    The validator of the last answer per feed and option set: a digest of every input, the
    strong ETag of the body it gave and when that body last changed (``Last-Modified``). An
    unchanged digest answers ``If-None-Match`` without rendering.
``calendar_imports`` and ``calendar_import_overrides``
    An external calendar (a URL refreshed on a timer, or an uploaded file) feeding a schedule's
    overrides, the overrides it created, and the report of its last refresh (unmatched events).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from escalation.models import EscalationPolicy, EscalationTarget, EscalationTier
from people.models import User
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer, ScheduleOverride
from store.base import Base, CreatedMixin, IdMixin


class FeedEventState(IdMixin, Base):
    __tablename__ = "calendar_feed_events"
    __table_args__ = (
        UniqueConstraint("feed_key", "uid"),
        Index("ix_calendar_feed_events_feed_key_end", "feed_key", "end"),
    )

    feed_key: Mapped[str] = mapped_column(String(80))
    uid: Mapped[str] = mapped_column(String(200))
    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    #: The person on call; NULL for a coverage gap.
    #: (no foreign key: a layer may still name a user who was deleted since).
    user_id: Mapped[str | None] = mapped_column(String(32))
    start: Mapped[datetime]
    end: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    last_modified: Mapped[datetime]


class FeedRender(Base):
    __tablename__ = "calendar_feed_renders"

    feed_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    #: The query options (window lengths, alarm, gaps) the answer was for.
    variant: Mapped[str] = mapped_column(String(80), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    #: Digest of (change counter, window, options, the feed's rows) when ``digest`` last held.
    stamp: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime]


class CalendarChange(Base):
    __tablename__ = "calendar_changes"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class CalendarImport(IdMixin, CreatedMixin, Base):
    __tablename__ = "calendar_imports"

    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    #: Where the calendar is fetched from; NULL for an uploaded file (kept in ``content``).
    source_url: Mapped[str | None] = mapped_column(String(2048))
    content: Mapped[str | None] = mapped_column(Text)
    #: What the events become: ``overrides`` of the schedule.
    target: Mapped[str] = mapped_column(String(20), default="overrides")
    time_zone: Mapped[str] = mapped_column(String(64))
    refresh_seconds: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    next_refresh_at: Mapped[datetime | None] = mapped_column(index=True)
    #: An engine working on this import holds it until then.
    claimed_until: Mapped[datetime | None]
    last_refresh_at: Mapped[datetime | None]
    #: ``pending``, ``ok`` or ``error``.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The last refresh: counts, warnings and every unmatched event.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ImportedOverride(IdMixin, Base):
    """An override created for one occurrence of an imported event."""

    __tablename__ = "calendar_import_overrides"
    __table_args__ = (UniqueConstraint("import_id", "event_key"),)

    import_id: Mapped[str] = mapped_column(
        ForeignKey("calendar_imports.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of (event UID, start, end, user): what the override stands for.
    event_key: Mapped[str] = mapped_column(String(64))
    #: The override made for it (no foreign key: if someone deletes that override by hand,
    #: the link stays, so the next refresh does not put it back).
    override_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[datetime]
    end: Mapped[datetime]


#: Rows whose change may change a feed (see ``calendar_changes``).
WATCHED: tuple[type, ...] = (
    Schedule,
    ScheduleLayer,
    LayerVersionRow,
    ScheduleOverride,
    User,
    EscalationPolicy,
    EscalationTier,
    EscalationTarget,
)
CHANGES_SCOPE = "all"
_BUMP = text(
    "INSERT INTO calendar_changes (scope, counter) VALUES (:scope, 1) "
    "ON CONFLICT (scope) DO UPDATE SET counter = calendar_changes.counter + 1"
)


def bump(session: Session, scope: str = CHANGES_SCOPE) -> None:
    """Count a change in ``scope`` (in the session's transaction; SQLite and PostgreSQL)."""
    session.connection().execute(_BUMP, {"scope": scope})


_FLAG = "watchbill.calendars.changed"


@event.listens_for(Session, "after_begin")
def _reset(session: Session, transaction: SessionTransaction, _connection: object) -> None:
    if not transaction.nested:
        session.info.pop(_FLAG, None)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: object) -> None:
    """Remember whether a flush of this transaction wrote a watched row."""
    if not session.info.get(_FLAG) and any(
        isinstance(obj, WATCHED) for objs in (session.new, session.deleted, session.dirty)
        for obj in objs
    ):  # fmt: skip
        session.info[_FLAG] = True


@event.listens_for(Session, "before_commit")
def _count_changes(session: Session) -> None:
    """Bump the ``all`` counter as the transaction's last write.

    Taken last, the counter's row lock is held only while committing, so writers queue on
    it briefly and never deadlock over it.
    """
    session.flush()
    if session.info.pop(_FLAG, False):
        bump(session)
