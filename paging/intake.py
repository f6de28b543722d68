"""Incidents in: create (with dedup while open), and events that ack or resolve by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service, Severity
from escalation.rules import default_urgency
from escalation.service import next_incident_number
from paging import escalate
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
    session.scalar(select(Service.id).where(Service.id == service.id).with_for_update())


def trigger(session: Session, service: Service, event: Trigger, now: datetime) -> Triggered:
    """Open an incident, or attach to the open one with the same dedup key.

    The service row is locked first, so concurrent triggers with one key open one incident.
    """
    dedup_key = event.dedup_key or new_id()
    _lock_service(session, service)
    existing = incident_rows.open_incident(session, service.id, dedup_key)
    if existing is not None:
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
    incident = Incident(
        service_id=service.id,
        number=next_incident_number(session, service),
        title=event.title,
        details=event.details,
        severity=event.severity,
        urgency=event.urgency or default_urgency(event.severity),
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
    escalate.start(session, incident, now)
    return Triggered(incident, created=True)


def change_policy(session: Session, service: Service, now: datetime) -> int:
    """A service's policy changed: its open incidents restart at tier 1 of the new policy."""
    open_incidents = session.scalars(
        select(Incident)
        .where(Incident.service_id == service.id, Incident.status != IncidentStatus.resolved)
        .with_for_update()
    ).all()
    for incident in open_incidents:
        incident.policy_id = service.escalation_policy_id
        escalate.restart(session, incident, now, "Escalation policy changed; restarting at tier 1")
    return len(open_incidents)
