"""Request and response bodies for imported calendars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from api.schemas.people import Strict
from api.types import IcsText, Name, TimeZoneName
from calendars.ics_import import MAX_IMPORT_BYTES
from calendars.models import CalendarImport

DEFAULT_REFRESH_MINUTES = 60
DEFAULT_HORIZON_DAYS = 90


class ImportIn(Strict):
    name: Name = "Imported calendar"
    url: str | None = Field(
        None,
        max_length=2048,
        description="an http(s) or webcal URL to follow (refreshed every `refresh_minutes`)",
    )
    ics: IcsText | None = Field(
        None, max_length=MAX_IMPORT_BYTES, description="the calendar itself (an uploaded .ics file)"
    )
    time_zone: TimeZoneName | None = Field(
        None, description="for floating times and all-day events (default: the schedule's)"
    )
    refresh_minutes: StrictInt = Field(DEFAULT_REFRESH_MINUTES, ge=5, le=7 * 24 * 60)
    horizon_days: StrictInt = Field(
        DEFAULT_HORIZON_DAYS, ge=1, le=366, description="how far ahead events become overrides"
    )


class ImportOut(BaseModel):
    id: str
    schedule_id: str
    name: str
    url: str | None
    uploaded: bool = Field(description="true for an uploaded file, false for a followed URL")
    target: str = Field(description="what events become: `overrides` of the schedule")
    time_zone: str
    refresh_minutes: int
    horizon_days: int
    status: str = Field(description="`pending` (not read yet), `ok` or `error`")
    last_error: str | None
    last_refresh_at: datetime | None
    next_refresh_at: datetime | None
    created_at: datetime
    created_by: str
    report: dict[str, Any] = Field(
        description="the last refresh: counts, `unmatched` events, `not_applied` overrides"
    )

    @classmethod
    def of(cls, imp: CalendarImport) -> ImportOut:
        return cls(
            id=imp.id,
            schedule_id=imp.schedule_id,
            name=imp.name,
            url=imp.source_url,
            uploaded=imp.source_url is None,
            target=imp.target,
            time_zone=imp.time_zone,
            refresh_minutes=imp.refresh_seconds // 60,
            horizon_days=imp.horizon_days,
            status=imp.status,
            last_error=imp.last_error,
            last_refresh_at=imp.last_refresh_at,
            next_refresh_at=imp.next_refresh_at,
            created_at=imp.created_at,
            created_by=imp.created_by,
            report=dict(imp.report or {}),
        )
