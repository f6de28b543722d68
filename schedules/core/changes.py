"""What an edit changes: who is on call before and after, compared over a window (pure).

Two final timelines are swept together; every stretch where the person on call differs
(someone else, or nobody) is a :class:`ShiftChange`. The source of a shift (layer or
override) does not count: only who is on call does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from schedules.core.values import Shift

__all__ = ["ShiftChange", "changed", "compare"]


@dataclass(frozen=True, slots=True)
class ShiftChange:
    """Over ``[start, end)``, ``before`` was on call and ``after`` will be (None: nobody)."""

    start: datetime
    end: datetime
    before: str | None
    after: str | None


def _who(shifts: Sequence[Shift], lo: datetime, hi: datetime) -> list[tuple[datetime, str | None]]:
    """Breakpoints ``(instant, user from then)`` of ``shifts`` inside ``[lo, hi)``."""
    points: list[tuple[datetime, str | None]] = []
    cursor = lo
    for shift in shifts:
        start, end = max(shift.start, lo), min(shift.end, hi)
        if start >= end:
            continue
        if start > cursor:
            points.append((cursor, None))
        points.append((start, shift.user_id))
        cursor = end
    if cursor < hi:
        points.append((cursor, None))
    return points


def compare(
    before: Sequence[Shift], after: Sequence[Shift], since: datetime, until: datetime
) -> tuple[ShiftChange, ...]:
    """Every stretch of ``[since, until)`` where the person on call differs, merged."""
    if since >= until:
        return ()
    old, new = _who(before, since, until), _who(after, since, until)
    edges = sorted({t for t, _ in old} | {t for t, _ in new} | {until})
    out: list[ShiftChange] = []
    i = j = 0
    was: str | None = None
    will: str | None = None
    for lo, hi in pairwise(edges):
        while i < len(old) and old[i][0] <= lo:
            was = old[i][1]
            i += 1
        while j < len(new) and new[j][0] <= lo:
            will = new[j][1]
            j += 1
        if was == will:
            continue
        if out and out[-1].end == lo and (out[-1].before, out[-1].after) == (was, will):
            last = out[-1]
            out[-1] = ShiftChange(last.start, hi, was, will)
        else:
            out.append(ShiftChange(lo, hi, was, will))
    return tuple(out)


def changed(shift: Shift, changes: Sequence[ShiftChange]) -> bool:
    """Whether ``shift`` overlaps any change (to highlight it)."""
    return any(c.start < shift.end and shift.start < c.end for c in changes)
