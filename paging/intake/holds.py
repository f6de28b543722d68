"""Whether a new incident pages now: maintenance windows and support hours, durably.

``paging.intake.trigger`` asks :func:`plan` (urgency, and what would hold paging back) and then
:func:`hold_or_start`: an incident opened during a maintenance window, or a low-urgency one
opened outside support hours, gets an ``incident_holds`` row instead of escalation. The
engine releases holds when due (:func:`due_releases`) and checks again before paging, so a
released incident still honours another window or the support hours in force then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service, Severity
from escalation.rules import default_urgency
from paging.intake import maintenance, support_hours
from paging.intake.models import IncidentHold, MaintenanceWindow, SupportHoursRow
from paging.response import notify
from people.models import Urgency

MAINTENANCE = "maintenance"
SUPPORT_HOURS = "support_hours"

log = logging.getLogger("watchbill.holds")


@dataclass(frozen=True)
class Plan:
    urgency: Urgency
    window: MaintenanceWindow | None  # the maintenance window in force
    release_at: datetime | None  # low urgency outside support hours: when they begin
    zone: str | None  # the support hours' zone, for messages


_hours = cast(Table, SupportHoursRow.__table__)
_windows = cast(Table, MaintenanceWindow.__table__)
#: "Does anything here apply?" (for most services: no), as columns (parameters ``b_service``,
#: ``b_now``): intake asks them in the same round trip as its own check of the service.
APPLIES = (
    exists().where(_hours.c.service_id == bindparam("b_service")),
    exists().where(
        _windows.c.service_id == bindparam("b_service"),
        _windows.c.closed_at.is_(None),
        _windows.c.starts_at <= bindparam("b_now", type_=_windows.c.starts_at.type),
    ),
)
_ANYTHING = select(*APPLIES)


def plan(
    session: Session, service: Service, severity: Severity, urgency: Urgency | None, now: datetime
) -> Plan:
    """The new incident's urgency, and what (if anything) holds its paging back."""
    session.flush()  # the query below goes past the ORM: it must have written everything
    params = {"b_service": service.id, "b_now": now}
    has_hours, has_windows = session.connection().execute(_ANYTHING, params).one()
    return plan_checked(
        session, service, severity, urgency, now, has_hours=has_hours, has_windows=has_windows
    )


def plan_checked(
    session: Session,
    service: Service,
    severity: Severity,
    urgency: Urgency | None,
    now: datetime,
    *,
    has_hours: bool,
    has_windows: bool,
) -> Plan:
    """:func:`plan`, given the answers to :data:`APPLIES` (asked at ``now``)."""
    if not has_hours:
        default = urgency or default_urgency(severity)
        decision = support_hours.Decision(default, inside=True, release_at=None, zone=None)
    else:
        decision = support_hours.decide(session, service, severity, urgency, now)
    window = maintenance.active_window(session, service.id, now) if has_windows else None
    return Plan(decision.urgency, window, decision.release_at, decision.zone)


def _local(at: datetime, zone: str | None) -> str:
    utc = at.strftime("%Y-%m-%d %H:%M UTC")
    if zone is None or zone == "UTC":
        return utc
    local = at.astimezone(ZoneInfo(zone))
    return f"{local.strftime('%Y-%m-%d %H:%M')} {zone} ({utc})"


def _hold(
    session: Session, incident: Incident, existing: IncidentHold | None, **values: object
) -> None:
    if existing is None:
        session.add(IncidentHold(incident_id=incident.id, **values))
        return
    for key, value in values.items():
        setattr(existing, key, value)


def hold_or_start(
    session: Session,
    incident: Incident,
    decided: Plan,
    now: datetime,
    existing: IncidentHold | None = None,
) -> bool:
    """Hold the incident's paging if the plan says so, else start escalation. True if held."""
    window = decided.window
    if window is not None:
        until = (
            "until it is ended"
            if window.ends_at is None
            else f"until {_local(window.ends_at, None)}"
        )
        _hold(
            session,
            incident,
            existing,
            reason=MAINTENANCE,
            window_id=window.id,
            release_at=None,
            created_at=now,
        )
        incident_rows.log(
            session,
            incident,
            "maintenance",
            f"Service in maintenance {until}: recorded, nobody paged"
            + (" (paged when the window ends)" if window.page_on_end else ""),
            now,
            window_id=window.id,
        )
        return True
    if decided.release_at is not None and decided.urgency is Urgency.low:
        _hold(
            session,
            incident,
            existing,
            reason=SUPPORT_HOURS,
            window_id=None,
            release_at=decided.release_at,
            created_at=now,
        )
        incident_rows.log(
            session,
            incident,
            "deferred",
            "Low urgency outside support hours: paging when they begin, "
            f"{_local(decided.release_at, decided.zone)}",
            now,
            page_at=decided.release_at.isoformat(),
        )
        return True
    if existing is not None:
        session.delete(existing)
    notify.start(session, incident, now)
    return False


def due_releases(session: Session, now: datetime, limit: int = 200) -> int:
    """Page held incidents whose time has come (if they still need it)."""
    due = session.scalars(
        select(IncidentHold)
        .where(IncidentHold.release_at <= now)
        .order_by(IncidentHold.release_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for hold in due:
        try:
            with session.begin_nested():
                _release(session, hold, now)
        except Exception:
            log.exception(
                "incident %s: releasing its hold failed; it will be retried", hold.incident_id
            )
    return len(due)


def _release(session: Session, hold: IncidentHold, now: datetime) -> None:
    incident = incident_rows.get_incident(session, hold.incident_id, lock=True)
    started = incident.next_escalation_at is not None  # someone escalated it by hand
    if incident.status is not IncidentStatus.triggered or started:
        session.delete(hold)
        return
    service = incident_rows.service_of(session, incident)
    reason = (
        "Maintenance window ended (page_on_end)"
        if hold.reason == MAINTENANCE
        else "Support hours began"
    )
    decided = plan(session, service, incident.severity, incident.urgency, now)
    if decided.window is None and not (decided.release_at and decided.urgency is Urgency.low):
        incident_rows.log(session, incident, "released", f"{reason}: paging now", now)
    hold_or_start(session, incident, decided, now, existing=hold)
