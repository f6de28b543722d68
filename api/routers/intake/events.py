"""Events in: PagerDuty Events API v2 and v1, and Alertmanager's webhook.

No bearer token: the integration key (``routing_key`` / ``service_key`` in the body, or the
path for Alertmanager) names the service and is the credential. Answers are PagerDuty's: 202
``success`` with the ``dedup_key``, 400 ``invalid event`` with ``errors`` for anything
malformed (never a 5xx), 413 over 512 KB, 429 when a key sends faster than its rate limit
(:mod:`api.asgi.fast_path`: the paths, limiter, threads and pools these routes share).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import State

from api.asgi import fast_path
from api.asgi.fast_path import EVENT_RESPONSES, JSON_BODY, in_db_thread, invalid, limiter, throttled
from api.deps import now_of
from api.schemas.events import AlertmanagerAccepted, EventAccepted, EventV1Accepted
from escalation.service import service_by_key
from paging.intake import alertmanager, pagerduty, repeats
from store.db import Database
from store.errors import NotFound

router = APIRouter(tags=["events"])


def _apply(database: Database, event: pagerduty.Event, now: datetime) -> pagerduty.EventResult:
    """One unit of work, committed here (in the worker thread) before the answer goes out.

    A repeat of an open alert, most events, is counted first as a unit of its own: one
    statement on PostgreSQL, with no ORM session and no BEGIN/COMMIT round trips.
    """
    repeat = pagerduty.repeating(event)
    if repeat is None:
        with database.transaction() as session:
            return pagerduty.handle(session, event, now)
    with database.single_statement() as connection:
        if repeats.count(connection, repeat, now) is not None:
            return pagerduty.counted(event)
    return _open(database, event, now)


def _open(database: Database, event: pagerduty.Event, now: datetime) -> pagerduty.EventResult:
    """A trigger whose repeat was counted on nothing open: an incident, in one unit of work."""
    with database.transaction() as session:
        return pagerduty.open_incident(session, event, now)


async def _ingest(
    state: State, body: bytes, parse: Callable[[bytes], pagerduty.Event]
) -> pagerduty.EventResult | JSONResponse:
    """Parse (in the event loop), rate-limit, then apply.

    On PostgreSQL a trigger with a dedup key is first counted as a repeat right here: one
    statement on an async connection, no thread hop. Anything else, or a trigger with nothing
    open, is applied in one worker-thread hop. The events routes skip FastAPI's per-request
    dependencies (each sync one costs a thread hop); what they do is the same: the app's
    database and clock, one transaction.
    """
    try:
        event = parse(body)
    except pagerduty.InvalidEvent as exc:
        return invalid(exc.errors)
    wait = limiter(state).take(event.routing_key)
    if wait:
        return throttled(wait)
    now = now_of(state)
    work = _apply
    repeat = pagerduty.repeating(event)
    pool = fast_path.loop_pool(state)
    if pool is not None and repeat is not None:
        async with pool.connection() as connection:
            if await repeats.count_async(connection, repeat, now) is not None:
                return pagerduty.counted(event)
        work = _open
    try:
        return await in_db_thread(state, work, state.database, event, now)
    except pagerduty.InvalidEvent as exc:
        return invalid(exc.errors)


async def _enqueue(state: State, body: bytes) -> JSONResponse:
    outcome = await _ingest(state, body, pagerduty.parse_v2)
    if isinstance(outcome, JSONResponse):
        return outcome
    return JSONResponse(EventAccepted(dedup_key=outcome.dedup_key).model_dump(), status_code=202)


async def _create_event_v1(state: State, body: bytes) -> JSONResponse:
    outcome = await _ingest(state, body, pagerduty.parse_v1)
    if isinstance(outcome, JSONResponse):
        return outcome
    return JSONResponse(EventV1Accepted(incident_key=outcome.dedup_key).model_dump())


#: The routes :class:`api.asgi.fast_path.FastPath` answers itself (POST only).
FAST_ROUTES: dict[str, fast_path.Handler] = {
    fast_path.V2_ENQUEUE: _enqueue,
    fast_path.V1_CREATE_EVENT: _create_event_v1,
}


@router.post(
    fast_path.V2_ENQUEUE,
    status_code=202,
    summary="PagerDuty Events API v2: trigger, acknowledge or resolve",
    response_model=EventAccepted,
    responses=EVENT_RESPONSES,
    openapi_extra=JSON_BODY,
)
async def enqueue(request: Request) -> JSONResponse:
    """``routing_key`` (a service's integration key), ``event_action``, ``dedup_key``,
    ``payload`` {``summary``, ``source``, ``severity``, ...}, ``links``, ``images``, ``client``,
    ``client_url``."""
    return await _enqueue(request.app.state, await request.body())


@router.post(
    fast_path.V1_CREATE_EVENT,
    summary="PagerDuty Events API v1 (service_key, event_type, incident_key, description)",
    response_model=EventV1Accepted,
    responses=EVENT_RESPONSES,
    openapi_extra=JSON_BODY,
)
async def create_event_v1(request: Request) -> JSONResponse:
    """The legacy PagerDuty Events API v1 (`service_key` is a service's integration key): answers
    200 `success` with the `incident_key`, 400 `invalid event` with `errors`."""
    return await _create_event_v1(request.app.state, await request.body())


def _apply_alertmanager(
    database: Database, key: str, notification: alertmanager.AlertGroup, now: datetime
) -> pagerduty.EventResult:
    with database.transaction() as session:
        usable = len(key) <= 255 and "\x00" not in key
        service = service_by_key(session, key) if usable else None
        if service is None:
            raise NotFound("no service has this integration key")
        return alertmanager.handle(session, service, notification, now)


@router.post(
    fast_path.ALERTMANAGER,
    summary="Prometheus Alertmanager webhook (version 4): one incident per alert group",
    response_model=AlertmanagerAccepted,
    responses={**EVENT_RESPONSES, 404: {"description": "no service has this key"}},
    openapi_extra=JSON_BODY,
)
async def alertmanager_webhook(integration_key: str, request: Request) -> JSONResponse:
    """Point a ``webhook_configs`` receiver here (``send_resolved: true``)."""
    try:
        notification = alertmanager.parse(await request.body())
    except pagerduty.InvalidEvent as exc:
        return invalid(exc.errors)
    wait = limiter(request.app.state).take(integration_key)
    if wait:
        return throttled(wait)
    state = request.app.state
    outcome = await in_db_thread(
        state, _apply_alertmanager, state.database, integration_key, notification, now_of(state)
    )
    incident = outcome.incident
    answer = AlertmanagerAccepted(
        dedup_key=outcome.dedup_key,
        incident_id=incident.id if incident else None,
        incident_status=incident.status.value if incident else None,
    )
    return JSONResponse(answer.model_dump())
