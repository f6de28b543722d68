"""One layer at a time: add, change a few fields, end, read its history.

Every change takes effect from an instant (``effective_from``, default now, never in the past)
and is a new version of the layer, so the schedule's past stays as it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules import rows
from schedules.core import edits
from schedules.layer_rows import edit_layer, end_layer_at, new_layer
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer
from schedules.service import check_users, edit_instant, get_schedule, require_editor, snapshot
from schedules.specs import LayerSpec, spec_of
from store import audit
from store.audit import Actor
from store.errors import NotFound

__all__ = ["add_layer", "end_layer", "get_layer", "layer_history", "update_layer"]

#: Fields of :class:`~schedules.specs.LayerSpec` a partial edit may change.
EDITABLE = frozenset(
    {
        "name",
        "start",
        "end",
        "users",
        "handoff",
        "shift_length",
        "shift_unit",
        "restrictions",
    }
)


def get_layer(schedule: Schedule, layer_id: str) -> ScheduleLayer:
    for layer in schedule.layers:
        if layer.id == layer_id:
            return layer
    raise NotFound(f"no layer {layer_id!r} in schedule {schedule.id!r}")


def layer_history(session: Session, schedule_id: str, layer_id: str) -> list[LayerVersionRow]:
    """The layer's versions, oldest first (each in force until the next one's effective_from)."""
    layer = get_layer(get_schedule(session, schedule_id), layer_id)
    return rows.versions_in_order(layer.versions)


def _audited(session: Session, actor: Actor, schedule: Schedule, before: dict[str, Any]) -> None:
    session.flush()
    after = snapshot(schedule)
    if after != before:
        audit.record(session, actor, "update", schedule, before, after=after)


def add_layer(
    session: Session,
    actor: Actor,
    schedule_id: str,
    spec: LayerSpec,
    *,
    now: datetime,
    effective_from: datetime | None = None,
) -> ScheduleLayer:
    """A new top layer (it wins over the others), in force from ``effective_from``."""
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "edit this schedule")
    at = edit_instant(effective_from, now)
    check_users(session, dict.fromkeys(spec.users, "users"))
    before = snapshot(schedule)
    position = max((layer.position for layer in schedule.layers), default=-1) + 1
    layer = new_layer(spec, "", position, at, actor)
    schedule.layers.append(layer)
    _audited(session, actor, schedule, before)
    return layer


def update_layer(
    session: Session,
    actor: Actor,
    schedule_id: str,
    layer_id: str,
    changes: dict[str, Any],
    *,
    now: datetime,
    effective_from: datetime | None = None,
    keep_current: bool = True,
) -> ScheduleLayer:
    """Change some fields of a layer from ``effective_from`` (others stay as they are then)."""
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "edit this schedule")
    layer = get_layer(schedule, layer_id)
    at = edit_instant(effective_from, now)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "users" in changes:
        check_users(session, dict.fromkeys(changes["users"], "users"))
    model = rows.layer_of(layer)
    base = edits.version_at(model, at) or model.versions[0]
    spec = replace(spec_of(layer.name, base, layer.id), **changes)
    before = snapshot(schedule)
    tz = ZoneInfo(schedule.time_zone)
    edit_layer(layer, spec, "", at, tz, actor, keep_current=keep_current)
    _audited(session, actor, schedule, before)
    return layer


def end_layer(
    session: Session,
    actor: Actor,
    schedule_id: str,
    layer_id: str,
    *,
    now: datetime,
    at: datetime | None = None,
) -> None:
    """End a layer from ``at`` (default now); its past shifts stay in the timeline."""
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "edit this schedule")
    layer = get_layer(schedule, layer_id)
    when = edit_instant(at, now, "at")
    before = snapshot(schedule)
    end_layer_at(session, schedule, layer, when, actor)
    _audited(session, actor, schedule, before)
