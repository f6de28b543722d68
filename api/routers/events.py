"""Events in: PagerDuty Events API v2 and v1, and Alertmanager's webhook.

No bearer token: the integration key (``routing_key`` / ``service_key`` in the body, or the
path for Alertmanager) names the service and is the credential. Answers are PagerDuty's: 202
``success`` with the ``dedup_key``, 400 ``invalid event`` with ``errors`` for anything
malformed (never a 5xx), 413 over 512 KB, 429 when a key sends faster than its rate limit.

The rate limit is a token bucket per integration key, kept in this process (several API
processes each allow the rate): ``WATCHBILL_EVENTS_RATE_PER_MINUTE`` (default 1200, 0 turns it
off) refilling a bucket of ``WATCHBILL_EVENTS_BURST`` events (default 300).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import now_of
from api.errors import problem
from api.schemas.events import (
    AlertmanagerAccepted,
    EventAccepted,
    EventInvalid,
    EventThrottled,
    EventV1Accepted,
)
from escalation.service import service_by_key
from paging import alertmanager, events
from store.db import Database
from store.errors import NotFound
from store.pg_async import async_pool

router = APIRouter(tags=["events"])
T = TypeVar("T")

BODY_LIMIT = 512 * 1024  # PagerDuty's limit for an event


class KeyRateLimiter:
    """A token bucket per key: ``per_minute`` sustained, bursts of up to ``burst``."""

    MAX_KEYS = 10_000

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the event may go ahead; otherwise the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._remember(key, (tokens - 1.0, now))
                return 0.0
            self._remember(key, (tokens, now))
            return (1.0 - tokens) / self.rate

    def _remember(self, key: str, state: tuple[float, float]) -> None:
        if key not in self._buckets and len(self._buckets) >= self.MAX_KEYS:
            now = self.clock()
            # Forget buckets that have refilled: they behave exactly like new ones.
            self._buckets = {
                k: (t, at)
                for k, (t, at) in self._buckets.items()
                if t + (now - at) * self.rate < self.burst
            }
        self._buckets[key] = state


_limiter_lock = threading.Lock()


def _limiter(state: State) -> KeyRateLimiter:
    """The app's limiter (``app.state.events_limiter``), made from its settings at first use."""
    limiter: KeyRateLimiter | None = getattr(state, "events_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "events_limiter", None)
            if limiter is None:
                settings = state.settings
                limiter = KeyRateLimiter(settings.events_rate_per_minute, settings.events_burst)
                state.events_limiter = limiter
    return limiter


def _invalid(errors: list[str]) -> JSONResponse:
    return JSONResponse(EventInvalid(errors=errors).model_dump(), status_code=400)


def _throttled(wait: float) -> JSONResponse:
    body = EventThrottled(
        message="Events for this integration key are arriving too fast; retry later"
    )
    return JSONResponse(
        body.model_dump(),
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


_EVENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": EventInvalid, "description": "a malformed or invalid event"},
    413: {"description": "the body is over 512 KB"},
    429: {"model": EventThrottled, "description": "too many events for this key; retry later"},
}


_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


#: Worker threads applying events at once (per app). A few keep the database busy; more
#: only make threads fight over the GIL and over row locks.
DB_THREADS = 4


def _executor(state: Any) -> ThreadPoolExecutor:
    """The threads this app applies events in (``app.state.events_executor``), made at first
    use, in the event loop (no await in between: no lock needed); the app's lifespan shuts
    them down (:func:`shut_down_executor`)."""
    executor: ThreadPoolExecutor | None = getattr(state, "events_executor", None)
    if executor is None:
        executor = state.events_executor = ThreadPoolExecutor(
            DB_THREADS, thread_name_prefix="wb-events"
        )
    return executor


def shut_down_executor(state: Any) -> None:
    executor: ThreadPoolExecutor | None = getattr(state, "events_executor", None)
    if executor is not None:
        state.events_executor = None
        executor.shutdown(wait=True)


async def _in_db_thread(state: State, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in one of the app's event threads (a plain executor hop: cheaper than
    anyio's, which counts at hundreds of events a second)."""
    executor = _executor(state)
    return await asyncio.get_running_loop().run_in_executor(executor, partial(work, *args))


def _apply(
    database: Database, event: events.Event, now: datetime, repeat_tried: bool = False
) -> events.EventResult:
    """One unit of work, committed here (in the worker thread) before the answer goes out.

    A repeat of an open alert, most events, is tried first as a unit of its own: one
    statement on PostgreSQL, with no ORM session and no BEGIN/COMMIT round trips (unless
    ``repeat_tried``: the event loop tried it already, see :func:`_ingest`).
    """
    if events.may_repeat(event) and not repeat_tried:
        with database.single_statement() as connection:
            repeated = events.repeat(connection, event, now)
        if repeated is not None:
            return repeated
        repeat_tried = True
    with database.transaction() as session:
        return events.handle(session, event, now, repeat_tried=repeat_tried)


#: Connections per API process for repeats counted in the event loop (PostgreSQL).
LOOP_CONNECTIONS = 8


async def open_loop_pool(state: State) -> None:
    """On PostgreSQL, the async connections repeats are counted on in the event loop
    (``app.state.events_loop_pool``); the app's lifespan opens and closes them."""
    database: Database = state.database
    if database.engine.dialect.name == "postgresql":
        pool = async_pool(database.url, max_size=LOOP_CONNECTIONS)
        await pool.open()
        state.events_loop_pool = pool


async def close_loop_pool(state: State) -> None:
    pool: AsyncConnectionPool[Any] | None = getattr(state, "events_loop_pool", None)
    if pool is not None:
        state.events_loop_pool = None
        await pool.close()


async def _ingest(
    state: State, body: bytes, parse: Callable[[bytes], events.Event]
) -> events.EventResult | JSONResponse:
    """Parse (in the event loop), rate-limit, then apply.

    A trigger with a dedup key is first counted as a repeat right here, on PostgreSQL: one
    statement on an async connection, no thread hop. Anything else, or a trigger with nothing
    open, is applied in one worker-thread hop. The events routes skip FastAPI's per-request
    dependencies (each sync one costs a thread hop); what they do is the same: the app's
    database and clock, one transaction.
    """
    try:
        event = parse(body)
    except events.InvalidEvent as exc:
        return _invalid(exc.errors)
    wait = _limiter(state).take(event.routing_key)
    if wait:
        return _throttled(wait)
    now = now_of(state)
    repeat_tried = False
    pool: AsyncConnectionPool[Any] | None = getattr(state, "events_loop_pool", None)
    if pool is not None and events.may_repeat(event):
        async with pool.connection() as connection:
            repeated = await events.repeat_async(connection, event, now)
        if repeated is not None:
            return repeated
        repeat_tried = True
    try:
        return await _in_db_thread(state, _apply, state.database, event, now, repeat_tried)
    except events.InvalidEvent as exc:
        return _invalid(exc.errors)


async def _enqueue(state: State, body: bytes) -> JSONResponse:
    outcome = await _ingest(state, body, events.parse_v2)
    if isinstance(outcome, JSONResponse):
        return outcome
    return JSONResponse(EventAccepted(dedup_key=outcome.dedup_key).model_dump(), status_code=202)


async def _create_event_v1(state: State, body: bytes) -> JSONResponse:
    outcome = await _ingest(state, body, events.parse_v1)
    if isinstance(outcome, JSONResponse):
        return outcome
    return JSONResponse(EventV1Accepted(incident_key=outcome.dedup_key).model_dump())


@router.post(
    "/v2/enqueue",
    status_code=202,
    summary="PagerDuty Events API v2: trigger, acknowledge or resolve",
    response_model=EventAccepted,
    responses=_EVENT_RESPONSES,
    openapi_extra=_JSON_BODY,
)
async def enqueue(request: Request) -> JSONResponse:
    """``routing_key`` (a service's integration key), ``event_action``, ``dedup_key``,
    ``payload`` {``summary``, ``source``, ``severity``, ...}, ``links``, ``images``, ``client``,
    ``client_url``."""
    return await _enqueue(request.app.state, await request.body())


@router.post(
    "/generic/2010-04-15/create_event.json",
    summary="PagerDuty Events API v1 (service_key, event_type, incident_key, description)",
    response_model=EventV1Accepted,
    responses=_EVENT_RESPONSES,
    openapi_extra=_JSON_BODY,
)
async def create_event_v1(request: Request) -> JSONResponse:
    """The legacy PagerDuty Events API v1 (`service_key` is a service's integration key): answers
    200 `success` with the `incident_key`, 400 `invalid event` with `errors`."""
    return await _create_event_v1(request.app.state, await request.body())


#: The routes :class:`FastPath` answers itself (POST only).
FAST_ROUTES: dict[str, Callable[[State, bytes], Awaitable[JSONResponse]]] = {
    "/v2/enqueue": _enqueue,
    "/generic/2010-04-15/create_event.json": _create_event_v1,
}


class FastPath:
    """ASGI middleware: the Events API's routes answered here, before FastAPI's routing.

    Monitoring tools post hundreds of events a second in a storm, and FastAPI's machinery
    (routing, request objects, the exception middleware's wrapping) cost about as much per
    event as counting a repeat does. The routes stay declared above, for the OpenAPI
    document and for an app built without this middleware; both run the same code. Errors
    still reach the app's handlers: a body over the limit (raised by ``BodySizeLimit``, which
    wraps this) is answered 413 here, and anything unexpected propagates to the server-error
    handler (problem+json 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = FAST_ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except StarletteHTTPException as exc:  # over the body limit
            await problem(exc.status_code, str(exc.detail))(scope, receive, send)
            return
        if body is None:
            return  # the client went away before sending the body
        response = await handler(scope["app"].state, body)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _apply_alertmanager(
    database: Database, key: str, notification: alertmanager.AlertGroup, now: datetime
) -> events.EventResult:
    with database.transaction() as session:
        usable = len(key) <= 255 and "\x00" not in key
        service = service_by_key(session, key) if usable else None
        if service is None:
            raise NotFound("no service has this integration key")
        return alertmanager.handle(session, service, notification, now)


@router.post(
    "/integrations/alertmanager/{integration_key}",
    summary="Prometheus Alertmanager webhook (version 4): one incident per alert group",
    response_model=AlertmanagerAccepted,
    responses={**_EVENT_RESPONSES, 404: {"description": "no service has this key"}},
    openapi_extra=_JSON_BODY,
)
async def alertmanager_webhook(integration_key: str, request: Request) -> JSONResponse:
    """Point a ``webhook_configs`` receiver here (``send_resolved: true``)."""
    try:
        notification = alertmanager.parse(await request.body())
    except events.InvalidEvent as exc:
        return _invalid(exc.errors)
    wait = _limiter(request.app.state).take(integration_key)
    if wait:
        return _throttled(wait)
    state = request.app.state
    outcome = await _in_db_thread(
        state, _apply_alertmanager, state.database, integration_key, notification, now_of(state)
    )
    incident = outcome.incident
    answer = AlertmanagerAccepted(
        dedup_key=outcome.dedup_key,
        incident_id=incident.id if incident else None,
        incident_status=incident.status.value if incident else None,
    )
    return JSONResponse(answer.model_dump())
