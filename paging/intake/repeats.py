"""The repeat counter: a trigger whose dedup key names an open incident is counted on it.

Most events repeat an alert that is already open: counting them is the hot path of events in.
A repeat is an ``UPDATE ... RETURNING`` of the open incident (which row-locks it, and skips one
being resolved meanwhile) and a ``deduplicated`` log entry. This module owns the statement,
the log message and their three implementations, side by side:

* SQLite: the update, then the log insert (no data-modifying CTEs; statements cost no round
  trips there, as SQLite runs in-process);
* PostgreSQL: both in one statement (data-modifying CTEs), so it may be a unit of work of its
  own on a bare autocommit connection (:meth:`store.db.Database.single_statement`);
* PostgreSQL from the event loop: the same statement on psycopg's async connection
  (:class:`store.pg_async.AsyncStatement`), no thread hop.

The incident is named by its service (the id, or the integration key an event carries) and
its dedup key: :class:`Repeating`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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

from escalation.models import Incident, IncidentLog, IncidentStatus, Service
from store.pg_async import AsyncStatement

KIND = "deduplicated"
_BEFORE = "Triggered again via {via} (#"
_AFTER = "); not paged again"


def message(via: str, count: int) -> str:
    """The log message of a repeat (the ``count``-th trigger), on every database."""
    return f"{_BEFORE.format(via=via)}{count}{_AFTER}"


@dataclass(frozen=True)
class Repeating:
    """A trigger that may repeat an open incident: its service's id, or the integration key
    (``routing_key``) of an event that names its service by it, and its dedup key."""

    dedup_key: str
    via: str
    service_id: str | None = None
    routing_key: str | None = None

    def __post_init__(self) -> None:
        if (self.service_id is None) == (self.routing_key is None):
            raise ValueError("a repeat names its service by id or by integration key, not both")


@dataclass(frozen=True)
class Repeat:
    """The open incident a trigger was counted on, and its count now."""

    incident_id: str
    trigger_count: int


_incidents = cast(Table, Incident.__table__)
_log = cast(Table, IncidentLog.__table__)
_services = cast(Table, Service.__table__)
# Statements are built once: the hot path pays for no statement construction, only for executing.
_NOW = bindparam("b_now", type_=_incidents.c.updated_at.type)
_BY_KEY = (
    select(_services.c.id)
    .where(_services.c.integration_key == bindparam("b_routing"))
    .scalar_subquery()
)


def _count(service: ColumnElement[str]) -> Update:
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
    """PostgreSQL: :func:`_count` and its log entry in one statement (data-modifying CTEs).

    The entry is the one SQLite's two statements write, to the character: :func:`message`
    (``b_before``, the count, ``_AFTER``), and ``data`` as the JSON text
    ``json.dumps({"count": n})`` gives.
    """
    counted = _count(service).cte("counted")
    count = sql_cast(counted.c.trigger_count, String)
    entry = select(
        counted.c.id,
        _NOW,
        literal(KIND, String),
        bindparam("b_before", type_=String) + count + literal(_AFTER, String),
        sql_cast(literal('{"count": ', String) + count + literal("}", String), JSON),
    )
    logged = insert(_log).from_select(["incident_id", "at", "kind", "message", "data"], entry)
    return select(counted.c.id, counted.c.trigger_count).add_cte(logged.cte("logged"))


_COUNT = _count(bindparam("b_service"))
_COUNT_BY_KEY = _count(_BY_KEY)
_LOG = insert(_log)
_COUNT_AND_LOG = _count_and_log(bindparam("b_service"))
_COUNT_AND_LOG_BY_KEY = _count_and_log(_BY_KEY)
_ASYNC_COUNT_AND_LOG_BY_KEY = AsyncStatement(_COUNT_AND_LOG_BY_KEY)


def _params(of: Repeating, now: datetime) -> dict[str, Any]:
    if of.routing_key is not None:
        return {"b_key": of.dedup_key, "b_now": now, "b_routing": of.routing_key}
    return {"b_key": of.dedup_key, "b_now": now, "b_service": of.service_id}


def _on_sqlite(connection: Connection, of: Repeating, now: datetime) -> Repeat | None:
    statement = _COUNT if of.routing_key is None else _COUNT_BY_KEY
    row = connection.execute(statement, _params(of, now)).first()
    if row is None:
        return None
    incident_id, count = row
    entry = {
        "incident_id": incident_id,
        "at": now,
        "kind": KIND,
        "message": message(of.via, count),
        "data": {"count": count},
    }
    connection.execute(_LOG, entry)
    return Repeat(incident_id, count)


def _on_postgresql(connection: Connection, of: Repeating, now: datetime) -> Repeat | None:
    statement = _COUNT_AND_LOG if of.routing_key is None else _COUNT_AND_LOG_BY_KEY
    params = _params(of, now)
    params["b_before"] = _BEFORE.format(via=of.via)
    counted = connection.execute(statement, params).first()
    return None if counted is None else Repeat(counted[0], counted[1])


def count(connection: Connection, of: Repeating, now: datetime) -> Repeat | None:
    """Count a repeat of the open incident ``of`` names; None when none is open (or, by key,
    when no service has the key).

    On PostgreSQL it is one statement: ``connection`` may be a bare autocommit one (a unit of
    work of its own). Past the ORM: a session's caller flushes first.
    """
    if connection.dialect.name == "postgresql":
        return _on_postgresql(connection, of, now)
    return _on_sqlite(connection, of, now)


async def count_async(
    connection: AsyncConnection[Any], of: Repeating, now: datetime
) -> Repeat | None:
    """:func:`count` on PostgreSQL, by integration key, on an async connection in autocommit
    (the events API runs it in the event loop): the same statement, its own unit of work."""
    if of.routing_key is None:
        raise ValueError("repeats are counted in the event loop by integration key")
    params = _params(of, now)
    params["b_before"] = _BEFORE.format(via=of.via)
    counted = await _ASYNC_COUNT_AND_LOG_BY_KEY.first(connection, params)
    return None if counted is None else Repeat(counted[0], counted[1])
