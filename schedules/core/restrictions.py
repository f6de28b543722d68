"""Restriction windows: local-clock intervals outside which a layer covers nobody.

A :class:`~schedules.core.values.Restriction` ``(start, end, days)`` opens a window on
every local date whose weekday is in ``days`` (every date when ``None``), from
``start`` that date to ``end`` the same date, or the next date when
``end <= start`` (so ``08:00``-``08:00`` is a full day).  Window edges are wall
times resolved with :func:`schedules.core.wallclock.to_instant` (nonexistent -> the
transition instant, ambiguous -> first occurrence).

Only the dates around the query interval are generated, with a dateutil
``rrule`` over ``byweekday``; the cost depends on the interval length, never on
when the layer or rotation started.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, rrule

from schedules.core.values import Restriction
from schedules.core.wallclock import to_instant, to_wall

__all__ = ["Interval", "Piece", "clip_pieces", "merge_intervals", "windows"]

Interval = tuple[datetime, datetime]
#: ``(start, end, user_id)``: the internal, allocation-light form of a shift.
Piece = tuple[datetime, datetime, str]

_DAY = timedelta(days=1)


def _window_dates(restriction: Restriction, first: date, last: date) -> Iterator[date]:
    """Local dates in ``[first, last]`` on which ``restriction`` opens a window."""
    if restriction.days is None:
        day = first
        while day <= last:
            yield day
            day += _DAY
        return
    rule = rrule(
        DAILY,
        dtstart=datetime.combine(first, time()),
        until=datetime.combine(last, time()),
        byweekday=sorted(restriction.days),
        cache=False,
    )
    for occurrence in rule:
        yield occurrence.date()


def _window(restriction: Restriction, day: date, tz: ZoneInfo) -> Interval:
    end_day = day + _DAY if restriction.overnight else day
    return (
        to_instant(datetime.combine(day, restriction.start), tz),
        to_instant(datetime.combine(end_day, restriction.end), tz),
    )


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Sort and union intervals; overlapping or touching ones are fused."""
    intervals.sort()
    merged: list[Interval] = []
    for start, end in intervals:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def windows(
    restrictions: Sequence[Restriction], tz: ZoneInfo, lo: datetime, hi: datetime
) -> list[Interval]:
    """Disjoint, sorted windows of ``restrictions`` clipped to ``[lo, hi)``."""
    # A window lasts at most one local day (plus a DST hour), so windows that
    # start two dates before lo's date or after hi's date cannot intersect.
    first = to_wall(lo, tz).date() - 2 * _DAY
    last = to_wall(hi, tz).date() + _DAY
    found: list[Interval] = []
    for restriction in restrictions:
        for day in _window_dates(restriction, first, last):
            start, end = _window(restriction, day, tz)
            if start < hi and end > lo:
                found.append((max(start, lo), min(end, hi)))
    return merge_intervals(found)


def clip_pieces(pieces: Sequence[Piece], allowed: Sequence[Interval]) -> list[Piece]:
    """Cut sorted, disjoint ``pieces`` down to the parts inside sorted ``allowed``."""
    out: list[Piece] = []
    j = 0
    count = len(allowed)
    for start, end, user in pieces:
        while j < count and allowed[j][1] <= start:
            j += 1
        k = j
        while k < count and allowed[k][0] < end:
            lo = max(start, allowed[k][0])
            hi = min(end, allowed[k][1])
            if lo < hi:
                out.append((lo, hi, user))
            k += 1
    return out
