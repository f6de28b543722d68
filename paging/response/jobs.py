"""The engine's incident jobs: escalation steps, acknowledgement timeouts, auto-resolve.

Each steps the incidents due (row-locked, ``SKIP LOCKED`` so engines share them) in short
batches: a step's locks are held briefly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from paging.engine import metrics
from paging.engine.jobs import Job
from paging.response import actions, notify

log = logging.getLogger("watchbill.engine")

#: Escalation steps per transaction: short, so row locks are held briefly.
STEP_BATCH = 25


def _each(
    session: Session,
    stmt: Select[Incident],
    apply: Callable[[Session, Incident, datetime], Any],
    now: datetime,
) -> int:
    rows = session.scalars(
        stmt.limit(STEP_BATCH).with_for_update(skip_locked=True, key_share=True)
    ).all()
    if not rows:
        return 0
    try:
        # The whole batch under one savepoint (two round trips, not two per incident),
        # written by one flush: a step's queries (policy, people, schedules) read nothing
        # that the batch's earlier steps leave pending, so none of them flushes.
        with session.begin_nested():
            with session.no_autoflush:
                for incident in rows:
                    apply(session, incident, now)
            session.flush()
        return len(rows)
    except Exception:
        log.warning("a step of a batch of %d failed; stepping one at a time", len(rows))
    # The rows are still locked (a savepoint's rollback keeps the transaction's locks): one
    # at a time, so that one incident failing does not hold the others back.
    done = 0
    for incident in rows:
        try:
            with session.begin_nested():
                apply(session, incident, now)
            done += 1
        except Exception:
            log.exception("step failed; it will be retried", extra={"incident_id": incident.id})
    return done


def _advance(session: Session, incident: Incident, now: datetime) -> None:
    if incident.next_escalation_at is not None:
        lateness = (now - incident.next_escalation_at).total_seconds()
        metrics.escalation_lateness.observe(max(0.0, lateness))
    moved = notify.advance(session, incident, now)
    metrics.escalation_steps.labels(kind="step" if moved else "exhausted").inc()


def _due_escalations(session: Session, now: datetime) -> int:
    stmt = (
        select(Incident)
        .where(Incident.status == IncidentStatus.triggered, Incident.next_escalation_at <= now)
        .order_by(Incident.next_escalation_at)
    )
    return _each(session, stmt, _advance, now)


def _due_ack_timeouts(session: Session, now: datetime) -> int:
    stmt = select(Incident).where(
        Incident.status == IncidentStatus.acknowledged, Incident.ack_timeout_at <= now
    )
    return _each(session, stmt, actions.acknowledgement_timed_out, now)


def _due_auto_resolves(session: Session, now: datetime) -> int:
    stmt = select(Incident).where(
        Incident.status != IncidentStatus.resolved, Incident.auto_resolve_at <= now
    )
    return _each(session, stmt, actions.auto_resolve, now)


ESCALATIONS = Job(
    name="escalations",
    earliest=(
        select(func.min(Incident.next_escalation_at))
        .where(Incident.status == IncidentStatus.triggered)
        .scalar_subquery(),
    ),
    run=_due_escalations,
    batch=STEP_BATCH,
)
ACK_TIMEOUTS = Job(
    name="ack_timeouts",
    earliest=(
        select(func.min(Incident.ack_timeout_at))
        .where(Incident.status == IncidentStatus.acknowledged)
        .scalar_subquery(),
    ),
    run=_due_ack_timeouts,
    batch=STEP_BATCH,
)
AUTO_RESOLVES = Job(
    name="auto_resolves",
    earliest=(
        select(func.min(Incident.auto_resolve_at))
        .where(Incident.status != IncidentStatus.resolved)
        .scalar_subquery(),
    ),
    run=_due_auto_resolves,
    batch=STEP_BATCH,
)
