"""Request and response bodies for escalation policies, services and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.schemas.events import ChangeOut
from api.schemas.people import Strict
from api.types import Name, NotNull
from escalation.models import IncidentStatus, Severity, TargetType
from people.models import Urgency


class TargetIO(Strict):
    type: TargetType
    id: str


class TierIO(Strict):
    delay_seconds: StrictInt = Field(ge=1, le=7 * 86_400, description="wait before the next tier")
    targets: list[TargetIO] = Field(min_length=1, max_length=50)


class PolicyIn(Strict):
    name: Name
    team_id: str | None = None
    repeat: StrictInt = Field(0, ge=0, le=20, description="extra loops through the tiers")
    tiers: list[TierIO] = Field(min_length=1, max_length=20)


class PolicyOut(BaseModel):
    id: str
    name: str
    team_id: str | None
    repeat: int
    tiers: list[TierIO]
    created_at: datetime


class ServiceIn(Strict):
    name: Name
    escalation_policy_id: str
    team_id: str | None = None
    acknowledgement_timeout_seconds: StrictInt | None = Field(None, ge=1, le=7 * 86_400)
    auto_resolve_timeout_seconds: StrictInt | None = Field(None, ge=1, le=30 * 86_400)


class ServicePatch(Strict):
    name: NotNull[Name] = None
    escalation_policy_id: NotNull[str] = None
    team_id: str | None = None
    acknowledgement_timeout_seconds: StrictInt | None = Field(None, ge=1, le=7 * 86_400)
    auto_resolve_timeout_seconds: StrictInt | None = Field(None, ge=1, le=30 * 86_400)


class ServiceOut(BaseModel):
    id: str
    name: str
    team_id: str | None
    escalation_policy_id: str
    integration_key: str | None = Field(
        description="the key events are sent with (a secret): shown to admins and the owning "
        "team's managers; null for others"
    )
    has_integration_key: bool = Field(description="true: the service has a key (shown or not)")
    acknowledgement_timeout_seconds: int | None
    auto_resolve_timeout_seconds: int | None
    created_at: datetime


class IncidentIn(Strict):
    service_id: str
    title: str = Field(min_length=1, max_length=1024)
    details: dict[str, Any] | None = None
    severity: Severity = Severity.critical
    urgency: Urgency | None = Field(None, description="default: from severity")
    dedup_key: str | None = Field(None, min_length=1, max_length=255)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class LogEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    kind: str
    message: str
    data: dict[str, Any] | None


class IncidentOut(BaseModel):
    id: str
    number: int
    service_id: str
    title: str
    details: dict[str, Any] | None
    severity: Severity
    urgency: Urgency
    status: IncidentStatus
    dedup_key: str
    trigger_count: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalation_tier: int = Field(description="1-based tier last notified")
    escalation_loop: int
    next_escalation_at: datetime | None
    unrouted: bool = Field(False, description="a pass of the escalation policy reached nobody")
    unrouted_at: datetime | None = None
    log: list[LogEntryOut] | None = None
    recent_changes: list[ChangeOut] | None = Field(
        None,
        description="the service's change events in the 24 hours before the incident opened, "
        "newest first (with the log: one incident's answer)",
    )
