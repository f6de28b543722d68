"""Small builders shared by the example tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.core.timeline import timeline
from schedules.core.values import (
    Layer,
    LayerVersion,
    Override,
    Restriction,
    Rotation,
    SchedulePlan,
    Shift,
    ShiftUnit,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
USERS = ("ann", "bob", "cat")


def local(
    zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    """An aware datetime from local wall fields in ``zone``."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wall(instant: datetime, zone: str) -> datetime:
    """Naive local wall time of ``instant`` in ``zone``."""
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def version(
    handoff: datetime,
    length: int,
    unit: ShiftUnit,
    users: Sequence[str] = USERS,
    *,
    restrictions: Sequence[Restriction] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    start_index: int = 0,
) -> LayerVersion:
    return LayerVersion(
        effective_from=None,
        start=start if start is not None else handoff - 400 * DAY,
        end=end,
        users=tuple(users),
        rotation=Rotation(handoff, length, unit),
        restrictions=tuple(restrictions),
        start_index=start_index,
    )


def layer(layer_id: str = "primary", *versions: LayerVersion) -> Layer:
    return Layer(layer_id, layer_id.title(), versions)


def schedule(zone: str, *layers: Layer, overrides: Sequence[Override] = ()) -> SchedulePlan:
    return SchedulePlan(zone, layers, tuple(overrides))


def single(
    zone: str,
    handoff: datetime,
    length: int,
    unit: ShiftUnit,
    users: Sequence[str] = USERS,
    *,
    restrictions: Sequence[Restriction] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    start_index: int = 0,
) -> SchedulePlan:
    """A schedule with one layer of one version."""
    only = version(
        handoff,
        length,
        unit,
        users,
        restrictions=restrictions,
        start=start,
        end=end,
        start_index=start_index,
    )
    return schedule(zone, layer("primary", only))


def final(sched: SchedulePlan, since: datetime, until: datetime) -> tuple[Shift, ...]:
    return timeline(sched, since, until).final


def summary(shifts: Sequence[Shift], zone: str) -> list[tuple[str, str, str]]:
    """``(local start, local end, user)`` strings, for readable assertions."""
    fmt = "%m-%d %H:%M"
    return [
        (wall(s.start, zone).strftime(fmt), wall(s.end, zone).strftime(fmt), s.user_id)
        for s in shifts
    ]


def hours(shift: Shift) -> float:
    return (shift.end - shift.start) / HOUR
