"""Maintenance windows: events are recorded but page no one while a window is on.

A window runs from ``starts_at`` to ``ends_at``, at most :data:`MAX_WINDOW_DAYS` (a window
given no end gets the longest; someone may end it sooner).
An incident opened during a window is held (``paging.intake.holds``). When the window ends the
engine closes it: with ``page_on_end`` the held incidents that are still triggered start
escalating then; without it they stay open and nobody is paged for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service
from escalation.service import get_service
from paging.engine import wake
from paging.intake.models import IncidentHold, MaintenanceWindow
from people.access import can_manage_team, require_team_manager
from store import audit
from store.audit import Actor
from store.errors import Conflict, Invalid, NotFound
from store.pagination import Page, paginate

#: The longest maintenance window: a muted service is a risk, so it ends by itself.
MAX_WINDOW_DAYS = 31


def may_operate(session: Session, actor: Actor, service: Service) -> bool:
    """Whether ``actor`` may start and end the service's maintenance windows (admins and the
    team's managers)."""
    return can_manage_team(session, actor, service.team_id)


def _require_operator(session: Session, actor: Actor, service_id: str) -> None:
    service = get_service(session, service_id)
    require_team_manager(session, actor, service.team_id, "manage maintenance windows")


def is_active(window: MaintenanceWindow, at: datetime) -> bool:
    return window.starts_at <= at and (window.ends_at is None or at < window.ends_at)


def active_window(session: Session, service_id: str, at: datetime) -> MaintenanceWindow | None:
    """The window the service is in at ``at`` (the one ending last when several overlap)."""
    rows = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.service_id == service_id,
            MaintenanceWindow.closed_at.is_(None),
            MaintenanceWindow.starts_at <= at,
            or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > at),
        )
    ).all()
    if not rows:
        return None
    open_ended = [w for w in rows if w.ends_at is None]
    if open_ended:
        return open_ended[0]
    return max(rows, key=lambda w: (w.ends_at, w.id))


def get_window(session: Session, service_id: str, window_id: str) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.service_id != service_id:
        raise NotFound(f"no maintenance window {window_id!r} on service {service_id!r}")
    return window


def list_windows(
    session: Session, service_id: str, *, cursor: str | None, limit: int
) -> Page[MaintenanceWindow]:
    get_service(session, service_id)
    stmt = select(MaintenanceWindow).where(MaintenanceWindow.service_id == service_id)
    return paginate(
        session,
        stmt,
        MaintenanceWindow.created_at,
        MaintenanceWindow.id,
        cursor=cursor,
        limit=limit,
        newest_first=True,
    )


def create_window(
    session: Session,
    actor: Actor,
    service_id: str,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    page_on_end: bool,
    description: str | None,
    now: datetime,
) -> MaintenanceWindow:
    """A window from ``starts_at`` (default now) to ``ends_at`` (default: the longest)."""
    _require_operator(session, actor, service_id)
    start = starts_at or now
    longest = timedelta(days=MAX_WINDOW_DAYS)
    if ends_at is None:
        ends_at = start + longest
    if ends_at <= start:
        raise Invalid("end", "must be after the start")
    if ends_at - start > longest:
        raise Invalid("end", f"a maintenance window lasts at most {MAX_WINDOW_DAYS} days")
    if ends_at <= now:
        raise Invalid("end", "must be in the future")
    window = MaintenanceWindow(
        service_id=service_id,
        starts_at=start,
        ends_at=ends_at,
        page_on_end=page_on_end,
        description=description,
        created_by=actor.label,
        created_at=now,
    )
    session.add(window)
    audit.record(session, actor, "create", window, None)
    wake.request(session)
    return window


def end_window(
    session: Session,
    actor: Actor,
    service_id: str,
    window_id: str,
    now: datetime,
    *,
    page_on_end: bool | None = None,
) -> MaintenanceWindow:
    """End a window now (the engine then pages what it held, if ``page_on_end``)."""
    _require_operator(session, actor, service_id)
    window = get_window(session, service_id, window_id)
    if window.starts_at > now:
        raise Conflict("the window has not started; delete it instead")
    if window.closed_at is not None or (window.ends_at is not None and window.ends_at <= now):
        raise Conflict("the window has already ended")
    before = audit.snapshot(window)
    window.ends_at = now
    window.ended_by = actor.label
    if page_on_end is not None:
        window.page_on_end = page_on_end
    audit.record(session, actor, "end", window, before)
    wake.request(session)
    return window


def delete_window(
    session: Session, actor: Actor, service_id: str, window_id: str, now: datetime
) -> None:
    """Delete a window that has not started yet (a started one is ended, not deleted)."""
    _require_operator(session, actor, service_id)
    window = get_window(session, service_id, window_id)
    if window.starts_at <= now and window.closed_at is None:
        raise Conflict("the window has started; end it instead")
    audit.record(session, actor, "delete", window, audit.snapshot(window), after=None)
    session.delete(window)


# --- the engine's part ---------------------------------------------------------------------


def due_ends(session: Session, now: datetime, limit: int = 200) -> int:
    """Close windows that have ended: release or drop the incidents they held."""
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.closed_at.is_(None), MaintenanceWindow.ends_at <= now)
        .order_by(MaintenanceWindow.ends_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for window in windows:
        window.closed_at = now
        held = session.scalars(
            select(IncidentHold).where(IncidentHold.window_id == window.id).with_for_update()
        ).all()
        for hold in held:
            if window.page_on_end:
                hold.release_at = now  # paged by holds.due_releases, checked again there
                continue
            session.delete(hold)
            incident = session.get(Incident, hold.incident_id)
            if incident is None or incident.status is IncidentStatus.resolved:
                continue
            incident_rows.log(
                session,
                incident,
                "maintenance_ended",
                "Maintenance window ended; not paging for what happened during it",
                now,
                window_id=window.id,
            )
    return len(windows)
