"""Plain, frozen value objects of the pure schedule core (its tables are ``schedules.models``).

Nothing here touches a database, the network or the clock.  Every datetime
accepted by these classes must be timezone-aware (any zone); the core works in
UTC and every datetime it returns is in UTC.  Invalid input raises
:class:`ScheduleError` (a ``ValueError``), which the API maps to HTTP 422.

Vocabulary
----------
* A :class:`SchedulePlan` has an IANA ``time_zone``, ordered :class:`Layer` s (a
  later layer wins where it has someone) and :class:`Override` s (win over all
  layers; the newest by ``(created_at, id)`` wins among overlapping ones).
* A :class:`Layer` is a history of :class:`LayerVersion` s.  Version ``i`` is in
  force from its ``effective_from`` (``None`` = since forever, allowed for the
  first version only) until the next version's ``effective_from``.  Editing a
  layer appends a version, so the past is never rewritten (see ``edits.py``).
* A version's :class:`Rotation` defines the handoff grid: handoffs happen at
  ``handoff + k * shift_length * shift_unit`` for every integer ``k``, computed
  on the wall clock of the schedule's zone; slot ``k`` is held by
  ``users[(start_index + k) % len(users)]``.
* :class:`Restriction` s are local-clock windows; outside all of them the layer
  covers nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "SHIFT_UNITS",
    "WEEKDAYS",
    "Gap",
    "Holdover",
    "Layer",
    "LayerVersion",
    "Override",
    "Restriction",
    "Rotation",
    "ScheduleError",
    "SchedulePlan",
    "Shift",
    "ShiftUnit",
    "Timeline",
    "WindowTooLargeError",
    "load_zone",
]

ShiftUnit = Literal["hours", "days", "weeks"]
SHIFT_UNITS: frozenset[str] = frozenset(get_args(ShiftUnit))
#: Weekday names accepted by :meth:`Restriction.parse`; index = ``date.weekday()``.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    """Invalid schedule input (empty users, bad length, naive datetime, ...)."""


class WindowTooLargeError(ScheduleError):
    """A query window (or horizon) exceeds the supported maximum (about a year)."""


def require_aware(value: datetime, what: str) -> None:
    """Raise :class:`ScheduleError` unless ``value`` is a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ScheduleError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{what} must be timezone-aware")


def load_zone(key: str) -> ZoneInfo:
    """Return the tz database zone ``key`` or raise :class:`ScheduleError`."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ScheduleError(f"unknown time zone {key!r}") from exc


def _require_text(value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ScheduleError(f"{what} must be a non-empty string")


@dataclass(frozen=True, slots=True)
class Rotation:
    """Handoff grid of a layer: anchor instant plus a wall-clock step.

    ``handoff`` gives the wall time of handoff 0 in the schedule's zone; the
    other handoffs are ``k * shift_length`` ``shift_unit`` s away on that local
    wall clock (so a daily 09:00 handoff stays at 09:00 across DST changes).
    Every handoff, 0 included, is a wall time resolved by the rules of
    ``schedules.core.wallclock`` (so an anchor given as the second occurrence of an
    ambiguous time moves to the first occurrence).
    """

    handoff: datetime
    shift_length: int
    shift_unit: ShiftUnit

    def __post_init__(self) -> None:
        require_aware(self.handoff, "rotation.handoff")
        length = self.shift_length
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ScheduleError("rotation.shift_length must be an integer >= 1")
        if self.shift_unit not in SHIFT_UNITS:
            raise ScheduleError(f"rotation.shift_unit must be one of {sorted(SHIFT_UNITS)}")


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window on the schedule's local clock, starting on ``days`` (0 = Monday).

    ``end <= start`` means the window runs past midnight (``08:00``-``08:00`` is
    a full 24 hours).  ``days`` are the weekdays on which a window *starts*;
    ``None`` means every day.
    """

    start: time
    end: time
    days: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for what, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ScheduleError(f"restriction.{what} must be a naive time")
        if self.days is not None:
            days = frozenset(self.days)
            if not days or not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
                raise ScheduleError("restriction.days must be a non-empty set of 0..6")
            object.__setattr__(self, "days", days)

    @property
    def overnight(self) -> bool:
        """True when the window ends on the following local day."""
        return self.end <= self.start

    @classmethod
    def parse(cls, start: str, end: str, days: Iterable[str] | None = None) -> Restriction:
        """Build from API form: ``"HH:MM"`` strings and weekday names ``mon``..``sun``."""
        try:
            start_t, end_t = time.fromisoformat(start), time.fromisoformat(end)
        except (TypeError, ValueError) as exc:
            raise ScheduleError("restriction times must look like HH:MM") from exc
        day_set: frozenset[int] | None = None
        if days is not None:
            try:
                day_set = frozenset(WEEKDAYS.index(d.strip().lower()[:3]) for d in days)
            except (AttributeError, ValueError) as exc:
                raise ScheduleError(f"restriction.days must be among {WEEKDAYS}") from exc
        return cls(start_t, end_t, day_set)


