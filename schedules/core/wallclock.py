"""Local wall time <-> instant conversion in one IANA zone (tz database rules).

Resolution rules for a naive local wall time (the schedule contract):

* a wall time that occurs once maps to that instant;
* an ambiguous wall time (repeated when clocks go back) maps to its FIRST
  occurrence;
* a nonexistent wall time (skipped when clocks go forward) maps to the first
  valid instant after it, which is the transition instant itself (02:30 on New
  York's spring-forward day -> 03:00 EDT).  ``zoneinfo`` with ``fold=0`` would
  give 03:30 EDT instead, so the transition is searched for explicitly.

The mapping is monotone: ``a <= b`` implies ``to_instant(a) <= to_instant(b)``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["WallKind", "to_instant", "to_wall", "wall_kind"]

WallKind = Literal["unique", "ambiguous", "nonexistent"]
_SECOND = timedelta(seconds=1)


def to_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive local wall time of an aware ``instant`` in ``tz`` (fold cleared)."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def wall_kind(wall: datetime, tz: ZoneInfo) -> WallKind:
    """Classify a naive wall time as unique, ambiguous or nonexistent in ``tz``."""
    first = wall.replace(tzinfo=tz, fold=0)
    before, after = first.utcoffset(), first.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    if before == after:
        return "unique"
    # PEP 495: fold=0 uses the offset before the transition; it is larger than
    # the one after when clocks go back (a fold) and smaller in a gap.
    return "ambiguous" if before > after else "nonexistent"


def to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """Resolve a naive local wall time in ``tz`` to an aware UTC instant."""
    if wall.tzinfo is not None:
        raise ValueError("to_instant expects a naive wall time")
    first = wall.replace(tzinfo=tz, fold=0)
    before = first.utcoffset()
    after = first.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    if before >= after:  # unique, or ambiguous -> first occurrence (fold=0)
        return (wall - before).replace(tzinfo=UTC)
    naive = wall.replace(fold=0)
    return _transition_after(naive, tz, lo=naive - after, hi=naive - before)


def _transition_after(wall: datetime, tz: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """First instant (naive UTC in ``[lo, hi]``) whose wall time is ``>= wall``.

    ``wall`` lies in a gap; ``lo`` (wall minus the post-transition offset) is
    before the transition and ``hi`` after it.  Transitions fall on whole
    seconds, so a bisection over seconds finds the transition instant exactly.
    """
    base = lo.replace(microsecond=0)
    low, high = 0, int((hi - base) / _SECOND) + 1
    while low < high:
        mid = (low + high) // 2
        candidate = (base + mid * _SECOND).replace(tzinfo=UTC)
        if to_wall(candidate, tz) >= wall:
            high = mid
        else:
            low = mid + 1
    return (base + low * _SECOND).replace(tzinfo=UTC)
