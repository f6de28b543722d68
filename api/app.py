"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.metadata import version

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import docs, errors, openapi
from api.asgi import fast_path
from api.asgi.input_guard import RefuseControlCharacters
from api.asgi.limits import BodySizeLimit
from api.engine import build_engine
from api.routers import audit, incidents, links, metrics, policies, services, webhooks
from api.routers.intake import change_events, events, heartbeats, maintenance
from api.routers.people import contact_methods, notification_rules, teams, tokens, users
from api.routers.schedules import calendar_imports, calendars, schedules
from paging.providers.registry import wire
from store.db import Database
from store.settings import Settings, get_settings
from web import install as install_web

log = logging.getLogger("watchbill")

MAX_BODY = 1024 * 1024
#: Route families with a limit of their own (PagerDuty's Events API: 512 KB).
BODY_LIMITS: tuple[tuple[str, int], ...] = tuple(
    (path, fast_path.BODY_LIMIT) for path in fast_path.LIMITED_PATHS
)


def body_limit(path: str) -> int:
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return MAX_BODY


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    run_engine: bool = False,
) -> FastAPI:
    """Build the API; with ``run_engine`` the paging engine runs in the same process.

    The caller owns migrations (see ``api.cli``).
    """
    settings = settings or get_settings()
    wire(settings)
    owns_database = database is None
    database = database or Database(settings.database_url)
    engine = build_engine(database, settings) if run_engine else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            engine.start()
        await fast_path.open_loop_pool(app.state)
        try:
            yield
        finally:
            await fast_path.close_loop_pool(app.state)
            fast_path.shut_down_executor(app.state)
            if engine is not None:
                engine.stop()
            if owns_database:
                database.dispose()

    app = FastAPI(
        title="Watchbill",
        version=version("watchbill"),
        summary="On-call schedules, escalation policies and two-way paging.",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.engine = engine
    errors.install(app)
    # Inside the body limit (middleware added later wraps).
    app.add_middleware(fast_path.FastPath, routes=events.FAST_ROUTES)
    app.add_middleware(BodySizeLimit, limit_for=body_limit)
    app.add_middleware(RefuseControlCharacters)  # outermost: before anything reads the URL

    @app.get("/healthz", tags=["health"], summary="200 once the database is reachable")
    def healthz() -> JSONResponse:
        """Checks that the database answers; 503 `{"status": "unavailable"}` when it does not. No
        bearer token."""
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not healthy"
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.include_router(events.router)  # first: the busiest routes match without a long scan
    app.include_router(change_events.router)
    app.include_router(calendars.router)  # polled all day by calendar clients
    v1 = APIRouter(prefix="/api/v1")
    for module in (
        users,
        contact_methods,
        notification_rules,
        teams,
        tokens,
        schedules,
        policies,
        services,
        incidents,
        audit,
    ):
        v1.include_router(module.router)
    for module in (heartbeats, maintenance):  # events in
        v1.include_router(module.router)
    v1.include_router(calendar_imports.router)
    app.include_router(v1)
    app.include_router(heartbeats.ping_router)
    app.include_router(webhooks.router)
    app.include_router(links.router)
    app.include_router(metrics.router)
    openapi.install(app)
    docs.install(app)
    install_web(app)  # the web UI: pages at /, assets at /static
    return app
