"""History-preserving layer edits: every edit appends a version effective at ``at``.

A new version is in force from its ``effective_from`` (the edit instant
``at``); everything before ``at`` keeps coming from the older versions, so an
edit never rewrites the past.  The helpers here are pure: they build the new
:class:`~schedules.core.values.LayerVersion` and :func:`add_version` /
:func:`with_layer_version` splice it into a layer / schedule.

``change_users(..., keep_current=True)``
    The person holding the rotation slot that contains ``at`` (even if removed
    from the list, and regardless of restriction windows) stays on call until
    that slot ends: the new version carries a :class:`~schedules.core.values.Holdover`
    for ``[at, slot end)``.  The grid (anchor, length, unit) is unchanged; only
    ``start_index`` is re-anchored so that the slot after the holdover goes to
    the current person's successor: the next user after them in the NEW list,
    or, if they were removed, the first user after them in the OLD order who is
    still in the new list (else the new list's first user).

``change_users(..., keep_current=False)``
    The new list applies from ``at`` with the grid and ``start_index`` as they
    are, so the on-call person may change at ``at``.

``end_layer``
    Removing a layer is a version whose ``end`` is ``at`` (clamped to the
    layer's ``[start, end]``); its past shifts stay in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from schedules.core.rotation import Grid, holder, version_index_at
from schedules.core.values import (
    Holdover,
    Layer,
    LayerVersion,
    Restriction,
    Rotation,
    ScheduleError,
    SchedulePlan,
    load_zone,
    require_aware,
)

__all__ = [
    "add_version",
    "change_users",
    "end_layer",
    "revise",
    "superseded",
    "version_at",
    "with_layer_version",
]


def _edit_instant(version: LayerVersion, at: datetime) -> datetime:
    require_aware(at, "at")
    at = at.astimezone(UTC)
    if version.effective_from is not None and at < version.effective_from:
        raise ScheduleError("an edit cannot take effect before the version it replaces")
    return at


def version_at(layer: Layer, at: datetime) -> LayerVersion | None:
    """The version of ``layer`` in force at ``at`` (``None`` before the first one)."""
    require_aware(at, "at")
    index = version_index_at(layer, at)
    return None if index is None else layer.versions[index]


def _successor(old: LayerVersion, new_users: tuple[str, ...], current: str, next_slot: int) -> str:
    if current in new_users:
        return new_users[(new_users.index(current) + 1) % len(new_users)]
    count = len(old.users)
    first = (old.start_index + next_slot) % count
    for step in range(count):
        candidate = old.users[(first + step) % count]
        if candidate in new_users:
            return candidate
    return new_users[0]


def change_users(
    version: LayerVersion,
    users: Sequence[str],
    at: datetime,
    time_zone: str,
    *,
    keep_current: bool = True,
) -> LayerVersion:
    """A new version of ``version`` with ``users`` (added/removed/reordered) from ``at``.

    ``time_zone`` is the schedule's zone (the grid lives on its wall clock).
    See the module docstring for ``keep_current``.
    """
    at = _edit_instant(version, at)
    new_users = tuple(users)
    edited = replace(version, effective_from=at, users=new_users, holdover=None)
    running = version.start <= at and (version.end is None or at < version.end)
    if not keep_current or not running:
        return edited
    grid = Grid(version.rotation, load_zone(time_zone))
    hold = version.holdover
    if hold is not None and at < hold.until:
        current, until = hold.user_id, hold.until.astimezone(UTC)
        next_slot = grid.slot_at(until)
    else:
        slot = grid.slot_at(at)
        current, until, next_slot = holder(version, slot), grid.handoff(slot + 1), slot + 1
    successor = _successor(version, new_users, current, next_slot)
    start_index = (new_users.index(successor) - next_slot) % len(new_users)
    return replace(edited, start_index=start_index, holdover=Holdover(current, until))


def revise(
    version: LayerVersion,
    at: datetime,
    *,
    rotation: Rotation | None = None,
    restrictions: Sequence[Restriction] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    clear_end: bool = False,
    start_index: int | None = None,
) -> LayerVersion:
    """A new version effective at ``at`` with the given fields replaced, applied as is.

    Fields left as ``None`` are kept; ``clear_end=True`` makes the layer endless.
    A running holdover (from an earlier ``keep_current`` edit) is kept.
    """
    at = _edit_instant(version, at)
    new_end = None if clear_end else (end if end is not None else version.end)
    return replace(
        version,
        effective_from=at,
        rotation=rotation if rotation is not None else version.rotation,
        restrictions=tuple(restrictions) if restrictions is not None else version.restrictions,
        start=start if start is not None else version.start,
        end=new_end,
        start_index=start_index if start_index is not None else version.start_index,
    )


def end_layer(version: LayerVersion, at: datetime) -> LayerVersion:
    """A version that ends the layer at ``at`` (never later than it already ends)."""
    at = _edit_instant(version, at)
    end = max(at, version.start)
    if version.end is not None:
        end = min(end, version.end)
    return replace(version, effective_from=at, end=end)


def superseded(effective_from: datetime | None, since: datetime) -> bool:
    """Whether a version in force from ``effective_from`` is dropped by one added from ``since``.

    Versions effective at or after ``since`` were never in force before it (scheduled edits);
    the new version replaces them.  Earlier ones (and the first, ``None``) are kept: the past
    is never rewritten.  The one rule for the pure layers (:func:`add_version`) and the layer
    rows (:func:`schedules.layer_rows.add_version`).
    """
    return effective_from is not None and effective_from >= since


def add_version(layer: Layer, version: LayerVersion) -> Layer:
    """Append ``version`` to ``layer``'s history, dropping the versions it supersedes."""
    since = version.effective_from
    if since is None:
        raise ScheduleError("an added version needs effective_from")
    kept = tuple(v for v in layer.versions if not superseded(v.effective_from, since))
    return replace(layer, versions=(*kept, version))


def with_layer_version(
    schedule: SchedulePlan,
    layer_id: str,
    build: Callable[[LayerVersion], LayerVersion],
    at: datetime,
) -> SchedulePlan:
    """Edit layer ``layer_id`` of ``schedule``: ``build`` maps the version in force
    at ``at`` to the new version, which is then added with :func:`add_version`."""
    layers = list(schedule.layers)
    for i, layer in enumerate(layers):
        if layer.id == layer_id:
            current = version_at(layer, at)
            if current is None:
                raise ScheduleError(f"layer {layer_id!r} has no version in force at {at}")
            layers[i] = add_version(layer, build(current))
            return replace(schedule, layers=tuple(layers))
    raise ScheduleError(f"unknown layer {layer_id!r}")
