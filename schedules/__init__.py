"""Schedules: who is on call when.

The package exports its pure core, :mod:`schedules.core`: value objects (a
:class:`SchedulePlan` with its layers, rotations, restrictions and overrides), the query
semantics (:mod:`schedules.core.timeline`) and history-keeping edits
(:mod:`schedules.core.edits`).  The core never touches a database, the network or the clock.

Around it, with a session (never committing): the tables in :mod:`schedules.models`,
conversion between rows and plans in :mod:`schedules.rows`, loading and editing schedules in
:mod:`schedules.service`, one layer at a time in :mod:`schedules.layers` (client specs:
:mod:`schedules.specs`; version rows: :mod:`schedules.layer_rows`), overrides in
:mod:`schedules.overrides`, who is on call in :mod:`schedules.queries`, gaps ahead in
:mod:`schedules.coverage`, edit previews in :mod:`schedules.preview`, and what blocks
deactivating a user in :mod:`schedules.commitments`.
"""

from schedules.core.edits import (
    add_version,
    change_users,
    end_layer,
    revise,
    version_at,
    with_layer_version,
)
from schedules.core.timeline import (
    EXTENT_CAP,
    MAX_WINDOW,
    coalesce_by_user,
    next_shift,
    on_call,
    on_call_user,
    timeline,
)
from schedules.core.values import (
    Gap,
    Holdover,
    Layer,
    LayerVersion,
    Override,
    Restriction,
    Rotation,
    ScheduleError,
    SchedulePlan,
    Shift,
    ShiftUnit,
    Timeline,
    WindowTooLargeError,
)

__all__ = [
    "EXTENT_CAP",
    "MAX_WINDOW",
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
    "add_version",
    "change_users",
    "coalesce_by_user",
    "end_layer",
    "next_shift",
    "on_call",
    "on_call_user",
    "revise",
    "timeline",
    "version_at",
    "with_layer_version",
]
