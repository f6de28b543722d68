"""Layer specifications (what a client sends) turned into layer versions, field by field.

Errors are :class:`store.errors.Invalid` naming the offending field (``layers.0.end``), so the
API answers 422 with a path the client can act on.  No database access here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import cast
from zoneinfo import ZoneInfo

from schedules.core import edits
from schedules.core.rotation import Grid, holder
from schedules.core.values import (
    SHIFT_UNITS,
    WEEKDAYS,
    LayerVersion,
    Restriction,
    Rotation,
    ScheduleError,
    ShiftUnit,
)
from store.errors import Invalid

__all__ = [
    "LayerSpec",
    "RestrictionSpec",
    "build_version",
    "check_unique",
    "edit_version",
    "end_version",
    "spec_of",
]

MAX_USERS = 500
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2500, 1, 1, tzinfo=UTC)
MAX_RESTRICTIONS = 50


@dataclass(frozen=True)
class RestrictionSpec:
    """A local window: ``"HH:MM"`` times; ``days`` (``mon``..``sun``) on which it starts."""

    start: str
    end: str
    days: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LayerSpec:
    """A layer as a client describes it; ``id`` names an existing layer (edits only)."""

    name: str
    start: datetime
    users: tuple[str, ...]
    handoff: datetime
    shift_length: int
    shift_unit: str
    end: datetime | None = None
    restrictions: tuple[RestrictionSpec, ...] = ()
    id: str | None = None


def _at(field: str, name: str) -> str:
    """The path of ``name`` inside ``field`` (``field`` may be empty: the body itself)."""
    return f"{field}.{name}" if field else name


def _restriction(spec: RestrictionSpec, field: str) -> Restriction:
    try:
        start, end = time.fromisoformat(spec.start), time.fromisoformat(spec.end)
    except ValueError as exc:
        raise Invalid(field or "body", "times must look like HH:MM") from exc
    days: frozenset[int] | None = None
    if spec.days is not None:
        if not spec.days:
            raise Invalid(_at(field, "days"), "must name at least one day (or be left out)")
        unknown = [d for d in spec.days if d not in WEEKDAYS]
        if unknown:
            raise Invalid(
                _at(field, "days"), f"unknown day {unknown[0]!r}; use {', '.join(WEEKDAYS)}"
            )
        days = frozenset(WEEKDAYS.index(d) for d in spec.days)
    if start.tzinfo is not None or end.tzinfo is not None:
        raise Invalid(field or "body", "times are local; leave out the offset")
    return Restriction(start, end, days)


def build_version(
    spec: LayerSpec, field: str, effective_from: datetime | None, start_index: int = 0
) -> LayerVersion:
    """The version ``spec`` describes (``field`` is its path, e.g. ``layers.0``)."""
    for name, value in (
        ("start", spec.start),
        ("end", spec.end),
        ("rotation.handoff", spec.handoff),
    ):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise Invalid(_at(field, name), "must lie between the years 1900 and 2500")
    if not spec.users:
        raise Invalid(_at(field, "users"), "a layer needs at least one user")
    if len(spec.users) > MAX_USERS:
        raise Invalid(_at(field, "users"), f"at most {MAX_USERS} users")
    if spec.end is not None and spec.end <= spec.start:
        raise Invalid(_at(field, "end"), "must be after start")
    if spec.shift_length < 1:
        raise Invalid(_at(field, "rotation.shift_length"), "must be at least 1")
    if spec.shift_unit not in SHIFT_UNITS:
        raise Invalid(_at(field, "rotation.shift_unit"), f"must be one of {sorted(SHIFT_UNITS)}")
    if len(spec.restrictions) > MAX_RESTRICTIONS:
        raise Invalid(_at(field, "restrictions"), f"at most {MAX_RESTRICTIONS} windows")
    restrictions = tuple(
        _restriction(r, _at(field, f"restrictions.{i}")) for i, r in enumerate(spec.restrictions)
    )
    try:
        rotation = Rotation(spec.handoff, spec.shift_length, cast(ShiftUnit, spec.shift_unit))
        return LayerVersion(
            effective_from=effective_from,
            start=spec.start.astimezone(UTC),
            end=spec.end.astimezone(UTC) if spec.end is not None else None,
            users=tuple(spec.users),
            rotation=rotation,
            restrictions=restrictions,
            start_index=start_index,
        )
    except ScheduleError as exc:
        raise Invalid(field or "body", str(exc)) from exc


def _reanchor(version: LayerVersion, old: Rotation, new: Rotation, tz: ZoneInfo) -> LayerVersion:
    """Keep the successor chosen on the old grid for the first slot of the new grid."""
    hold = version.holdover
    if hold is None:
        return version
    successor = holder(version, Grid(old, tz).slot_at(hold.until))
    first = Grid(new, tz).slot_at(hold.until)
    index = (version.users.index(successor) - first) % len(version.users)
    return replace(version, start_index=index)


def edit_version(
    current: LayerVersion,
    spec: LayerSpec,
    field: str,
    at: datetime,
    tz: ZoneInfo,
    *,
    keep_current: bool,
) -> LayerVersion | None:
    """The version ``current`` becomes from ``at`` so that it matches ``spec``; None if equal.

    Changing users or the rotation with ``keep_current`` keeps the person on call at ``at``
    until their shift ends (a holdover); the rotation then continues with their successor.
    """
    target = build_version(spec, field, at)
    same_rotation = target.rotation == current.rotation
    if (
        target.users == current.users
        and same_rotation
        and target.restrictions == current.restrictions
        and target.start == current.start
        and target.end == current.end
    ):
        return None
    version = current
    try:
        if target.users != current.users or not same_rotation:
            version = edits.change_users(
                current, target.users, at, tz.key, keep_current=keep_current
            )
            if not same_rotation:
                version = _reanchor(version, current.rotation, target.rotation, tz)
        return edits.revise(
            version,
            at,
            rotation=target.rotation,
            restrictions=target.restrictions,
            start=target.start,
            end=target.end,
            clear_end=target.end is None,
        )
    except ScheduleError as exc:
        raise Invalid(field or "body", str(exc)) from exc


def end_version(current: LayerVersion, at: datetime, field: str) -> LayerVersion | None:
    """A version ending the layer at ``at``; None when it already ends by then."""
    if current.end is not None and current.end <= at:
        return None
    try:
        return edits.end_layer(current, at)
    except ScheduleError as exc:
        raise Invalid(field or "body", str(exc)) from exc


def check_unique(ids: Sequence[str | None], field: str) -> None:
    seen: set[str] = set()
    for i, layer_id in enumerate(ids):
        if layer_id is None:
            continue
        if layer_id in seen:
            raise Invalid(f"{field}.{i}.id", f"layer {layer_id!r} is listed twice")
        seen.add(layer_id)


def spec_of(name: str, version: LayerVersion, layer_id: str | None = None) -> LayerSpec:
    """The spec that describes ``version`` (for partial edits: change a few fields)."""
    restrictions = tuple(
        RestrictionSpec(
            start=r.start.strftime("%H:%M"),
            end=r.end.strftime("%H:%M"),
            days=None if r.days is None else tuple(WEEKDAYS[d] for d in sorted(r.days)),
        )
        for r in version.restrictions
    )
    return LayerSpec(
        name=name,
        start=version.start,
        end=version.end,
        users=version.users,
        handoff=version.rotation.handoff,
        shift_length=version.rotation.shift_length,
        shift_unit=version.rotation.shift_unit,
        restrictions=restrictions,
        id=layer_id,
    )
