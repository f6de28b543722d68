"""Preview an edit before saving it: the final timeline before and after, and what changes.

The preview runs the very service call that saving makes (:func:`schedules.service.
create_schedule` or :func:`~schedules.service.update_schedule`, with its permission checks,
validation and versioned edit) inside a savepoint, reads the timeline, and rolls the
savepoint back. Nothing is written; there is no second copy of the editing rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from schedules.core.changes import ShiftChange, compare
from schedules.core.values import Timeline
from schedules.models import Schedule
from schedules.queries import schedule_timeline
from schedules.service import LayerEdits, create_schedule, edit_instant, update_schedule
from schedules.specs import LayerSpec
from store.audit import Actor

__all__ = ["EditPreview", "preview_create", "preview_update"]

EMPTY = Timeline(final=(), gaps=(), layers=())


@dataclass(frozen=True)
class EditPreview:
    """The timeline over ``[since, until)`` before and after an edit taking effect at ``at``."""

    at: datetime
    since: datetime
    until: datetime
    before: Timeline
    after: Timeline
    changes: tuple[ShiftChange, ...]


def _rehearse(
    session: Session,
    apply: Callable[[], Schedule],
    before: Timeline,
    at: datetime,
    since: datetime,
    until: datetime,
) -> EditPreview:
    savepoint = session.begin_nested()
    try:
        schedule = apply()
        session.flush()
        after = schedule_timeline(session, schedule.id, since, until)
    finally:
        savepoint.rollback()
    changes = compare(before.final, after.final, since, until)
    return EditPreview(at, since, until, before, after, changes)


def preview_create(
    session: Session,
    actor: Actor,
    *,
    name: str,
    time_zone: str,
    team_id: str | None,
    layers: Sequence[LayerSpec],
    now: datetime,
    since: datetime,
    until: datetime,
) -> EditPreview:
    """What :func:`create_schedule` with these arguments would put on call."""

    def apply() -> Schedule:
        return create_schedule(
            session, actor, name=name, time_zone=time_zone, team_id=team_id, layers=layers
        )

    return _rehearse(session, apply, EMPTY, edit_instant(None, now), since, until)


def preview_update(
    session: Session,
    actor: Actor,
    schedule_id: str,
    *,
    now: datetime,
    edits: LayerEdits,
    since: datetime,
    until: datetime,
    **fields: Any,
) -> EditPreview:
    """What :func:`update_schedule` with these arguments (``fields``: ``name``,
    ``time_zone``, ``team_id``) would change."""
    at = edit_instant(edits.effective_from, now)
    before = schedule_timeline(session, schedule_id, since, until)

    def apply() -> Schedule:
        return update_schedule(session, actor, schedule_id, now=now, edits=edits, **fields)

    return _rehearse(session, apply, before, at, since, until)
