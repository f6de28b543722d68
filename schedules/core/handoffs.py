"""A layer's start and handoffs as people say them: "every week, Monday 09:00, from 9 Dec".

Pure (no database, no clock). The web editor shows a layer version in these words and turns
what a person typed back into the ``start`` and :class:`~schedules.core.values.Rotation` a
:class:`~schedules.specs.LayerSpec` needs, on the wall clock of the schedule's zone:

* the handoff anchor is the handoff (at the given weekday and time, every ``shift_length``
  ``shift_unit`` s) of the slot that contains the layer's start, so the first person in the
  list holds the shift running when the layer starts (as in PagerDuty);
* values that describe the version being edited unchanged give back its exact instants, so
  re-saving an untouched layer is no edit at all (no new version, no holdover).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.core.values import LayerVersion, Rotation, ShiftUnit
from schedules.core.wallclock import to_instant, to_wall

__all__ = ["LocalLayer", "anchor", "describe", "resolve"]

_UNIT = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}


@dataclass(frozen=True)
class LocalLayer:
    """When a layer starts and hands off, on the schedule's wall clock (naive local times).

    ``handoff_weekday`` (0 = Monday) matters for weekly rotations only.
    """

    start: datetime
    shift_length: int
    shift_unit: ShiftUnit
    handoff_time: time
    handoff_weekday: int | None = None

    def grid(self) -> tuple[int, str, time, int | None]:
        """What fixes the handoff grid (the weekday only for weekly rotations)."""
        weekday = self.handoff_weekday if self.shift_unit == "weeks" else None
        return self.shift_length, self.shift_unit, self.handoff_time, weekday


def describe(version: LayerVersion, tz: ZoneInfo) -> LocalLayer:
    """``version``'s start and handoffs in local words."""
    handoff = to_wall(version.rotation.handoff, tz)
    return LocalLayer(
        start=to_wall(version.start, tz),
        shift_length=version.rotation.shift_length,
        shift_unit=version.rotation.shift_unit,
        handoff_time=handoff.time(),
        handoff_weekday=handoff.weekday(),
    )


def anchor(local: LocalLayer, tz: ZoneInfo) -> datetime:
    """The handoff instant (UTC) that starts the slot containing ``local.start``."""
    step = _UNIT[local.shift_unit] * local.shift_length
    wall = datetime.combine(local.start.date(), local.handoff_time)
    if local.shift_unit == "weeks" and local.handoff_weekday is not None:
        wall -= timedelta(days=(wall.weekday() - local.handoff_weekday) % 7)
    while wall > local.start:
        wall -= step
    while wall + step <= local.start:
        wall += step
    return to_instant(wall, tz)


def resolve(
    local: LocalLayer, tz: ZoneInfo, previous: LayerVersion | None = None
) -> tuple[datetime, Rotation]:
    """The layer ``start`` instant and the rotation ``local`` describes.

    With ``previous`` (the version being edited), an unchanged start keeps its exact
    instant and an unchanged grid (length, unit, handoff time and weekday) keeps its anchor.
    """
    before = describe(previous, tz) if previous is not None else None
    if previous is not None and before is not None and before.start == local.start:
        start = previous.start
    else:
        start = to_instant(local.start, tz)
    if previous is not None and before is not None and before.grid() == local.grid():
        return start, previous.rotation
    return start, Rotation(anchor(local, tz), local.shift_length, local.shift_unit)
