"""The final schedule: layering, overrides, merging, gaps and the queries.

Precedence
    Overrides beat every layer; among overlapping overrides the newest by
    ``(created_at, id)`` wins.  Among layers, a later layer in
    ``SchedulePlan.layers`` wins wherever it has someone; where it has nobody the
    earlier layers show through.  At most one person is on call at a time.

Merging and attribution
    ``Timeline.final`` merges touching pieces only when their attribution
    ``(user_id, layer, override_id)`` is equal, so every final shift names the
    exact source that put the person on call.  :func:`coalesce_by_user` merges
    touching pieces of the same person regardless of source (for calendars); a
    merged shift keeps the attribution of its first piece.

Windows
    Queries take ``[since, until)`` of at most :data:`MAX_WINDOW`.  In clipped
    mode shifts and gaps are cut to the window and cover it exactly.  In
    overflow mode the pieces touching the window edges are returned whole; they
    are extended up to :data:`EXTENT_CAP` beyond the window (a layer with a
    single user has unbounded shifts).  The same applies to ``on_call`` extents.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

from schedules.core.restrictions import Piece
from schedules.core.rotation import layer_pieces
from schedules.core.values import (
    Gap,
    ScheduleError,
    SchedulePlan,
    Shift,
    Timeline,
    WindowTooLargeError,
    load_zone,
    require_aware,
)

__all__ = [
    "EXTENT_CAP",
    "MAX_WINDOW",
    "coalesce_by_user",
    "next_shift",
    "on_call",
    "on_call_user",
    "timeline",
]

#: Longest accepted query window or ``next_shift`` horizon.
MAX_WINDOW = timedelta(days=367)
#: How far beyond a window whole (overflow) pieces and ``on_call`` extents reach.
EXTENT_CAP = timedelta(days=366)
_FIRST_STEP = timedelta(days=1)
_TICK = timedelta(microseconds=1)

Segment = Shift | Gap
_Key = tuple[str, int | None, str | None] | None
_Fetch = Callable[[datetime, datetime], Sequence[Segment]]
# (start, end, priority, user_id, layer index, override id)
_Item = tuple[datetime, datetime, int, str, int | None, str | None]
_OverrideRow = tuple[datetime, datetime, str, str]


class _Context:
    """A schedule prepared for queries: zone loaded, overrides ranked, UTC."""

    __slots__ = ("overrides", "schedule", "tz")

    def __init__(self, schedule: SchedulePlan) -> None:
        self.schedule = schedule
        self.tz: ZoneInfo = load_zone(schedule.time_zone)
        ranked = sorted(schedule.overrides, key=lambda o: (o.created_at, o.id))
        # Ascending priority: the last row beats all earlier rows.
        self.overrides: list[_OverrideRow] = [
            (o.start.astimezone(UTC), o.end.astimezone(UTC), o.user_id, o.id) for o in ranked
        ]

    def layer_shifts(self, index: int, lo: datetime, hi: datetime) -> list[Shift]:
        layer = self.schedule.layers[index]
        return [Shift(s, e, u, index, None) for s, e, u in layer_pieces(layer, self.tz, lo, hi)]

    def pieces(self, lo: datetime, hi: datetime) -> list[list[Piece]]:
        return [layer_pieces(layer, self.tz, lo, hi) for layer in self.schedule.layers]

    def final(
        self, lo: datetime, hi: datetime, pieces: list[list[Piece]] | None = None
    ) -> list[Shift]:
        items: list[_Item] = []
        for i, layer in enumerate(pieces if pieces is not None else self.pieces(lo, hi)):
            items.extend((s, e, i, u, i, None) for s, e, u in layer)
        rank = len(self.schedule.layers)
        for start, end, user, oid in self.overrides:
            if start < hi and end > lo:
                items.append((max(start, lo), min(end, hi), rank, user, None, oid))
            rank += 1
        return _layer_items(items)

    def segments(self, lo: datetime, hi: datetime) -> list[Segment]:
        return _with_gaps(self.final(lo, hi), lo, hi)


def _layer_items(items: list[_Item]) -> list[Shift]:
    """Sweep the items; the highest priority wins; merge equal attributions."""
    if not items:
        return []
    items.sort(key=itemgetter(0))
    points = sorted({t for item in items for t in (item[0], item[1])})
    heap: list[tuple[int, datetime, int]] = []
    rows: list[tuple[datetime, datetime, str, int | None, str | None]] = []
    pending, count = 0, len(items)
    for idx in range(len(points) - 1):
        now = points[idx]
        while pending < count and items[pending][0] <= now:
            heapq.heappush(heap, (-items[pending][2], items[pending][1], pending))
            pending += 1
        while heap and heap[0][1] <= now:
            heapq.heappop(heap)
        if not heap:
            continue
        _, _, _, user, layer, oid = items[heap[0][2]]
        later = points[idx + 1]
        if rows:
            start, end, *attribution = rows[-1]
            if end == now and attribution == [user, layer, oid]:
                rows[-1] = (start, later, user, layer, oid)
                continue
        rows.append((now, later, user, layer, oid))
    return [Shift(*row) for row in rows]


def _with_gaps(final: Iterable[Shift], lo: datetime, hi: datetime) -> list[Segment]:
    out: list[Segment] = []
    cursor = lo
    for shift in final:
        if shift.start > cursor:
            out.append(Gap(cursor, shift.start))
        out.append(shift)
        cursor = shift.end
    if cursor < hi:
        out.append(Gap(cursor, hi))
    return out


def _key(segment: Segment) -> _Key:
    if isinstance(segment, Gap):
        return None
    return (segment.user_id, segment.layer, segment.override_id)


def _start_of(fetch: _Fetch, t: datetime, same: Callable[[Segment], bool]) -> datetime:
    """Start of the run of ``same`` segments ending exactly at ``t`` (else ``t``)."""
    span = _FIRST_STEP
    while True:
        lo = t - span
        found = fetch(lo, t)
        if not found or found[-1].end != t or not same(found[-1]):
            return t
        if found[-1].start > lo or span >= EXTENT_CAP:
            return found[-1].start
        span = min(span * 2, EXTENT_CAP)


def _end_of(fetch: _Fetch, t: datetime, same: Callable[[Segment], bool]) -> datetime:
    """End of the run of ``same`` segments starting exactly at ``t`` (else ``t``)."""
    span = _FIRST_STEP
    while True:
        hi = t + span
        found = fetch(t, hi)
        if not found or found[0].start != t or not same(found[0]):
            return t
        if found[0].end < hi or span >= EXTENT_CAP:
            return found[0].end
        span = min(span * 2, EXTENT_CAP)


def _whole(fetch: _Fetch, found: list[Segment], lo: datetime, hi: datetime) -> None:
    """Extend, in place, the first/last segment of ``found`` that touch ``lo``/``hi``."""
    if not found:
        return
    first = found[0]
    if first.start == lo:
        key = _key(first)
        found[0] = replace(first, start=_start_of(fetch, lo, lambda s: _key(s) == key))
    last = found[-1]
    if last.end == hi:
        key = _key(last)
        found[-1] = replace(last, end=_end_of(fetch, hi, lambda s: _key(s) == key))


@contextmanager
def _in_range() -> Iterator[None]:
    try:
        yield
    except OverflowError as exc:
        raise ScheduleError("instant outside the supported date range") from exc


def _utc(value: datetime, what: str) -> datetime:
    require_aware(value, what)
    return value.astimezone(UTC)


def timeline(
    schedule: SchedulePlan, since: datetime, until: datetime, overflow: bool = False
) -> Timeline:
    """The final timeline, its gaps and every layer's pieces over ``[since, until)``.

    Clipped mode (default): final shifts and gaps cover the window exactly.
    ``overflow=True``: pieces touching the window edges are returned whole.
    Raises :class:`ScheduleError` for naive/reversed windows and
    :class:`WindowTooLargeError` beyond :data:`MAX_WINDOW`.
    """
    lo, hi = _utc(since, "since"), _utc(until, "until")
    if hi < lo:
        raise ScheduleError("until must not be before since")
    if hi - lo > MAX_WINDOW:
        raise WindowTooLargeError(f"window longer than {MAX_WINDOW.days} days")
    with _in_range():
        ctx = _Context(schedule)
        pieces = ctx.pieces(lo, hi)
        segments = _with_gaps(ctx.final(lo, hi, pieces), lo, hi)
        layers = [[Shift(s, e, u, i, None) for s, e, u in p] for i, p in enumerate(pieces)]
        if overflow and lo < hi:
            _whole(ctx.segments, segments, lo, hi)
            for i, shifts in enumerate(layers):
                fetch = _layer_fetch(ctx, i)
                as_segments: list[Segment] = list(shifts)
                _whole(fetch, as_segments, lo, hi)
                layers[i] = [s for s in as_segments if isinstance(s, Shift)]
    return Timeline(
        final=tuple(s for s in segments if isinstance(s, Shift)),
        gaps=tuple(s for s in segments if isinstance(s, Gap)),
        layers=tuple(tuple(shifts) for shifts in layers),
    )


def _layer_fetch(ctx: _Context, index: int) -> _Fetch:
    def fetch(lo: datetime, hi: datetime) -> list[Segment]:
        return list(ctx.layer_shifts(index, lo, hi))

    return fetch


def on_call_user(schedule: SchedulePlan, at: datetime) -> str | None:
    """Who is on call at instant ``at``: :func:`on_call` without the shift's extent."""
    found = on_call(schedule, at, whole=False)
    return None if found is None else found.user_id


