"""Incidents in: :func:`ingest`, the one entry point every source calls (count a repeat of
the open incident with the dedup key, or open an incident)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    select,
    update,
)
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus, Service, Severity
from paging.engine import wake
from paging.intake import holds, repeats
from paging.response import notify
from people.models import Urgency
from people.validation import CONTROL
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


_services = cast(Table, Service.__table__)
_incidents = cast(Table, Incident.__table__)


def _claim(where: ColumnElement[bool]) -> Select[Service]:
    """Lock the service row and take the next incident number, reading the row as it is now.

    ``UPDATE ... RETURNING``: one round trip for the lock that serialises the opening of
    incidents on a service (dedup, numbering) and for the new number.
    """
    claimed = (
        update(_services)
        .where(where)
        .values(last_incident_number=_services.c.last_incident_number + 1)
        .returning(*_services.c)
    )
    return cast(Select[Service], select(Service).from_statement(claimed))


_CLAIM = _claim(_services.c.id == bindparam("b_service"))
_CLAIM_BY_KEY = _claim(_services.c.integration_key == bindparam("b_routing"))
#: The claimed row replaces any copy of the service the session had loaded before the lock:
#: ``last_incident_number`` must be the locked row's.
_FRESH = {"populate_existing": True}
#: Asked once the service is claimed: is an incident with the key open, and do support hours
#: or a maintenance window apply? A plain read will do: only a trigger that claimed the service
#: opens incidents, so one that did before us has committed (an open one found is then locked
#: and read again, as it may be resolving meanwhile).
_OPEN_ID = (
    select(_incidents.c.id)
    .where(
        _incidents.c.service_id == bindparam("b_service"),
        _incidents.c.dedup_key == bindparam("b_key"),
        _incidents.c.status != IncidentStatus.resolved,
    )
    .scalar_subquery()
)
_PROBE = select(_OPEN_ID, *holds.APPLIES)
#: PostgreSQL: the same, with the engine's wake-up (a new incident pages, most often).
_PROBE_AND_WAKE = select(_OPEN_ID, *holds.APPLIES, wake.NOTIFY_COLUMN)


def ingest(session: Session, service: Service, event: Trigger, now: datetime) -> Triggered:
    """The one way incidents come in: count a repeat of the open incident with the trigger's
    dedup key, or open an incident.

    A repeat (most events) locks only its incident's row (``paging.intake.repeats``), so
    events for different incidents of one service do not queue behind each other. Opening an
    incident claims the service row (locks it and takes the next number) and checks again, so
    concurrent triggers with one key open one incident (and the partial unique index on open
    (service, dedup_key) backs that up).

    Everything a new incident writes (the incident, the service's counter, log, holds, pages)
    goes to the database in one flush, before this returns.
    """
    if event.dedup_key is not None:
        of = repeats.Repeating(event.dedup_key, event.via, service_id=service.id)
        session.flush()  # the repeat goes past the ORM: it must have written everything
        repeated = repeats.count(session.connection(), of, now)
        if repeated is not None:
            return _counted(session, repeated)
    locked = session.scalar(_CLAIM, {"b_service": service.id}, execution_options=_FRESH)
    if locked is None:
        raise LookupError(f"service {service.id} no longer exists")
    return _open(session, locked, event, now)


def open_by_key(
    session: Session, routing_key: str, event: Trigger, now: datetime
) -> Triggered | None:
    """:func:`ingest`'s second half, on the service with integration key ``routing_key``
    (None when no service has it), for events whose repeat was counted ahead of any session
    (the events API counts it on a connection of its own: ``repeats.count``). A trigger that
    became a repeat meanwhile is still counted as one, under the service's lock."""
    claimed = session.scalar(_CLAIM_BY_KEY, {"b_routing": routing_key}, execution_options=_FRESH)
    return None if claimed is None else _open(session, claimed, event, now)


def _counted(session: Session, repeated: repeats.Repeat) -> Triggered:
    incident = session.get(Incident, repeated.incident_id, populate_existing=True)
    assert incident is not None  # it was just updated in this transaction
    return Triggered(incident, created=False)


def _open(session: Session, service: Service, event: Trigger, now: datetime) -> Triggered:
    """Open the incident numbered ``service.last_incident_number`` (the service is claimed)."""
    dedup_key = event.dedup_key or new_id()
    params = {"b_service": service.id, "b_key": dedup_key, "b_now": now}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        params |= wake.requested_with(session)
        open_id, has_hours, has_windows, _ = connection.execute(_PROBE_AND_WAKE, params).one()
    else:
        open_id, has_hours, has_windows = connection.execute(_PROBE, params).one()
    if open_id is not None:
        # Opened since the caller counted (or, under the lock, about to be resolved: then
        # not counted, and a new one opens).
        of = repeats.Repeating(dedup_key, event.via, service_id=service.id)
        repeated = repeats.count(connection, of, now)
        if repeated is not None:
            service.last_incident_number -= 1  # no new incident: the number is given back
            return _counted(session, repeated)
    decided = holds.plan_checked(
        session,
        service,
        event.severity,
        event.urgency,
        now,
        has_hours=has_hours,
        has_windows=has_windows,
    )
    incident = Incident(
        # Every value the code below reads is set here: nothing is written before the end.
        id=new_id(),
        service_id=service.id,
        number=service.last_incident_number,
        # Event text is never refused for a control character (the page must go out) but they
        # go: an ESC in a title would make a call's TwiML invalid XML.
        title=CONTROL.sub(" ", event.title),
        details=event.details,
        severity=event.severity,
        urgency=decided.urgency,
        status=IncidentStatus.triggered,
        dedup_key=dedup_key,
        source=None if event.source is None else CONTROL.sub(" ", event.source),
        trigger_count=1,
        policy_id=service.escalation_policy_id,
        epoch=0,
        loop=0,
        tier=0,
        created_at=now,
        updated_at=now,
    )
    if service.auto_resolve_timeout_seconds:
        incident.auto_resolve_at = now + timedelta(seconds=service.auto_resolve_timeout_seconds)
    # Queries below (policy, people, schedules) need none of the pending rows: one flush at the
    # end writes them all (the unit of work inserts the incident before rows that refer to it).
    with session.no_autoflush:
        session.add(incident)
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
    session.flush()
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
        notify.restart(session, incident, now, "Escalation policy changed; restarting at tier 1")
    return len(open_incidents)
