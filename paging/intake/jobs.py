"""The engine's events-in jobs: missed heartbeats, ended maintenance windows, held pages.

Their timers are columns (``heartbeats.next_due_at``, ``maintenance_windows.ends_at``,
``incident_holds.release_at``); each job runs in its own transaction, in this order when
several are due (a window's end may release holds: the engine's next round pages them).
"""

from __future__ import annotations

from sqlalchemy import func, select

from paging.engine.jobs import Job
from paging.intake import heartbeats, holds, maintenance
from paging.intake.models import Heartbeat, IncidentHold, MaintenanceWindow

#: Rows per transaction.
BATCH = 200

MISSED_HEARTBEATS = Job(
    name="heartbeats",
    earliest=(select(func.min(Heartbeat.next_due_at)).scalar_subquery(),),
    run=heartbeats.due_misses,
    batch=BATCH,
)
WINDOW_ENDS = Job(
    name="window_ends",
    earliest=(
        select(func.min(MaintenanceWindow.ends_at))
        .where(MaintenanceWindow.closed_at.is_(None))
        .scalar_subquery(),
    ),
    run=maintenance.due_ends,
    batch=BATCH,
)
HELD_PAGES = Job(
    name="holds",
    earliest=(select(func.min(IncidentHold.release_at)).scalar_subquery(),),
    run=holds.due_releases,
    batch=BATCH,
)