@dataclass(frozen=True, slots=True)
class Holdover:
    """The user on call when a version was created keeps the layer until ``until``.

    Produced by :func:`schedules.core.edits.change_users` with ``keep_current=True``:
    from the version's ``effective_from`` until ``until`` (the end of the shift
    that was running) the layer is held by ``user_id``; the grid applies after.
    """

    user_id: str
    until: datetime

    def __post_init__(self) -> None:
        _require_text(self.user_id, "holdover.user_id")
        require_aware(self.until, "holdover.until")


@dataclass(frozen=True, slots=True)
class LayerVersion:
    """One version of a layer; covers ``[start, end)`` (``end=None`` = forever)."""

    effective_from: datetime | None
    start: datetime
    end: datetime | None
    users: tuple[str, ...]
    rotation: Rotation
    restrictions: tuple[Restriction, ...] = ()
    start_index: int = 0
    holdover: Holdover | None = None

    def __post_init__(self) -> None:
        if self.effective_from is not None:
            require_aware(self.effective_from, "version.effective_from")
        require_aware(self.start, "layer.start")
        if self.end is not None:
            require_aware(self.end, "layer.end")
            if self.end < self.start:
                raise ScheduleError("layer.end must not be before layer.start")
        users = tuple(self.users)
        if not users:
            raise ScheduleError("layer.users must not be empty")
        for user in users:
            _require_text(user, "layer user id")
        object.__setattr__(self, "users", users)
        object.__setattr__(self, "restrictions", tuple(self.restrictions))
        if not isinstance(self.rotation, Rotation):
            raise ScheduleError("layer.rotation must be a Rotation")
        index = self.start_index
        if isinstance(index, bool) or not isinstance(index, int):
            raise ScheduleError("layer.start_index must be an integer")


@dataclass(frozen=True, slots=True)
class Layer:
    """A named layer with its version history (ordered by ``effective_from``)."""

    id: str
    name: str
    versions: tuple[LayerVersion, ...]

    def __post_init__(self) -> None:
        _require_text(self.id, "layer.id")
        versions = tuple(self.versions)
        if not versions:
            raise ScheduleError("a layer needs at least one version")
        previous: datetime | None = None
        for i, version in enumerate(versions):
            effective = version.effective_from
            if effective is None:
                if i:
                    raise ScheduleError("only the first version may lack effective_from")
                continue
            if previous is not None and effective <= previous:
                raise ScheduleError("layer versions must have increasing effective_from")
            previous = effective
        object.__setattr__(self, "versions", versions)


@dataclass(frozen=True, slots=True)
class Override:
    """``user_id`` is on call over ``[start, end)``, above every layer."""

    id: str
    user_id: str
    start: datetime
    end: datetime
    created_at: datetime

    def __post_init__(self) -> None:
        _require_text(self.id, "override.id")
        _require_text(self.user_id, "override.user_id")
        require_aware(self.start, "override.start")
        require_aware(self.end, "override.end")
        require_aware(self.created_at, "override.created_at")
        if self.end <= self.start:
            raise ScheduleError("override.end must be after override.start")


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    """A schedule as plain data: IANA ``time_zone``, layers (later wins), overrides (win).

    The pure core computes over this; the table is :class:`schedules.models.Schedule`
    (``schedules.rows.schedule_of`` builds one from the other).
    """

    time_zone: str
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        load_zone(self.time_zone)
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "overrides", tuple(self.overrides))


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call over ``[start, end)`` (UTC).

    ``layer`` is the index in ``SchedulePlan.layers`` the piece comes from (``None``
    for overrides); ``override_id`` is set when it comes from an override.
    """

    start: datetime
    end: datetime
    user_id: str
    layer: int | None = None
    override_id: str | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """Nobody is on call over ``[start, end)`` (UTC)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Timeline:
    """Result of :func:`schedules.core.timeline.timeline`.

    ``final`` and ``gaps`` are sorted and disjoint; together they cover the
    query window exactly (clipped mode) or the whole pieces touching it
    (overflow mode).  ``layers[i]`` are the pieces layer ``i`` alone provides.
    """

    final: tuple[Shift, ...]
    gaps: tuple[Gap, ...]
    layers: tuple[tuple[Shift, ...], ...]

    def segments(self) -> tuple[Shift | Gap, ...]:
        """Shifts and gaps interleaved in time order."""
        both: list[Shift | Gap] = [*self.final, *self.gaps]
        both.sort(key=lambda seg: seg.start)
        return tuple(both)
