"""Incidents in: create (with dedup while open), and events that ack or resolve by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentLog, IncidentStatus, Service, Severity
from paging import escalate, holds
from people.models import Urgency
from store.base import new_id


@dataclass(frozen=True)
class Trigger:
    title: str
    severity: Severity = Severity.critical
    details: dict[str, Any] | None = None
    dedup_key: str | None = None
    source: str | None = None
    urgency: Urgency | None = None
    via: str = "api"


@dataclass(frozen=True)
class Triggered:
    incident: Incident
    created: bool


def _lock_service(session: Session, service: Service) -> None:
    """Lock and re-read the service row: it serialises triggers (dedup) and numbering."""
    # populate_existing: the service may have been loaded before the lock (by key, say); its
    # ``last_incident_number`` must be the locked row's, not a stale copy.
    session.scalar(
        select(Service)
        .where(Service.id == service.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _open_locked(session: Session, service_id: str, dedup_key: str) -> Incident | None:
    """The open incident with ``dedup_key``, row-locked (re-read, never a stale copy)."""
    return session.scalar(
        select(Incident)
        .where(
            Incident.service_id == service_id,
            Incident.dedup_key == dedup_key,
            Incident.status != IncidentStatus.resolved,
        )
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _deduplicated(session: Session, existing: Incident, event: Trigger, now: datetime) -> Triggered:
    existing.trigger_count += 1
    existing.updated_at = now
    incident_rows.log(
        session,
        existing,
        "deduplicated",
        f"Triggered again via {event.via} (#{existing.trigger_count}); not paged again",
        now,
        count=existing.trigger_count,
    )
    return Triggered(existing, created=False)


@dataclass(frozen=True)
class Repeat:
    incident_id: str
    trigger_count: int


_incidents = cast(Table, Incident.__table__)
_log = cast(Table, IncidentLog.__table__)
#: Built once: the hot path pays for no statement construction, only for executing.
_COUNT_REPEAT = (
    update(_incidents)
    .where(
        _incidents.c.service_id == bindparam("b_service"),
        _incidents.c.dedup_key == bindparam("b_key"),
        _incidents.c.status != IncidentStatus.resolved,
    )
    .values(
        trigger_count=_incidents.c.trigger_count + 1,
        updated_at=bindparam("b_now", type_=_incidents.c.updated_at.type),
    )
    .returning(_incidents.c.id, _incidents.c.trigger_count)
)
_LOG_REPEAT = insert(_log)


def repeat(
    session: Session, service_id: str, dedup_key: str, via: str, now: datetime
) -> Repeat | None:
    """Count a repeated trigger on the open incident with ``dedup_key``; None if none is open.

    The hot path of events in (most events repeat an open alert): one ``UPDATE ... RETURNING``
    (which row-locks, and skips an incident being resolved meanwhile) and one log insert. A
    None answer means :func:`trigger` decides (it checks again under the service lock).
    """
    session.flush()  # the statements below go past the ORM: it must have written everything
    connection = session.connection()
    params = {"b_service": service_id, "b_key": dedup_key, "b_now": now}
    row = connection.execute(_COUNT_REPEAT, params).first()
    if row is None:
        return None
    incident_id, count = row
    entry = {
        "incident_id": incident_id,
        "at": now,
        "kind": "deduplicated",
        "message": f"Triggered again via {via} (#{count}); not paged again",
        "data": {"count": count},
    }
    connection.execute(_LOG_REPEAT, entry)
    return Repeat(incident_id, count)


def trigger(
    session: Session,
    service: Service,
    event: Trigger,
    now: datetime,
    *,
    repeat_checked: bool = False,
) -> Triggered:
    """Open an incident, or attach to the open one with the same dedup key.

    A repeat (most events) locks only its incident's row, so events for different incidents of
    one service do not queue behind each other. Opening an incident locks the service row and
    checks again, so concurrent triggers with one key open one incident (and the partial
    unique index on open (service, dedup_key) backs that up). ``repeat_checked``: the caller
    has just tried :func:`repeat` in this transaction, and nothing was open.
    """
    if event.dedup_key is not None and not repeat_checked:
        repeated = repeat(session, service.id, event.dedup_key, event.via, now)
        if repeated is not None:
            incident = session.get(Incident, repeated.incident_id, populate_existing=True)
            assert incident is not None  # it was just updated in this transaction
            return Triggered(incident, created=False)
    dedup_key = event.dedup_key or new_id()
    _lock_service(session, service)
    if event.dedup_key is not None:
        existing = _open_locked(session, service.id, dedup_key)
        if existing is not None:
            return _deduplicated(session, existing, event, now)
    decided = holds.plan(session, service, event.severity, event.urgency, now)
    service.last_incident_number += 1  # the row is locked and freshly read
    incident = Incident(
        service_id=service.id,
        number=service.last_incident_number,
        title=event.title,
        details=event.details,
        severity=event.severity,
        urgency=decided.urgency,
        status=IncidentStatus.triggered,
        dedup_key=dedup_key,
        source=event.source,
        policy_id=service.escalation_policy_id,
        created_at=now,
        updated_at=now,
    )
    if service.auto_resolve_timeout_seconds:
        incident.auto_resolve_at = now + timedelta(seconds=service.auto_resolve_timeout_seconds)
    session.add(incident)
    session.flush()
    incident_rows.log(
        session,
        incident,
        "triggered",
        f"Triggered via {event.via}: {event.title}",
        now,
        severity=event.severity.value,
        urgency=incident.urgency.value,
    )
    holds.hold_or_start(session, incident, decided, now)  # maintenance, support hours
    return Triggered(incident, created=True)


def change_policy(session: Session, service: Service, now: datetime) -> int:
    """A service's policy changed: its open incidents restart at tier 1 of the new policy."""
    open_incidents = session.scalars(
        select(Incident)
        .where(Incident.service_id == service.id, Incident.status != IncidentStatus.resolved)
        .with_for_update(key_share=True)
    ).all()
    for incident in open_incidents:
        incident.policy_id = service.escalation_policy_id
        escalate.restart(session, incident, now, "Escalation policy changed; restarting at tier 1")
    return len(open_incidents)