def on_call(schedule: SchedulePlan, at: datetime, *, whole: bool = True) -> Shift | None:
    """The final shift containing ``at``, or ``None``: the one answer to "who is on call".

    The same layering as :func:`timeline` (the engine's schedule targets, ``/oncall``,
    ``/timeline`` and the calendar feeds all come through here). With ``whole`` the shift is
    whole, as in overflow mode (cost depends on the shift's length, capped at
    :data:`EXTENT_CAP` each way, never on the rotation's age); without it, the piece only
    spans ``at`` (a point lookup: who, from which layer or override).
    """
    at = _utc(at, "at")
    with _in_range():
        ctx = _Context(schedule)
        here = ctx.segments(at, at + _TICK)[0]
        if isinstance(here, Gap):
            return None
        if not whole:
            return here
        key = _key(here)

        def same(s: Segment) -> bool:
            return _key(s) == key

        return replace(
            here, start=_start_of(ctx.segments, at, same), end=_end_of(ctx.segments, at, same)
        )


def coalesce_by_user(shifts: Iterable[Shift]) -> tuple[Shift, ...]:
    """Merge touching shifts of the same user; a merged shift keeps the first
    piece's ``layer``/``override_id`` (for calendars and "my next shift")."""
    out: list[Shift] = []
    for shift in shifts:
        if out and out[-1].end == shift.start and out[-1].user_id == shift.user_id:
            out[-1] = replace(out[-1], end=shift.end)
        else:
            out.append(shift)
    return tuple(out)


