"""Tables for events in: heartbeat monitors, maintenance windows, support hours, held pages,
change events."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, CreatedMixin, IdMixin, utcnow


def new_heartbeat_token() -> str:
    return secrets.token_urlsafe(24)


class SupportHoursRow(Base):
    """A service's support hours (zone + weekly windows) and its severity → urgency maps."""

    __tablename__ = "service_support_hours"

    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    #: ``[{"days": ["mon", ...] | null, "start": "HH:MM", "end": "HH:MM"}, ...]``
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: ``{"warning": "low", ...}``; a severity not named keeps its default urgency.
    urgency_during: Mapped[dict[str, str] | None] = mapped_column(JSON)
    urgency_outside: Mapped[dict[str, str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def id(self) -> str:
        """The service's id (what the audit log names this row by)."""
        return self.service_id


class MaintenanceWindow(IdMixin, CreatedMixin, Base):
    """While a window is on, events still open incidents, but nobody is paged.

    ``ends_at`` is None for "until I end it". ``closed_at`` is when the engine handled the end
    (paging what was held when ``page_on_end``, dropping it otherwise).
    """

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_pending_end", "closed_at", "ends_at"),)

    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    page_on_end: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    ended_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]


class IncidentHold(Base):
    """An incident whose paging waits: for a maintenance window to end, or for support hours.

    ``release_at`` is when the engine starts its escalation (after checking again); None while
    it waits for an open-ended maintenance window.
    """

    __tablename__ = "incident_holds"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(20))  # maintenance | support_hours
    window_id: Mapped[str | None] = mapped_column(
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"), index=True
    )
    release_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Heartbeat(IdMixin, CreatedMixin, Base):
    """A monitor that expects a ping every ``interval_seconds`` (+ ``grace_seconds``).

    It arms on its first ping; ``next_due_at`` is the durable timer the engine watches.
    """

    __tablename__ = "heartbeats"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    grace_seconds: Mapped[int] = mapped_column(Integer, default=0)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_heartbeat_token)
    last_ping_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    missed: Mapped[bool] = mapped_column(Boolean, default=False)


class ChangeEvent(IdMixin, Base):
    """A PagerDuty Change Event (a deploy, a config change) sent to a service's integration key.

    Never pages; shown beside the service's incidents (recent changes). ``happened_at`` is the
    event's own timestamp, or when it arrived.
    """

    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_service_id_happened_at", "service_id", "happened_at"),
    )

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str | None] = mapped_column(String(255))
    happened_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    custom_details: Mapped[Any | None] = mapped_column(JSON)
    #: ``[{"href", "text"?}]`` and ``[{"src", "href"?, "alt"?}]`` as sent.
    links: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    images: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
