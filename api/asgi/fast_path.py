"""The events API's machinery, apart from its routes: paths, rate limit, threads, pools, ASGI.

Monitoring tools post hundreds of events a second in a storm. The routes
(:mod:`api.routers.intake.events`, :mod:`api.routers.intake.change_events`) share what is here:

* their paths, declared once (:data:`V2_ENQUEUE`, ...), and PagerDuty's answers to a bad or
  too frequent event;
* the rate limit: a token bucket per integration key, kept in this process (several API
  processes each allow the rate): ``WATCHBILL_EVENTS_RATE_PER_MINUTE`` (default 1200, 0 turns
  it off) refilling a bucket of ``WATCHBILL_EVENTS_BURST`` events (default 300);
* the worker threads events are applied in, and on PostgreSQL the async connections repeats
  are counted on in the event loop;
* :class:`FastPath`, the ASGI middleware answering the busiest routes before FastAPI's routing.

Each is kept on the app's state, made at first use or in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem
from api.schemas.events import EventInvalid, EventThrottled
from store.db import Database
from store.pg_async import async_pool

T = TypeVar("T")

#: PagerDuty's Events API v2, its Change Events, and the legacy v1.
V2_ENQUEUE = "/v2/enqueue"
CHANGE_ENQUEUE = "/v2/change/enqueue"
V1_CREATE_EVENT = "/generic/2010-04-15/create_event.json"
ALERTMANAGER = "/integrations/alertmanager/{integration_key}"
BODY_LIMIT = 512 * 1024  # PagerDuty's limit for an event
#: The routes with PagerDuty's body limit (matched as prefixes).
LIMITED_PATHS = (V2_ENQUEUE, CHANGE_ENQUEUE, V1_CREATE_EVENT)

# --- answers ---------------------------------------------------------------------------------


def invalid(errors: list[str]) -> JSONResponse:
    return JSONResponse(EventInvalid(errors=errors).model_dump(), status_code=400)


def throttled(wait: float) -> JSONResponse:
    body = EventThrottled(
        message="Events for this integration key are arriving too fast; retry later"
    )
    return JSONResponse(
        body.model_dump(),
        status_code=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


EVENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": EventInvalid, "description": "a malformed or invalid event"},
    413: {"description": "the body is over 512 KB"},
    429: {"model": EventThrottled, "description": "too many events for this key; retry later"},
}
JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

# --- rate limit ------------------------------------------------------------------------------


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


def limiter(state: State) -> KeyRateLimiter:
    """The app's limiter (``app.state.events_limiter``), made from its settings at first use."""
    made: KeyRateLimiter | None = getattr(state, "events_limiter", None)
    if made is None:
        with _limiter_lock:
            made = getattr(state, "events_limiter", None)
            if made is None:
                settings = state.settings
                made = KeyRateLimiter(settings.events_rate_per_minute, settings.events_burst)
                state.events_limiter = made
    return made


# --- worker threads --------------------------------------------------------------------------

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


async def in_db_thread(state: State, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in one of the app's event threads (a plain executor hop: cheaper than
    anyio's, which counts at hundreds of events a second)."""
    executor = _executor(state)
    return await asyncio.get_running_loop().run_in_executor(executor, partial(work, *args))


# --- the event loop's connections (PostgreSQL) -----------------------------------------------

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


def loop_pool(state: State) -> AsyncConnectionPool[Any] | None:
    """The event loop's connections (None: not PostgreSQL, or not opened)."""
    pool: AsyncConnectionPool[Any] | None = getattr(state, "events_loop_pool", None)
    return pool


# --- ASGI ------------------------------------------------------------------------------------

Handler = Callable[[State, bytes], Awaitable[JSONResponse]]


class FastPath:
    """ASGI middleware: the routes in ``routes`` (POST only) answered here, before FastAPI's
    routing.

    FastAPI's machinery (routing, request objects, the exception middleware's wrapping) costs
    about as much per event as counting a repeat does. The routes stay declared in their
    router too, for the OpenAPI document and for an app built without this middleware; both
    run the same code. Errors still reach the app's handlers: a body over the limit (raised by
    ``BodySizeLimit``, which wraps this) is answered 413 here, and anything unexpected
    propagates to the server-error handler (problem+json 500).
    """

    def __init__(self, app: ASGIApp, routes: Mapping[str, Handler]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get(scope["path"]) if scope["type"] == "http" else None
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
