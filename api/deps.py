"""Request dependencies: the unit of work (one transaction, committed in one place) and auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import State

from people import service as people
from people import tokens
from store.audit import Actor
from store.base import utcnow
from store.db import Database
from store.pagination import DEFAULT_LIMIT, MAX_LIMIT
from store.settings import Settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One transaction per request: committed here, after the handler, before the response."""
    with database.transaction() as session:
        yield session


def get_now(request: Request) -> datetime:
    return now_of(request.app.state)


def now_of(state: State) -> datetime:
    """Now, by the app's clock (``app.state.clock``, set by tests) or the real one."""
    clock = getattr(state, "clock", None)
    return clock() if clock is not None else utcnow()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
#: The OpenAPI security scheme (``/docs`` shows an Authorize button). It never answers by
#: itself (``auto_error=False``): :func:`get_current_actor` says what is wrong, as problem+json.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token (`POST /api/v1/tokens`, `watchbill token create`) or "
    "`WATCHBILL_ADMIN_TOKEN`: `Authorization: Bearer <token>`.",
)


def get_current_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if not request.headers.get("authorization"):
        raise HTTPException(401, "missing bearer token", headers=_UNAUTHORIZED)
    secret = credentials.credentials.strip() if credentials is not None else ""
    if not secret:
        raise HTTPException(401, "expected 'Authorization: Bearer <token>'", headers=_UNAUTHORIZED)
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    if admin and tokens.matches(secret, tokens.digest(admin)):
        return Actor(user_id=None, is_admin=True, label="admin-token")
    actor = people.authenticate(session, secret)
    if actor is None:
        raise HTTPException(401, "invalid or revoked token", headers=_UNAUTHORIZED)
    return actor


CurrentActor = Annotated[Actor, Depends(get_current_actor)]


class PageParams:
    def __init__(
        self,
        cursor: Annotated[str | None, Query(description="`next` from the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> None:
        self.cursor = cursor
        self.limit = limit


PageDep = Annotated[PageParams, Depends()]
