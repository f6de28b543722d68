"""Incident rows and their log. Functions take a session; the caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentLog, IncidentStatus, Service
from store.errors import NotFound
from store.pagination import Page, paginate


def log(
    session: Session, incident: Incident, kind: str, message: str, at: datetime, **data: Any
) -> IncidentLog:
    entry = IncidentLog(
        incident_id=incident.id, at=at, kind=kind, message=message, data=data or None
    )
    session.add(entry)
    return entry


def get_incident(session: Session, incident_id: str, *, lock: bool = False) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    incident = session.scalar(stmt)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident


def open_incident(session: Session, service_id: str, dedup_key: str) -> Incident | None:
    return session.scalar(
        select(Incident).where(
            Incident.service_id == service_id,
            Incident.dedup_key == dedup_key,
            Incident.status != IncidentStatus.resolved,
        )
    )


def list_incidents(
    session: Session,
    *,
    status: IncidentStatus | None,
    service_id: str | None,
    cursor: str | None,
    limit: int,
    unrouted: bool | None = None,
) -> Page[Incident]:
    """Incidents, newest first; ``unrouted``: only those a pass of whose policy reached nobody
    (True), or only the others (False)."""
    stmt = select(Incident)
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    if unrouted is not None:
        stmt = stmt.where(
            Incident.unrouted_at.is_not(None) if unrouted else Incident.unrouted_at.is_(None)
        )
    if service_id is not None:
        stmt = stmt.where(Incident.service_id == service_id)
    return paginate(
        session,
        stmt,
        Incident.created_at,
        Incident.id,
        cursor=cursor,
        limit=limit,
        newest_first=True,
    )


def log_entries(session: Session, incident_id: str) -> list[IncidentLog]:
    stmt = select(IncidentLog).where(IncidentLog.incident_id == incident_id)
    return list(session.scalars(stmt.order_by(IncidentLog.at, IncidentLog.id)))


def service_of(session: Session, incident: Incident) -> Service:
    service = session.get(Service, incident.service_id)
    assert service is not None  # enforced by the foreign key
    return service


def count_unrouted(session: Session) -> int:
    """How many incidents ever had a pass of their policy that reached nobody."""
    found = session.scalar(
        select(func.count()).select_from(Incident).where(Incident.unrouted_at.is_not(None))
    )
    return int(found or 0)
