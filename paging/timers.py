"""The engine's events-in timers: missed heartbeats, ended maintenance windows, held pages.

Their state is in the database (``heartbeats.next_due_at``, ``maintenance_windows.ends_at``,
``incident_holds.release_at``). The engine asks for their earliest deadlines (:data:`EARLIEST`)
in the same query as its own, so an idle tick costs one statement.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, exists, func, select
from sqlalchemy.orm import Session

from paging import heartbeats, holds, maintenance
from paging.integrations_models import Heartbeat, IncidentHold, MaintenanceWindow

_beats = cast(Table, Heartbeat.__table__)
_windows = cast(Table, MaintenanceWindow.__table__)
_holds = cast(Table, IncidentHold.__table__)
_NOW = bindparam("b_now", type_=_beats.c.next_due_at.type)

_ANY_DUE = select(
    exists().where(_beats.c.next_due_at <= _NOW)
    | exists().where(_windows.c.closed_at.is_(None), _windows.c.ends_at <= _NOW)
    | exists().where(_holds.c.release_at <= _NOW)
)
#: The earliest deadline of each timer, as labelled columns (the engine asks for them in
#: the same query as its own).
EARLIEST = (
    select(func.min(_beats.c.next_due_at)).scalar_subquery().label("heartbeat"),
    select(func.min(_windows.c.ends_at))
    .where(_windows.c.closed_at.is_(None))
    .scalar_subquery()
    .label("window_end"),
    select(func.min(_holds.c.release_at)).scalar_subquery().label("hold"),
)


def run_due(session: Session, now: datetime, limit: int) -> int:
    """Do what is due, in order; returns the largest batch (``limit``: there may be more)."""
    session.flush()
    if not session.connection().scalar(_ANY_DUE, {"b_now": now}):
        return 0
    return max(
        heartbeats.due_misses(session, now, limit),
        maintenance.due_ends(session, now, limit),
        holds.due_releases(session, now, limit),
    )
