"""The audit log (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import CurrentActor, PageDep, SessionDep
from api.openapi import problems
from api.schemas.people import AuditOut, ListOut
from api.types import Instant
from people.access import require_admin
from store.audit import AuditEntry
from store.pagination import paginate

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    summary="Who changed what, when, with before and after (admin)",
    responses=problems(403),
)
def list_audit(
    session: SessionDep,
    actor: CurrentActor,
    page: PageDep,
    entity_type: Annotated[str | None, Query()] = None,
    entity_id: Annotated[str | None, Query()] = None,
    since: Annotated[Instant | None, Query()] = None,
) -> ListOut[AuditOut]:
    """Admins only: every change, newest first, with the row before and after (secrets left out)."""
    require_admin(actor, "read the audit log")
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    result = paginate(
        session,
        stmt,
        AuditEntry.at,
        AuditEntry.id,
        cursor=page.cursor,
        limit=page.limit,
        newest_first=True,
    )
    return ListOut(items=[AuditOut.model_validate(e) for e in result.items], next=result.next)
