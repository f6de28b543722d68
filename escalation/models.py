"""Escalation policies (ordered tiers of targets), services, incidents and their logs."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from people.models import Urgency
from store.base import Base, CreatedMixin, IdMixin, utcnow


def new_integration_key() -> str:
    return secrets.token_hex(16)  # 32 characters, like PagerDuty's routing keys


class TargetType(enum.StrEnum):
    user = "user"
    schedule = "schedule"


class Severity(enum.StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"


class IncidentStatus(enum.StrEnum):
    triggered = "triggered"
    acknowledged = "acknowledged"
    resolved = "resolved"


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, native_enum=False, length=20, validate_strings=True)


class EscalationPolicy(IdMixin, CreatedMixin, Base):
    __tablename__ = "escalation_policies"

    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    repeat: Mapped[int] = mapped_column(Integer, default=0)

    tiers: Mapped[list[EscalationTier]] = relationship(
        back_populates="policy",
        cascade="all, delete-orphan",
        order_by="EscalationTier.position",
        lazy="selectin",
    )


class EscalationTier(IdMixin, Base):
    __tablename__ = "escalation_tiers"
    __table_args__ = (UniqueConstraint("policy_id", "position"),)

    policy_id: Mapped[str] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    delay_seconds: Mapped[int] = mapped_column(Integer)

    policy: Mapped[EscalationPolicy] = relationship(back_populates="tiers")
    targets: Mapped[list[EscalationTarget]] = relationship(
        cascade="all, delete-orphan", order_by="EscalationTarget.position", lazy="selectin"
    )


class EscalationTarget(IdMixin, Base):
    """A user, or a schedule (whoever is on call in it when the tier is notified)."""

    __tablename__ = "escalation_targets"

    tier_id: Mapped[str] = mapped_column(
        ForeignKey("escalation_tiers.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[TargetType] = mapped_column(_enum(TargetType, "target_type"))
    target_id: Mapped[str] = mapped_column(String(32), index=True)


class Service(IdMixin, CreatedMixin, Base):
    __tablename__ = "services"

    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    escalation_policy_id: Mapped[str] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="RESTRICT"), index=True
    )
    integration_key: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_integration_key
    )
    acknowledgement_timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    auto_resolve_timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    last_incident_number: Mapped[int] = mapped_column(Integer, default=0)


class Incident(IdMixin, CreatedMixin, Base):
    """An incident and its escalation state (the engine's durable timer rows)."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("service_id", "number"),
        # At most one open incident per (service, dedup_key): dedup holds under concurrency.
        Index(
            "uq_incidents_open_dedup",
            "service_id",
            "dedup_key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_incidents_next_escalation_at", "next_escalation_at"),
        # Lists of incidents by status, newest first (the web UI's incident list).
        Index("ix_incidents_status_created_at", "status", "created_at"),
        Index("ix_incidents_ack_timeout_at", "ack_timeout_at"),
        Index("ix_incidents_auto_resolve_at", "auto_resolve_at"),
        Index("ix_incidents_unrouted_at", "unrouted_at"),
    )

    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(1024))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "incident_urgency"))
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), index=True
    )
    dedup_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    trigger_count: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))

    # Escalation state. ``epoch`` grows whenever escalation restarts (policy change, ack
    # timeout), so that the outbox key (incident, epoch, loop, tier, person, rule) stays unique.
    policy_id: Mapped[str] = mapped_column(String(32))
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    loop: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    ack_timeout_at: Mapped[datetime | None]
    auto_resolve_at: Mapped[datetime | None]
    #: When a pass of the policy first reached nobody (log entry ``unrouted``); never cleared.
    unrouted_at: Mapped[datetime | None]


class IncidentLog(Base):
    """An incident's history; ``id`` grows with insertion, so it orders same-instant entries."""

    __tablename__ = "incident_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
