"""Incidents in: create (with dedup while open), and events that ack or resolve by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from psycopg import AsyncConnection
from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    Table,
    Update,
    bindparam,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentLog, IncidentStatus, Service, Severity
from paging import escalate, holds
from paging.engine import wake
from people.models import Urgency
from people.validation import CONTROL
from store.base import new_id
from store.pg_async import AsyncStatement


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


_incidents = cast(Table, Incident.__table__)
_log = cast(Table, IncidentLog.__table__)
_services = cast(Table, Service.__table__)
# Statements are built once: the hot path pays for no statement construction, only for executing.
_NOW = bindparam("b_now", type_=_incidents.c.updated_at.type)
_SERVICE_ID = select(_services.c.id).where(_services.c.integration_key == bindparam("b_routing"))
_REPEAT_AFTER = "); not paged again"


def _repeat_before(via: str) -> str:
    """A repeat's log message is this, its count, then ``_REPEAT_AFTER``."""
    return f"Triggered again via {via} (#"


def _count_repeat(service: ColumnElement[str]) -> Update:
    """Count a trigger on the open incident with ``b_key`` (row-locked by the update)."""
    return (
        update(_incidents)
        .where(
            _incidents.c.service_id == service,
            _incidents.c.dedup_key == bindparam("b_key"),
            _incidents.c.status != IncidentStatus.resolved,
        )
        .values(trigger_count=_incidents.c.trigger_count + 1, updated_at=_NOW)
        .returning(_incidents.c.id, _incidents.c.trigger_count)
    )


def _count_and_log(service: ColumnElement[str]) -> Select[str, int]:
    """PostgreSQL: :func:`_count_repeat` and its log entry in one statement (data-modifying CTEs).

    The entry is the one :func:`repeat` writes on SQLite, to the character: the message, and
    ``data`` as the JSON text ``json.dumps({"count": n})`` gives.
    """
    counted = _count_repeat(service).cte("counted")
    count = sql_cast(counted.c.trigger_count, String)
    entry = select(
        counted.c.id,
        _NOW,
        literal("deduplicated", String),
        bindparam("b_before", type_=String) + count + literal(_REPEAT_AFTER, String),
        sql_cast(literal('{"count": ', String) + count + literal("}", String), JSON),
    )
    logged = insert(_log).from_select(["incident_id", "at", "kind", "message", "data"], entry)
    return select(counted.c.id, counted.c.trigger_count).add_cte(logged.cte("logged"))


_COUNT_REPEAT = _count_repeat(bindparam("b_service"))
_COUNT_REPEAT_BY_KEY = _count_repeat(_SERVICE_ID.scalar_subquery())
_LOG_REPEAT = insert(_log)
_COUNT_AND_LOG = _count_and_log(bindparam("b_service"))
_COUNT_AND_LOG_BY_KEY = _count_and_log(_SERVICE_ID.scalar_subquery())


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


def claim_by_key(session: Session, routing_key: str) -> Service | None:
    """The service with ``routing_key``, claimed for a new incident (see :func:`trigger`).

    None when no service has the key.
    """
    return session.scalar(_CLAIM_BY_KEY, {"b_routing": routing_key}, execution_options=_FRESH)


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


def _repeat_params(service: str, dedup_key: str, now: datetime, *, by_key: bool) -> dict[str, Any]:
    return {"b_key": dedup_key, "b_now": now, ("b_routing" if by_key else "b_service"): service}


def _repeat(
    connection: Connection, service: str, dedup_key: str, via: str, now: datetime, *, by_key: bool
) -> Repeat | None:
    params = _repeat_params(service, dedup_key, now, by_key=by_key)
    if connection.dialect.name == "postgresql":
        params["b_before"] = _repeat_before(via)
        statement = _COUNT_AND_LOG_BY_KEY if by_key else _COUNT_AND_LOG
        counted = connection.execute(statement, params).first()
        return None if counted is None else Repeat(counted[0], counted[1])
    # SQLite has no data-modifying CTEs (and no round trips: it runs in-process).
    row = connection.execute(_COUNT_REPEAT_BY_KEY if by_key else _COUNT_REPEAT, params).first()
    if row is None:
        return None
    incident_id, count = row
    entry = {
        "incident_id": incident_id,
        "at": now,
        "kind": "deduplicated",
        "message": f"{_repeat_before(via)}{count}{_REPEAT_AFTER}",
        "data": {"count": count},
    }
    connection.execute(_LOG_REPEAT, entry)
    return Repeat(incident_id, count)


