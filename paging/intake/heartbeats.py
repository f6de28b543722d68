"""Heartbeat monitors: a job pings its URL; a missed interval opens an incident.

A monitor arms on its first ping. Each ping sets ``next_due_at`` to now + interval + grace;
the engine watches ``next_due_at`` (a durable timer in the database) and, when it passes,
opens ``Heartbeat '<name>' missed`` with the dedup key ``heartbeat:<id>`` (through
``paging.intake.trigger.ingest``, so dedup, maintenance and support hours apply). The next
ping resolves it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service, Severity
from escalation.service import get_service
from paging.engine import wake
from paging.intake.models import Heartbeat, new_heartbeat_token
from paging.intake.trigger import Trigger, ingest
from paging.response import actions
from people.access import require_team_manager
from store import audit
from store.audit import Actor
from store.errors import Conflict, NotFound
from store.pagination import Page, paginate

log = logging.getLogger("watchbill.heartbeats")

VIA = "heartbeat monitor"


def dedup_key(heartbeat: Heartbeat) -> str:
    return f"heartbeat:{heartbeat.id}"


def state(heartbeat: Heartbeat) -> str:
    """``inactive`` (never pinged), ``up`` or ``missed``."""
    if heartbeat.missed:
        return "missed"
    return "inactive" if heartbeat.last_ping_at is None else "up"


def _snapshot(heartbeat: Heartbeat) -> dict[str, Any]:
    data = audit.snapshot(heartbeat)
    data.pop("token", None)  # the ping URL is a credential
    return data


def _require_manager(session: Session, actor: Actor, service_id: str) -> Service:
    service = get_service(session, service_id)
    require_team_manager(session, actor, service.team_id, "manage heartbeat monitors")
    return service


def _name_free(session: Session, service_id: str, name: str, heartbeat_id: str | None) -> None:
    found = session.scalar(
        select(Heartbeat.id).where(Heartbeat.service_id == service_id, Heartbeat.name == name)
    )
    if found is not None and found != heartbeat_id:
        raise Conflict(f"the service has a heartbeat monitor named {name!r} already")


def _due(heartbeat: Heartbeat) -> datetime | None:
    if heartbeat.last_ping_at is None or heartbeat.missed:
        return None
    return heartbeat.last_ping_at + timedelta(
        seconds=heartbeat.interval_seconds + heartbeat.grace_seconds
    )


def get(session: Session, service_id: str, heartbeat_id: str) -> Heartbeat:
    heartbeat = session.get(Heartbeat, heartbeat_id)
    if heartbeat is None or heartbeat.service_id != service_id:
        raise NotFound(f"no heartbeat monitor {heartbeat_id!r} on service {service_id!r}")
    return heartbeat


def list_for(
    session: Session, service_id: str, *, cursor: str | None, limit: int
) -> Page[Heartbeat]:
    get_service(session, service_id)
    stmt = select(Heartbeat).where(Heartbeat.service_id == service_id)
    return paginate(session, stmt, Heartbeat.created_at, Heartbeat.id, cursor=cursor, limit=limit)


def create(
    session: Session,
    actor: Actor,
    service_id: str,
    *,
    name: str,
    interval_seconds: int,
    grace_seconds: int,
    now: datetime,
) -> Heartbeat:
    _require_manager(session, actor, service_id)
    _name_free(session, service_id, name, None)
    heartbeat = Heartbeat(
        service_id=service_id,
        name=name,
        interval_seconds=interval_seconds,
        grace_seconds=grace_seconds,
        token=new_heartbeat_token(),
        missed=False,
        created_at=now,
    )
    session.add(heartbeat)
    session.flush()
    audit.record(session, actor, "create", heartbeat, None, after=_snapshot(heartbeat))
    return heartbeat


def update(
    session: Session, actor: Actor, service_id: str, heartbeat_id: str, changes: dict[str, Any]
) -> Heartbeat:
    _require_manager(session, actor, service_id)
    heartbeat = get(session, service_id, heartbeat_id)
    if changes.get("name") is not None:
        _name_free(session, service_id, changes["name"], heartbeat.id)
    before = _snapshot(heartbeat)
    for key, value in changes.items():
        if value is not None:
            setattr(heartbeat, key, value)
    heartbeat.next_due_at = _due(heartbeat)
    audit.record(session, actor, "update", heartbeat, before, after=_snapshot(heartbeat))
    wake.request(session)
    return heartbeat


def rotate_token(session: Session, actor: Actor, service_id: str, heartbeat_id: str) -> Heartbeat:
    _require_manager(session, actor, service_id)
    heartbeat = get(session, service_id, heartbeat_id)
    heartbeat.token = new_heartbeat_token()
    audit.record(session, actor, "rotate_token", heartbeat, None, after=None)
    return heartbeat


def delete(session: Session, actor: Actor, service_id: str, heartbeat_id: str) -> None:
    _require_manager(session, actor, service_id)
    heartbeat = get(session, service_id, heartbeat_id)
    audit.record(session, actor, "delete", heartbeat, _snapshot(heartbeat), after=None)
    session.delete(heartbeat)


def ping(session: Session, token: str, now: datetime) -> Heartbeat:
    """Record a ping; a missed monitor is up again and its incident resolved."""
    usable = 0 < len(token) <= 64 and "\x00" not in token
    heartbeat = (
        session.scalar(select(Heartbeat).where(Heartbeat.token == token).with_for_update())
        if usable
        else None
    )
    if heartbeat is None:
        raise NotFound("no heartbeat monitor has this URL")
    was_missed = heartbeat.missed
    heartbeat.last_ping_at = now
    heartbeat.missed = False
    heartbeat.next_due_at = _due(heartbeat)
    if was_missed:
        incident = incident_rows.open_incident(session, heartbeat.service_id, dedup_key(heartbeat))
        if incident is not None:
            locked = incident_rows.get_incident(session, incident.id, lock=True)
            if locked.status is not IncidentStatus.resolved:
                actions.resolve(
                    session, locked, f"heartbeat:{heartbeat.name}", "heartbeat ping", now
                )
    wake.request(session)
    return heartbeat


# --- the engine's part ---------------------------------------------------------------------


def _missed(session: Session, heartbeat: Heartbeat, now: datetime) -> Incident:
    heartbeat.missed = True
    heartbeat.next_due_at = None
    service = get_service(session, heartbeat.service_id)
    last = heartbeat.last_ping_at.isoformat() if heartbeat.last_ping_at else None
    result = ingest(
        session,
        service,
        Trigger(
            title=f"Heartbeat '{heartbeat.name}' missed",
            severity=Severity.critical,
            details={
                "heartbeat_id": heartbeat.id,
                "heartbeat": heartbeat.name,
                "interval_seconds": heartbeat.interval_seconds,
                "grace_seconds": heartbeat.grace_seconds,
                "last_ping_at": last,
            },
            dedup_key=dedup_key(heartbeat),
            source=f"heartbeat:{heartbeat.name}",
            via=VIA,
        ),
        now,
    )
    incident_rows.log(
        session,
        result.incident,
        "heartbeat_missed",
        f"No ping from '{heartbeat.name}' since {last} "
        f"(interval {heartbeat.interval_seconds} s, grace {heartbeat.grace_seconds} s)",
        now,
        heartbeat_id=heartbeat.id,
    )
    return result.incident


def due_misses(session: Session, now: datetime, limit: int = 200) -> int:
    """Open an incident for every monitor whose ping is overdue."""
    overdue = session.scalars(
        select(Heartbeat)
        .where(Heartbeat.next_due_at <= now)
        .order_by(Heartbeat.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for heartbeat in overdue:
        try:
            with session.begin_nested():
                _missed(session, heartbeat, now)
        except Exception:
            log.exception("heartbeat %s: opening its incident failed; retrying", heartbeat.id)
    return len(overdue)