def next_shift(
    schedule: SchedulePlan, user_id: str, after: datetime, horizon: timedelta
) -> Shift | None:
    """The user's first shift starting at or after ``after`` and before ``after + horizon``.

    Shifts are the final timeline coalesced by user (:func:`coalesce_by_user`);
    a shift already running at ``after`` is not "next".  The returned shift is
    whole (its end may lie beyond the horizon, capped at :data:`EXTENT_CAP`).
    """
    after = _utc(after, "after")
    if horizon > MAX_WINDOW:
        raise WindowTooLargeError(f"horizon longer than {MAX_WINDOW.days} days")
    if horizon <= timedelta(0):
        return None
    with _in_range():
        ctx = _Context(schedule)
        limit = after + horizon

        def fetch(lo: datetime, hi: datetime) -> tuple[Segment, ...]:
            return coalesce_by_user(ctx.final(lo, hi))

        def mine(s: Segment) -> bool:
            return isinstance(s, Shift) and s.user_id == user_id

        cursor = after
        before = fetch(after - _TICK, after)
        if before and mine(before[-1]):  # skip the shift already running
            cursor = _end_of(fetch, after, mine)
        span = timedelta(days=7)
        while cursor < limit:
            hi = min(cursor + span, limit)
            for shift in fetch(cursor, hi):
                if isinstance(shift, Shift) and shift.user_id == user_id:
                    end = shift.end if shift.end < hi else _end_of(fetch, hi, mine)
                    return replace(shift, end=max(end, shift.end))
            cursor, span = hi, span * 2
    return None
