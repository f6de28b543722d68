"""The audit log (admins): who changed what and when, newest first, filterable."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from escalation.models import Service
from people import directory
from people.access import require_admin
from schedules.core.wallclock import to_instant
from schedules.models import Schedule
from store.audit import AuditEntry
from store.pagination import paginate
from web.deps import SessionDep, SignedIn
from web.desk.audit_text import ENTITIES, readable, referenced
from web.desk.forms import Problems, parse_date
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PER_PAGE = 50


@router.get("/audit")
def audit_log(
    page: SignedIn,
    session: SessionDep,
    kind: str = "",
    actor: str = "",
    entity: str = "",
    since: str = "",
    cursor: str = "",
) -> Response:
    require_admin(page.actor, "read the audit log")
    stmt = select(AuditEntry)
    if kind:
        stmt = stmt.where(AuditEntry.entity_type == kind)
    if actor:
        stmt = stmt.where(AuditEntry.actor.contains(actor[:200], autoescape=True))
    if entity:
        stmt = stmt.where(AuditEntry.entity_id == entity[:64])
    problems = Problems()
    if since:
        day = parse_date(since, "Since", problems)
        if day is not None:
            zone = ZoneInfo(page.zone)
            stmt = stmt.where(AuditEntry.at >= to_instant(datetime.combine(day, time()), zone))
    found = paginate(
        session, stmt, AuditEntry.at, AuditEntry.id, cursor=cursor or None, limit=PER_PAGE,
        newest_first=True,
    )  # fmt: skip
    kinds = sorted(set(session.scalars(select(AuditEntry.entity_type).distinct())))
    ids = referenced(found.items)
    names = {**directory.names(session, ids), **directory.team_names(session, ids)}
    for model in (Schedule, Service):
        names.update(
            {
                i: n
                for i, n in session.execute(select(model.id, model.name).where(model.id.in_(ids)))
            }
        )
    return page.render(
        "audit/log.html",
        entries=[readable(e, names) for e in found.items],
        next_cursor=found.next,
        kinds=[(k, ENTITIES.get(k, k.replace("_", " "))) for k in kinds],
        filters={"kind": kind, "actor": actor, "entity": entity, "since": since},
        problem=problems.text or None,
    )
