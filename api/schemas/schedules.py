"""Request and response bodies for schedules, layers, overrides and timelines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt

from api.schemas.people import Strict, UserRef
from api.types import Instant, LocalTime, Name, NotNull, TimeZoneName
from schedules.overrides import MAX_OVERRIDE_DAYS

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(value: object) -> object:
    """Accept ``Mon``, ``monday``, ``MONDAY``... as ``mon``."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if len(lowered) >= 3 and any(full.startswith(lowered) for full in _DAY_NAMES):
            return lowered[:3]
    return value


Day = Annotated[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_day)]
ShiftUnit = Literal["hours", "days", "weeks"]


class RotationIO(Strict):
    handoff: Instant = Field(
        description="a handoff instant; the others follow on the schedule's wall clock"
    )
    shift_length: StrictInt = Field(ge=1, le=1000, description="shift length in `shift_unit`s")
    shift_unit: ShiftUnit


class RestrictionIO(Strict):
    days: list[Day] | None = Field(
        None, min_length=1, max_length=7, description="days a window starts on (default: all)"
    )
    start: LocalTime
    end: LocalTime = Field(description="local; `end` <= `start` runs past midnight")


class LayerIn(Strict):
    id: str | None = Field(None, description="an existing layer (edits); leave out for a new one")
    name: Name
    start: Instant
    end: Instant | None = None
    users: list[str] = Field(min_length=1, max_length=500, description="user ids in turn order")
    rotation: RotationIO
    restrictions: list[RestrictionIO] = Field(default_factory=list, max_length=50)


class LayerOut(BaseModel):
    """A layer as it is at the instant asked for (default now); fits back into ``LayerIn``."""

    id: str
    name: str
    start: datetime
    end: datetime | None
    users: list[str]
    rotation: RotationIO
    restrictions: list[RestrictionIO]


class ScheduleIn(Strict):
    name: Name
    time_zone: TimeZoneName
    team_id: str | None = None
    layers: list[LayerIn] = Field(default_factory=list, max_length=50)


class _EditOptions(Strict):
    effective_from: Instant | None = Field(
        None, description="when the change takes effect (default now; never in the past)"
    )
    keep_current: StrictBool = Field(
        True, description="whoever is on call keeps their shift when users or rotation change"
    )


class ScheduleReplace(ScheduleIn, _EditOptions):
    """PUT: the whole schedule; layers with an `id` are edited, others added, missing ended."""


class SchedulePatch(_EditOptions):
    name: NotNull[Name] = None
    time_zone: NotNull[TimeZoneName] = None
    team_id: str | None = None
    layers: list[LayerIn] | None = Field(None, max_length=50)


class LayerCreate(LayerIn):
    effective_from: Instant | None = None


class LayerPatch(_EditOptions):
    name: NotNull[Name] = None
    start: NotNull[Instant] = None
    end: Instant | None = Field(None, description="null: the layer never ends")
    users: NotNull[list[str]] = Field(None, min_length=1, max_length=500)
    rotation: NotNull[RotationIO] = None
    restrictions: NotNull[list[RestrictionIO]] = Field(None, max_length=50)


class ScheduleOut(BaseModel):
    id: str
    name: str
    time_zone: str
    team_id: str | None
    ical_url: str
    webcal_url: str
    created_at: datetime
    layers: list[LayerOut] = Field(description="in precedence order: a later layer wins")


class HoldoverOut(BaseModel):
    user_id: str
    until: datetime


class LayerVersionOut(BaseModel):
    id: str
    effective_from: datetime | None = Field(description="null: since the layer was created")
    created_at: datetime
    created_by: str
    start: datetime
    end: datetime | None
    users: list[str]
    rotation: RotationIO
    restrictions: list[RestrictionIO]
    holdover: HoldoverOut | None


class ShiftOut(BaseModel):
    start: datetime
    end: datetime
    user_id: str
    user_name: str | None = Field(description="the person's name (null: no such user)")
    layer: int | None = Field(description="index in the schedule's layers; null for an override")
    layer_id: str | None
    override_id: str | None


class GapOut(BaseModel):
    start: datetime
    end: datetime


class TimelineOut(BaseModel):
    since: datetime
    until: datetime
    final: list[ShiftOut]
    layers: list[list[ShiftOut]]
    gaps: list[GapOut]


class OnCallOut(BaseModel):
    at: datetime
    users: list[UserRef]
    shift: ShiftOut | None = Field(description="the whole final shift running at `at`")


class OverrideIn(Strict):
    user_id: str
    start: Instant
    end: Instant = Field(description=f"at most {MAX_OVERRIDE_DAYS} days after `start`")


class OverrideOut(BaseModel):
    id: str
    schedule_id: str
    user_id: str
    user_name: str | None = Field(None, description="the person's name")
    start: datetime
    end: datetime
    created_at: datetime
    created_by: str
    cancelled_at: datetime | None


class UserShiftOut(BaseModel):
    schedule_id: str
    schedule_name: str
    start: datetime
    end: datetime
    layer_id: str | None
    override_id: str | None


class NextShiftOut(BaseModel):
    user_id: str
    after: datetime
    shift: UserShiftOut | None
