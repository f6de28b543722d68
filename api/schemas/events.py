"""Bodies for events in (PagerDuty-shaped answers), heartbeats, maintenance and support hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from api.schemas.people import Strict
from api.types import Instant, LocalTime, Name, NotNull, TimeZoneName
from escalation.models import Severity
from paging.intake.maintenance import MAX_WINDOW_DAYS
from people.models import Urgency

# --- events (the PagerDuty Events API's answers) --------------------------------------------


class EventAccepted(BaseModel):
    status: Literal["success"] = "success"
    message: str = "Event processed"
    dedup_key: str


class EventV1Accepted(BaseModel):
    status: Literal["success"] = "success"
    message: str = "Event processed"
    incident_key: str


class EventInvalid(BaseModel):
    status: Literal["invalid event"] = "invalid event"
    message: str = "Event object is invalid"
    errors: list[str]


class EventThrottled(BaseModel):
    status: Literal["throttle exceeded"] = "throttle exceeded"
    message: str


class ChangeAccepted(BaseModel):
    status: Literal["success"] = "success"
    message: str = "Change event processed"


class ChangeOut(BaseModel):
    """A change event kept with its service."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    service_id: str
    summary: str
    source: str | None
    happened_at: datetime = Field(description="the event's timestamp, or when it arrived")
    received_at: datetime
    custom_details: Any | None
    links: list[dict[str, Any]] | None
    images: list[dict[str, Any]] | None


class AlertmanagerAccepted(BaseModel):
    status: Literal["success"] = "success"
    message: str = "Event processed"
    dedup_key: str
    incident_id: str | None = Field(description="null: a resolve with nothing open")
    incident_status: str | None = None


# --- heartbeats ----------------------------------------------------------------------------


class HeartbeatIn(Strict):
    name: Name
    interval_seconds: StrictInt = Field(
        ge=1, le=31 * 86_400, description="expected time between pings"
    )
    grace_seconds: StrictInt = Field(
        0, ge=0, le=7 * 86_400, description="extra slack before a miss"
    )


class HeartbeatPatch(Strict):
    name: NotNull[Name] = None
    interval_seconds: NotNull[StrictInt] = Field(None, ge=1, le=31 * 86_400)
    grace_seconds: NotNull[StrictInt] = Field(None, ge=0, le=7 * 86_400)


class HeartbeatOut(BaseModel):
    id: str
    service_id: str
    name: str
    interval_seconds: int
    grace_seconds: int
    state: Literal["inactive", "up", "missed"] = Field(
        description="inactive until the first ping; missed while its incident is open"
    )
    ping_url: str | None = Field(
        description="POST here to ping (no bearer token: a secret): shown to admins and the "
        "owning team's managers; null for others"
    )
    last_ping_at: datetime | None
    next_due_at: datetime | None
    created_at: datetime


class PingOut(BaseModel):
    status: Literal["ok"] = "ok"
    heartbeat: str
    next_due_at: datetime | None


# --- maintenance windows -------------------------------------------------------------------


class MaintenanceIn(Strict):
    start: Instant | None = Field(None, description="default: now")
    end: Instant | None = Field(
        None,
        description="default: the longest a window may last "
        f"({MAX_WINDOW_DAYS} days) after its start; end it early with `/end`",
    )
    page_on_end: StrictBool = Field(
        False, description="when the window ends, page for incidents still open from inside it"
    )
    description: str | None = Field(None, max_length=500)


class MaintenanceEnd(Strict):
    page_on_end: StrictBool | None = Field(None, description="override the window's setting")


class MaintenanceOut(BaseModel):
    id: str
    service_id: str
    start: datetime
    end: datetime | None
    page_on_end: bool
    description: str | None
    active: bool
    created_by: str
    ended_by: str | None
    closed_at: datetime | None
    created_at: datetime


# --- support hours -------------------------------------------------------------------------


class WindowIO(Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(
        None, min_length=1, description="days on which the window opens; null: every day"
    )
    start: LocalTime
    end: LocalTime = Field(description="end <= start runs past midnight")


class SupportHoursIn(Strict):
    time_zone: TimeZoneName
    windows: list[WindowIO] = Field(min_length=1, max_length=50)
    urgency_during: dict[Severity, Urgency] | None = Field(
        None, description="severity → urgency inside support hours (default: by severity)"
    )
    urgency_outside: dict[Severity, Urgency] | None = Field(
        None, description="severity → urgency outside; low urgency waits for support hours"
    )


class SupportHoursOut(BaseModel):
    service_id: str
    time_zone: str
    windows: list[WindowIO]
    urgency_during: dict[Severity, Urgency] | None
    urgency_outside: dict[Severity, Urgency] | None
    in_support_hours: bool
    next_start: datetime | None
    updated_at: datetime
