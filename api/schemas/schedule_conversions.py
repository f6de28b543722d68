"""Conversions between schedule request/response bodies and the domain (no routes here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api import urls
from api.schemas.schedules import (
    LayerIn,
    LayerOut,
    OverrideOut,
    RestrictionIO,
    RotationIO,
    ScheduleOut,
    ShiftOut,
)
from people import service as people
from schedules import rows
from schedules import service as schedules
from schedules.core import edits
from schedules.core.values import LayerVersion, Shift
from schedules.models import Schedule, ScheduleLayer, ScheduleOverride
from schedules.specs import LayerSpec, RestrictionSpec
from store.settings import Settings


def restriction_specs(given: list[RestrictionIO]) -> tuple[RestrictionSpec, ...]:
    return tuple(
        RestrictionSpec(r.start, r.end, None if r.days is None else tuple(r.days)) for r in given
    )


def layer_spec(layer: LayerIn) -> LayerSpec:
    return LayerSpec(
        id=layer.id,
        name=layer.name,
        start=layer.start,
        end=layer.end,
        users=tuple(layer.users),
        handoff=layer.rotation.handoff,
        shift_length=layer.rotation.shift_length,
        shift_unit=layer.rotation.shift_unit,
        restrictions=restriction_specs(layer.restrictions),
    )


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz)


def version_fields(version: LayerVersion, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "start": version.start.astimezone(tz),
        "end": _local(version.end, tz),
        "users": list(version.users),
        "rotation": RotationIO(
            handoff=version.rotation.handoff.astimezone(tz),
            shift_length=version.rotation.shift_length,
            shift_unit=version.rotation.shift_unit,
        ),
        "restrictions": [
            RestrictionIO.model_validate(rows.restriction_json(r)) for r in version.restrictions
        ],
    }


def layer_out(layer: ScheduleLayer, at: datetime, tz: ZoneInfo) -> LayerOut:
    pure = rows.layer_of(layer)
    version = edits.version_at(pure, at) or pure.versions[0]
    return LayerOut(id=layer.id, name=layer.name, **version_fields(version, tz))


def schedule_out(settings: Settings, schedule: Schedule, at: datetime) -> ScheduleOut:
    ical = urls.schedule_feed(settings, schedule.ical_token)
    tz = ZoneInfo(schedule.time_zone)
    return ScheduleOut(
        id=schedule.id,
        name=schedule.name,
        time_zone=schedule.time_zone,
        team_id=schedule.team_id,
        ical_url=ical,
        webcal_url=urls.webcal(ical),
        created_at=schedule.created_at,
        layers=[layer_out(layer, at, tz) for layer in rows.ordered_layers(schedule)],
    )


def shift_out(shift: Shift, layer_ids: list[str], names: dict[str, str]) -> ShiftOut:
    return ShiftOut(
        start=shift.start,
        end=shift.end,
        user_id=shift.user_id,
        user_name=names.get(shift.user_id),
        layer=shift.layer,
        layer_id=None if shift.layer is None else layer_ids[shift.layer],
        override_id=shift.override_id,
    )


def override_out(session: Session, o: ScheduleOverride) -> OverrideOut:
    return OverrideOut(
        id=o.id,
        schedule_id=o.schedule_id,
        user_id=o.user_id,
        user_name=people.user_names(session, [o.user_id]).get(o.user_id),
        start=o.start,
        end=o.end,
        created_at=o.created_at,
        created_by=o.created_by,
        cancelled_at=o.cancelled_at,
    )


def layer_ids(session: Session, schedule_id: str) -> list[str]:
    return [layer.id for layer in rows.ordered_layers(schedules.get_schedule(session, schedule_id))]
