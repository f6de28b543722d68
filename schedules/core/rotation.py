"""One layer's shifts: the wall-clock handoff grid, versions and restrictions.

Grid
    Handoff ``k`` is at ``anchor_wall + k * step`` on the schedule zone's wall
    clock (naive arithmetic) resolved with :func:`~schedules.core.wallclock.to_instant`,
    ``k = 0`` included: an anchor given as the second occurrence of an ambiguous
    wall time resolves to the first occurrence like every other handoff, which
    keeps the grid monotone.  Slot ``k`` is ``[handoff(k), handoff(k + 1))``;
    empty slots (both handoffs in the same spring-forward gap) are dropped but
    still consume their turn.  Finding the slot of an instant is O(1): estimate
    ``k`` from wall-clock distance, then correct by a step or two.  Nothing ever
    walks from the anchor, so cost is independent of the rotation's age.

Layer
    Version ``i`` is in force over ``[effective_from_i, effective_from_{i+1})``
    and covers ``[start, end)`` of that.  Within it, an optional holdover
    (``Holdover``) covers ``[effective_from, until)``, the grid the rest, and
    the result is cut to the restriction windows.  Touching pieces of the same
    user (consecutive slots, version boundaries) are merged.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.core.restrictions import Piece, clip_pieces, windows
from schedules.core.values import Layer, LayerVersion, Rotation
from schedules.core.wallclock import to_instant, to_wall

__all__ = [
    "Grid",
    "holder",
    "layer_pieces",
    "version_bounds",
    "version_index_at",
]

_UNIT_STEP = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}


class Grid:
    """The handoff grid of a :class:`~schedules.core.values.Rotation` in one zone."""

    __slots__ = ("anchor_wall", "step", "tz")

    def __init__(self, rotation: Rotation, tz: ZoneInfo) -> None:
        self.tz = tz
        self.anchor_wall = to_wall(rotation.handoff, tz)
        self.step = _UNIT_STEP[rotation.shift_unit] * rotation.shift_length

    def handoff(self, k: int) -> datetime:
        """Instant (UTC) of handoff ``k``; non-decreasing in ``k``."""
        return to_instant(self.anchor_wall + k * self.step, self.tz)

    def slot_at(self, at: datetime) -> int:
        """The ``k`` with ``handoff(k) <= at < handoff(k + 1)`` (never an empty slot)."""
        # The wall-clock estimate is never too high: resolution is monotone and
        # maps ``at``'s own wall time to ``at`` or (second occurrence) earlier,
        # so ``handoff(k) <= at``.  It can be low by a step or two around
        # folds, gaps and empty slots.
        k = (to_wall(at, self.tz) - self.anchor_wall) // self.step
        while self.handoff(k + 1) <= at:
            k += 1
        return k

    def slots(self, lo: datetime, hi: datetime) -> Iterator[tuple[int, datetime, datetime]]:
        """Non-empty slots ``(k, start, end)`` meeting ``[lo, hi)``, clipped to it."""
        if lo >= hi:
            return
        k = self.slot_at(lo)
        start = self.handoff(k)
        while start < hi:
            end = self.handoff(k + 1)
            if end > start:
                yield k, max(start, lo), min(end, hi)
            start = end
            k += 1


def holder(version: LayerVersion, k: int) -> str:
    """The user holding slot ``k`` of ``version``'s grid."""
    users = version.users
    return users[(version.start_index + k) % len(users)]


def version_bounds(layer: Layer, i: int) -> tuple[datetime | None, datetime | None]:
    """``[from, until)`` during which version ``i`` is in force (``None`` = unbounded)."""
    versions = layer.versions
    until = versions[i + 1].effective_from if i + 1 < len(versions) else None
    return versions[i].effective_from, until


def version_index_at(layer: Layer, at: datetime) -> int | None:
    """Index of the version in force at ``at`` (``None`` before the first one)."""
    versions = layer.versions
    first = versions[0].effective_from
    if first is not None and at < first:
        return None
    keys = [v.effective_from for v in versions[1:] if v.effective_from is not None]
    return bisect.bisect_right(keys, at)


def _version_pieces(version: LayerVersion, tz: ZoneInfo, lo: datetime, hi: datetime) -> list[Piece]:
    """Pieces of ``version`` inside ``[lo, hi)`` (already within its bounds)."""
    pieces: list[Piece] = []
    grid_from = lo
    hold = version.holdover
    if hold is not None and hold.until > lo:
        grid_from = min(hold.until.astimezone(UTC), hi)
        pieces.append((lo, grid_from, hold.user_id))
    if len(set(version.users)) == 1:  # one person: the grid cannot change anything
        if grid_from < hi:
            pieces.append((grid_from, hi, version.users[0]))
    else:
        grid = Grid(version.rotation, tz)
        slots = grid.slots(grid_from, hi)
        pieces.extend((start, end, holder(version, k)) for k, start, end in slots)
    if version.restrictions:
        pieces = clip_pieces(pieces, windows(version.restrictions, tz, lo, hi))
    return pieces


def _merge_same_user(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if merged and merged[-1][1] == piece[0] and merged[-1][2] == piece[2]:
            merged[-1] = (merged[-1][0], piece[1], piece[2])
        else:
            merged.append(piece)
    return merged


def layer_pieces(layer: Layer, tz: ZoneInfo, lo: datetime, hi: datetime) -> list[Piece]:
    """Sorted, disjoint pieces of ``layer`` clipped to ``[lo, hi)`` (UTC aware)."""
    pieces: list[Piece] = []
    for i, version in enumerate(layer.versions):
        since, until = version_bounds(layer, i)
        start, end = lo, hi
        for bound in (since, version.start):
            if bound is not None and bound > start:
                start = bound.astimezone(UTC)
        for bound in (until, version.end):
            if bound is not None and bound < end:
                end = bound.astimezone(UTC)
        if start < end:
            pieces.extend(_version_pieces(version, tz, start, end))
    return _merge_same_user(pieces)
