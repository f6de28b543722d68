"""PagerDuty Change Events in (``POST /v2/change/enqueue``), and a service's changes.

Like the Events API routes (:mod:`api.routers.intake.events`, sharing the rate limit, worker threads
and answers of :mod:`api.asgi.fast_path`), the integration key in the body is the credential; a
change event is kept with its service, never opens an incident and never pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.asgi.fast_path import (
    CHANGE_ENQUEUE,
    EVENT_RESPONSES,
    JSON_BODY,
    in_db_thread,
    invalid,
    limiter,
    throttled,
)
from api.deps import CurrentActor, SessionDep, now_of
from api.schemas.events import ChangeAccepted, ChangeOut
from api.schemas.people import ListOut
from escalation import service as escalation
from paging.intake import change_events
from paging.intake.pagerduty import InvalidEvent
from store.db import Database

router = APIRouter(tags=["events"])


def _record(database: Database, change: change_events.Change, now: datetime) -> None:
    with database.transaction() as session:
        change_events.record(session, change, now)


@router.post(
    CHANGE_ENQUEUE,
    status_code=202,
    summary="PagerDuty Change Events: a deploy or config change, kept with the service",
    response_model=ChangeAccepted,
    responses=EVENT_RESPONSES,
    openapi_extra=JSON_BODY,
)
async def change_enqueue(request: Request) -> JSONResponse:
    """``routing_key`` (a service's integration key), ``payload`` {``summary``, ``source``,
    ``timestamp``, ``custom_details``}, ``links``, ``images``. Never pages: the service's
    incidents list it among their recent changes."""
    state = request.app.state
    try:
        change = change_events.parse(await request.body())
    except InvalidEvent as exc:
        return invalid(exc.errors)
    wait = limiter(state).take(change.routing_key)
    if wait:
        return throttled(wait)
    try:
        await in_db_thread(state, _record, state.database, change, now_of(state))
    except InvalidEvent as exc:
        return invalid(exc.errors)
    return JSONResponse(ChangeAccepted().model_dump(), status_code=202)


@router.get("/api/v1/services/{service_id}/changes", summary="A service's change events")
def service_changes(
    service_id: str,
    session: SessionDep,
    _: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ListOut[ChangeOut]:
    """Newest first."""
    escalation.get_service(session, service_id)
    rows = change_events.for_service(session, service_id, limit)
    return ListOut(items=[ChangeOut.model_validate(row) for row in rows], next=None)
