"""Incidents as people look for them: mine first, by status and service (queries only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus, Service
from paging.outbox.models import Notification

OPEN = (IncidentStatus.triggered, IncidentStatus.acknowledged)


@dataclass(frozen=True)
class Listed:
    incident: Incident
    service: Service
    mine: bool  # the service belongs to one of my teams, or I was paged for it


def _mine(user_id: str, team_ids: Sequence[str]) -> ColumnElement[bool]:
    """My teams' services, or an incident that paged me; never NULL, so NOT is "not mine"."""
    paged = Incident.id.in_(
        select(Notification.incident_id).where(
            Notification.user_id == user_id, Notification.incident_id.is_not(None)
        )
    )
    if not team_ids:
        return paged
    return or_(and_(Service.team_id.is_not(None), Service.team_id.in_(team_ids)), paged)


_NEWEST = (Incident.created_at.desc(), Incident.id.desc())


def my_open_incidents(
    session: Session, user_id: str, team_ids: Sequence[str], limit: int = 20
) -> list[Listed]:
    """Open incidents of my teams' services or that paged me, newest first."""
    rows = session.execute(
        select(Incident, Service)
        .join(Service, Service.id == Incident.service_id)
        .where(Incident.status.in_(OPEN), _mine(user_id, team_ids))
        .order_by(*_NEWEST)
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
    """One page of incidents: mine (my teams', or that paged me) first, then the others,
    each newest first; and whether more follow.

    Two ordered queries rather than one sorted on "is it mine": each reads only the rows of
    its page from the (status, created_at) index, however many resolved incidents there are.
    """
    base = (
        select(Incident, Service)
        .join(Service, Service.id == Incident.service_id)
        .where(Incident.status.in_(statuses))
    )
    if service_id:
        base = base.where(Incident.service_id == service_id)
    mine = _mine(user_id, team_ids)
    mine_total = (
        session.scalar(
            select(func.count()).select_from(
                base.where(mine).with_only_columns(Incident.id).subquery()
            )
        )
        or 0
    )
    want = limit + 1
    listed: list[Listed] = []
    if offset < mine_total:
        found = session.execute(base.where(mine).order_by(*_NEWEST).offset(offset).limit(want))
        listed += [Listed(incident, service, True) for incident, service in found]
    if len(listed) < want:
        found = session.execute(
            base.where(not_(mine))
            .order_by(*_NEWEST)
            .offset(max(0, offset - mine_total))
            .limit(want - len(listed))
        )
        listed += [Listed(incident, service, False) for incident, service in found]
    return listed[:limit], len(listed) > limit