def repeat(
    session: Session, service_id: str, dedup_key: str, via: str, now: datetime
) -> Repeat | None:
    """Count a repeated trigger on the open incident with ``dedup_key``; None if none is open.

    The hot path of events in (most events repeat an open alert): an ``UPDATE ... RETURNING``
    (which row-locks, and skips an incident being resolved meanwhile) and a log insert, in one
    statement on PostgreSQL. A None answer means :func:`trigger` decides (it checks again
    under the service lock).
    """
    session.flush()  # the statements go past the ORM: it must have written everything
    return _repeat(session.connection(), service_id, dedup_key, via, now, by_key=False)


def repeat_by_key(
    connection: Connection, routing_key: str, dedup_key: str, via: str, now: datetime
) -> Repeat | None:
    """:func:`repeat` on the service with integration key ``routing_key``, on a bare
    connection: on PostgreSQL it is one statement, so it may run as a unit of work of its own
    (:meth:`store.db.Database.single_statement`).

    None also when no service has the key: :func:`claim_by_key` tells.
    """
    return _repeat(connection, routing_key, dedup_key, via, now, by_key=True)


_ASYNC_COUNT_AND_LOG_BY_KEY = AsyncStatement(_COUNT_AND_LOG_BY_KEY)


async def repeat_by_key_async(
    connection: AsyncConnection[Any], routing_key: str, dedup_key: str, via: str, now: datetime
) -> Repeat | None:
    """:func:`repeat_by_key` on PostgreSQL, on an async connection in autocommit (the events
    API runs it in the event loop): the same statement, its own unit of work."""
    params = _repeat_params(routing_key, dedup_key, now, by_key=True)
    params["b_before"] = _repeat_before(via)
    counted = await _ASYNC_COUNT_AND_LOG_BY_KEY.first(connection, params)
    return None if counted is None else Repeat(counted[0], counted[1])


def trigger(
    session: Session,
    service: Service,
    event: Trigger,
    now: datetime,
    *,
    repeat_checked: bool = False,
    claimed: bool = False,
) -> Triggered:
    """Open an incident, or attach to the open one with the same dedup key.

    A repeat (most events) locks only its incident's row, so events for different incidents of
    one service do not queue behind each other. Opening an incident claims the service row
    (locks it and takes the next number) and checks again, so concurrent triggers with one key
    open one incident (and the partial unique index on open (service, dedup_key) backs that
    up). ``repeat_checked``: the caller has just tried :func:`repeat` in this transaction, and
    nothing was open. ``claimed``: the caller got ``service`` from :func:`claim_by_key` in
    this transaction, for this trigger.

    Everything a new incident writes (the incident, the service's counter, log, holds, pages)
    goes to the database in one flush, before this returns.
    """
    if event.dedup_key is not None and not repeat_checked:
        repeated = repeat(session, service.id, event.dedup_key, event.via, now)
        if repeated is not None:
            incident = session.get(Incident, repeated.incident_id, populate_existing=True)
            assert incident is not None  # it was just updated in this transaction
            return Triggered(incident, created=False)
    if not claimed:
        locked = session.scalar(_CLAIM, {"b_service": service.id}, execution_options=_FRESH)
        if locked is None:
            raise LookupError(f"service {service.id} no longer exists")
    return _open(session, service, event, now)


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
        existing = _open_locked(session, service.id, dedup_key)
        if existing is not None:
            service.last_incident_number -= 1  # no new incident: the number is given back
            return _deduplicated(session, existing, event, now)
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
        escalate.restart(session, incident, now, "Escalation policy changed; restarting at tier 1")
    return len(open_incidents)
