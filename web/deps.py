"""What every page needs: the unit of work, the signed-in person, CSRF, rendering.

    @router.get("/things/{id}")
    def thing(id: str, page: SignedIn, session: SessionDep) -> Response:
        return page.render("things/thing.html", thing=things.get(session, id))

    @router.post("/things/{id}/rename")
    def rename(id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
        things.rename(session, page.actor, id, form.text("name"))
        return page.redirect(f"/things/{id}", "Renamed.")

``Form`` checks the CSRF token of the posted form (a 403 page when it is wrong). Service
errors (``DomainError``) become an HTML error page with their status (see ``web.routing``);
a page that wants to show a form again with the error calls ``attempt``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from people import web_sessions
from people.authentication import actor_of
from people.models import User, UserRole
from store.audit import Actor
from store.base import utcnow
from store.db import Database
from store.errors import DomainError, Forbidden
from store.settings import Settings
from web import security
from web.rendering import render_template

T = TypeVar("T")

#: Security headers on every page (assets are all our own; no inline script or style).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """Raised by ``signed_in``; answered with a redirect to ``/login?next=...``."""


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One transaction per request, committed after the handler, before the response."""
    with database.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


def lifetime(settings: Settings) -> web_sessions.Lifetime:
    return web_sessions.Lifetime(
        idle=timedelta(minutes=settings.web_session_idle_minutes),
        max_age=timedelta(hours=settings.web_session_max_hours),
    )


@dataclass
class Page:
    """The request as a page sees it: who is signed in, the CSRF token, and how to answer."""

    request: Request
    settings: Settings
    now: datetime
    user: User | None = None
    session_secret: str | None = None
    pre_session: str | None = None
    new_pre_session: bool = False
    cookies: list[tuple[str, str | None, int | None]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise SignInRequired
        return actor_of(self.user)

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role is UserRole.admin

    @property
    def zone(self) -> str:
        return self.user.time_zone if self.user is not None else "UTC"

    @property
    def csrf(self) -> str:
        binding = self._binding()
        return security.csrf_token(self.request.app.state, self.now, binding)

    def _binding(self) -> str:
        if self.session_secret is not None:
            return f"session:{self.session_secret}"
        if self.pre_session is None:
            self.pre_session = security.new_pre_session()
            self.new_pre_session = True
            self.set_cookie(security.PRE_SESSION_COOKIE, self.pre_session, None)
        return f"pre:{self.pre_session}"

    def csrf_ok(self, presented: str) -> bool:
        if not presented:
            return False
        if self.session_secret is None and self.pre_session is None:
            return False
        return security.csrf_matches(self.request.app.state, self.now, self._binding(), presented)

    def set_cookie(self, name: str, value: str | None, max_age: int | None) -> None:
        """Queue a cookie for the response (value None deletes it)."""
        self.cookies.append((name, value, max_age))

    def _finish(self, response: Response) -> Response:
        for name, value, max_age in self.cookies:
            if value is None:
                response.delete_cookie(
                    name, path="/", secure=self.settings.https, httponly=True, samesite="lax"
                )
            else:
                response.set_cookie(
                    name,
                    value,
                    max_age=max_age,
                    path="/",
                    secure=self.settings.https,
                    httponly=True,
                    samesite="lax",
                )
        response.headers.update(HEADERS)
        return response

    def flash(self) -> str | None:
        raw = self.request.cookies.get(security.FLASH_COOKIE)
        if not raw:
            return None
        self.set_cookie(security.FLASH_COOKIE, None, None)
        return unquote(raw)[:300]

    def context(self, **context: Any) -> dict[str, Any]:
        from web.navigation import menu

        return {
            "page": self,
            "me": self.user,
            "menu": menu(self) if self.user is not None else [],
            "path": self.request.url.path,
            "flash": self.flash(),
            **context,
        }

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        body = render_template(template, self.context(**context))
        return self._finish(HTMLResponse(body, status_code=status))

    def redirect(self, url: str, message: str | None = None) -> Response:
        """303 See Other to ``url`` (after a POST), with a one-time message shown there."""
        if message:
            self.set_cookie(security.FLASH_COOKIE, quote(message), 60)
        return self._finish(RedirectResponse(url, status_code=303))


def get_page(request: Request, settings: SettingsDep, session: SessionDep, now: NowDep) -> Page:
    page = Page(request=request, settings=settings, now=now)
    state = request.app.state
    cookie = request.cookies.get(security.SESSION_COOKIE)
    secret = security.unsign_session(state, now, cookie) if cookie else None
    if secret is not None:
        found = web_sessions.find(session, secret, now, lifetime(settings))
        if found is not None:
            page.user, page.session_secret = found[1], secret
    if page.user is None:
        if cookie:
            page.set_cookie(security.SESSION_COOKIE, None, None)
        page.pre_session = request.cookies.get(security.PRE_SESSION_COOKIE) or None
    request.state.web_page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]


def signed_in(page: PageDep) -> Page:
    if page.user is None:
        raise SignInRequired
    return page


SignedIn = Annotated[Page, Depends(signed_in)]


class Fields:
    """A posted form whose CSRF token was checked."""

    def __init__(self, data: FormData) -> None:
        self.data = data

    def text(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else default

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def has(self, name: str) -> bool:
        return name in self.data


async def checked_form(request: Request, page: PageDep) -> Fields:
    data = await request.form()
    presented = data.get(security.CSRF_FIELD)
    if not isinstance(presented, str) or not page.csrf_ok(presented):
        raise Forbidden(
            "This form has expired or did not come from this site. Go back, reload the page "
            "and try again."
        )
    return Fields(data)


Form = Annotated[Fields, Depends(checked_form)]


def attempt(session: Session, work: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run a service call in a savepoint: (its result, None), or (None, the service's error)
    with its writes undone, so a page can show the form again with ``error.detail``."""
    try:
        with session.begin_nested():
            return work(), None
    except DomainError as exc:
        return None, exc
