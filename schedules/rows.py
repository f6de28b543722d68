"""Conversions between schedule rows and the pure core's value objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any, cast

from schedules.core import values
from schedules.core.values import WEEKDAYS, ShiftUnit
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer, ScheduleOverride

__all__ = [
    "layer_of",
    "ordered_layers",
    "override_of",
    "restriction_json",
    "restriction_of",
    "schedule_of",
    "version_of",
    "version_row",
    "versions_in_order",
]


def restriction_of(data: dict[str, Any]) -> values.Restriction:
    """A stored restriction (``{"days", "start", "end"}``) as a pure value."""
    days = data.get("days")
    day_set = None if days is None else frozenset(WEEKDAYS.index(d) for d in days)
    return values.Restriction(
        time.fromisoformat(data["start"]), time.fromisoformat(data["end"]), day_set
    )


def restriction_json(restriction: values.Restriction) -> dict[str, Any]:
    days = None if restriction.days is None else [WEEKDAYS[d] for d in sorted(restriction.days)]
    return {
        "days": days,
        "start": restriction.start.strftime("%H:%M"),
        "end": restriction.end.strftime("%H:%M"),
    }


def version_of(row: LayerVersionRow) -> values.LayerVersion:
    holdover = None
    if row.holdover_user_id is not None and row.holdover_until is not None:
        holdover = values.Holdover(row.holdover_user_id, row.holdover_until)
    return values.LayerVersion(
        effective_from=row.effective_from,
        start=row.start,
        end=row.end,
        users=tuple(row.users),
        rotation=values.Rotation(row.handoff, row.shift_length, cast(ShiftUnit, row.shift_unit)),
        restrictions=tuple(restriction_of(r) for r in row.restrictions),
        start_index=row.start_index,
        holdover=holdover,
    )


def version_row(version: values.LayerVersion, created_by: str) -> LayerVersionRow:
    """A new (unsaved) row for ``version``."""
    hold = version.holdover
    return LayerVersionRow(
        effective_from=version.effective_from,
        start=version.start,
        end=version.end,
        users=list(version.users),
        handoff=version.rotation.handoff,
        shift_length=version.rotation.shift_length,
        shift_unit=version.rotation.shift_unit,
        restrictions=[restriction_json(r) for r in version.restrictions],
        start_index=version.start_index % len(version.users),
        holdover_user_id=hold.user_id if hold else None,
        holdover_until=hold.until if hold else None,
        created_by=created_by,
    )


def versions_in_order(rows: Iterable[LayerVersionRow]) -> list[LayerVersionRow]:
    """Rows by ``effective_from`` (the one without it first)."""
    return sorted(rows, key=lambda r: (r.effective_from is not None, r.effective_from or r.start))


def layer_of(row: ScheduleLayer) -> values.Layer:
    versions = tuple(version_of(v) for v in versions_in_order(row.versions))
    return values.Layer(id=row.id, name=row.name, versions=versions)


def override_of(row: ScheduleOverride) -> values.Override:
    return values.Override(
        id=row.id, user_id=row.user_id, start=row.start, end=row.end, created_at=row.created_at
    )


def ordered_layers(schedule: Schedule) -> list[ScheduleLayer]:
    """The schedule's layers in precedence order (the index the pure core uses)."""
    return sorted(schedule.layers, key=lambda r: (r.position, r.id))


def schedule_of(
    row: Schedule,
    overrides: Sequence[ScheduleOverride],
    layers: Sequence[ScheduleLayer] | None = None,
) -> values.SchedulePlan:
    """The pure schedule: layers in position order, the given overrides."""
    ordered = (
        ordered_layers(row) if layers is None else sorted(layers, key=lambda r: (r.position, r.id))
    )
    return values.SchedulePlan(
        time_zone=row.time_zone,
        layers=tuple(layer_of(layer) for layer in ordered),
        overrides=tuple(override_of(o) for o in overrides),
    )
