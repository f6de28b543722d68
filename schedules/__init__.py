"""Pure schedule core: rotations, restrictions, layering, overrides, queries.

No database, no I/O, never reads the clock.  See ``schedules.model`` for the
value objects and ``schedules.timeline`` for the query semantics.
"""

from schedules.edits import (
    add_version,
    change_users,
    end_layer,
    revise,
    version_at,
    with_layer_version,
)
from schedules.model import (
    Gap,
    Holdover,
    Layer,
    LayerVersion,
    Override,
    Restriction,
    Rotation,
    Schedule,
    ScheduleError,
    Shift,
    ShiftUnit,
    Timeline,
    WindowTooLargeError,
)
from schedules.timeline import (
    EXTENT_CAP,
    MAX_WINDOW,
    coalesce_by_user,
    next_shift,
    on_call,
    on_call_user,
    timeline,
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
    "Schedule",
    "ScheduleError",
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
