"""Incidents as people look for them: mine first, by status and service (queries only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, exists, literal, or_, select
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus, Service
from paging.models import Notification

OPEN = (IncidentStatus.triggered, IncidentStatus.acknowledged)


@dataclass(frozen=True)
class Listed:
    incident: Incident
    service: Service
    mine: bool  # the service belongs to one of my teams, or I was paged for it


def _mine(user_id: str, team_ids: Sequence[str]):  # type: ignore[no-untyped-def]
    paged = exists().where(Notification.incident_id == Incident.id, Notification.user_id == user_id)
    return or_(Service.team_id.in_(team_ids), paged) if team_ids else paged


def my_open_incidents(
    session: Session, user_id: str, team_ids: Sequence[str], limit: int = 20
) -> list[Listed]:
    """Open incidents of my teams' services or that paged me, newest first."""
    rows = session.execute(
        select(Incident, Service)
        .join(Service, Service.id == Incident.service_id)
        .where(Incident.status.in_(OPEN), _mine(user_id, team_ids))
        .order_by(Incident.created_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
    return [Listed(incident, service, True) for incident, service in rows]


def incident_board(
    session: Session,
    user_id: str,
    team_ids: Sequence[str],
    *,
    statuses: Sequence[IncidentStatus],
    service_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Listed], bool]:
    """One page of incidents, my teams' (and mine) first, then newest first; and whether
    more follow."""
    mine = case((_mine(user_id, team_ids), literal(0)), else_=literal(1))
    stmt = (
        select(Incident, Service, mine)
        .join(Service, Service.id == Incident.service_id)
        .where(Incident.status.in_(statuses))
    )
    if service_id:
        stmt = stmt.where(Incident.service_id == service_id)
    rows = session.execute(
        stmt.order_by(mine, Incident.created_at.desc(), Incident.id.desc())
        .offset(offset)
        .limit(limit + 1)
    ).all()
    listed = [Listed(incident, service, rank == 0) for incident, service, rank in rows[:limit]]
    return listed, len(rows) > limit
