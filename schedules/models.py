"""Schedule tables: the schedule, its layers, their version history and overrides.

History is append-only where it matters: an edit adds a ``schedule_layer_versions`` row in
force from its ``effective_from`` (earlier rows stay), and an override that has started is
truncated (``end`` moved to the deletion instant, ``cancelled_at`` set) rather than deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from people.models import new_feed_token
from store.base import Base, CreatedMixin, IdMixin


class Schedule(IdMixin, CreatedMixin, Base):
    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    ical_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)

    layers: Mapped[list[ScheduleLayer]] = relationship(
        back_populates="schedule",
        cascade="all, delete-orphan",
        order_by="(ScheduleLayer.position, ScheduleLayer.id)",
    )


class ScheduleLayer(IdMixin, CreatedMixin, Base):
    """A layer; ``position`` orders layers (a later layer wins where it has someone)."""

    __tablename__ = "schedule_layers"

    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))

    schedule: Mapped[Schedule] = relationship(back_populates="layers")
    versions: Mapped[list[LayerVersionRow]] = relationship(
        back_populates="layer",
        cascade="all, delete-orphan",
        order_by="LayerVersionRow.created_at",
    )


class LayerVersionRow(IdMixin, CreatedMixin, Base):
    """One version of a layer, in force from ``effective_from`` (NULL: since forever)."""

    __tablename__ = "schedule_layer_versions"

    layer_id: Mapped[str] = mapped_column(
        ForeignKey("schedule_layers.id", ondelete="CASCADE"), index=True
    )
    effective_from: Mapped[datetime | None]
    start: Mapped[datetime]
    end: Mapped[datetime | None]
    #: User ids in turn order (a user may appear more than once).
    users: Mapped[list[str]] = mapped_column(JSON)
    handoff: Mapped[datetime]
    shift_length: Mapped[int] = mapped_column(Integer)
    shift_unit: Mapped[str] = mapped_column(String(10))
    #: ``[{"days": ["mon", ...] | null, "start": "HH:MM", "end": "HH:MM"}, ...]``
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    start_index: Mapped[int] = mapped_column(Integer, default=0)
    holdover_user_id: Mapped[str | None] = mapped_column(String(32))
    holdover_until: Mapped[datetime | None]
    #: The actor's label (``user:<email>``, ``token:<name>``, ``admin-token``).
    created_by: Mapped[str] = mapped_column(String(200))

    layer: Mapped[ScheduleLayer] = relationship(back_populates="versions")


class ScheduleOverride(IdMixin, CreatedMixin, Base):
    """``user_id`` is on call over ``[start, end)``, above every layer (newest wins)."""

    __tablename__ = "schedule_overrides"

    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    #: Set when a started override was cancelled: ``end`` was cut to this instant.
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
