"""Sign in, sign out, and reset a forgotten password by an e-mail link."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from paging.outbox import contact_notices
from paging.outbox.models import Notification
from people import authentication, passwords, web_sessions
from people.service import find_user_by_email, may_sign_in
from web import security
from web.deps import Form, PageDep, SessionDep, attempt
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
#: At most one reset mail per account this often (the form always answers the same).
RESET_MAIL_EVERY = timedelta(minutes=5)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//evil`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(page: PageDep, next: str | None = None) -> Response:
    if page.user is not None:
        return page.redirect(safe_next(next))
    return page.render("login/login.html", next=safe_next(next), email="", problem=None)


@router.post("/login")
def sign_in(page: PageDep, form: Form, session: SessionDep, request: Request) -> Response:
    target = safe_next(form.text("next"))
    email = form.text("email")
    result = authentication.password_sign_in(
        session, email, form.raw("password"), client_address(request), page.now
    )
    if result.user is None:
        status = 401 if result.problem == authentication.WRONG else 429
        return page.render(
            "login/login.html", status=status, next=target, email=email, problem=result.problem
        )
    if page.session_secret is not None:  # a new session id at every sign-in
        web_sessions.end(session, page.session_secret)
    secret = web_sessions.start(
        session,
        result.user,
        page.now,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    page.set_cookie(
        security.SESSION_COOKIE, security.sign_session(request.app.state, page.now, secret), None
    )
    page.set_cookie(security.PRE_SESSION_COOKIE, None, None)
    return page.redirect(target)


@router.post("/logout")
def sign_out(page: PageDep, form: Form, session: SessionDep) -> Response:
    if page.session_secret is not None:
        web_sessions.end(session, page.session_secret)
    page.set_cookie(security.SESSION_COOKIE, None, None)
    return page.redirect("/login", "You are signed out.")


@router.get("/password/forgot")
def forgot_form(page: PageDep) -> Response:
    return page.render("login/forgot.html", sent=False)


@router.post("/password/forgot")
def forgot(page: PageDep, form: Form, session: SessionDep, request: Request) -> Response:
    email = authentication.normalised_email(form.text("email"))
    user = find_user_by_email(session, email)
    if user is not None and may_sign_in(user):
        recent = session.scalar(
            select(Notification.id).where(
                Notification.user_id == user.id,
                Notification.kind == contact_notices.PASSWORD_RESET,
                Notification.created_at > page.now - RESET_MAIL_EVERY,
            )
        )
        if recent is None:
            key = security.key(request.app.state, page.now, "password-reset")
            token = passwords.reset_token(key, user, page.now)
            link = f"{page.settings.public_url}/password/reset/{token}"
            contact_notices.send_password_reset(session, user, link, page.now)
    return page.render("login/forgot.html", sent=True)


@router.get("/password/reset/{token}")
def reset_form(token: str, page: PageDep, session: SessionDep, request: Request) -> Response:
    key = security.key(request.app.state, page.now, "password-reset")
    user = passwords.user_of_reset_token(session, key, token, page.now)
    return page.render("login/reset.html", token=token, email=user.email, problem=None)


@router.post("/password/reset/{token}")
def reset(token: str, page: PageDep, form: Form, session: SessionDep, request: Request) -> Response:
    key = security.key(request.app.state, page.now, "password-reset")
    user = passwords.user_of_reset_token(session, key, token, page.now)
    password = form.raw("password")
    problem: str | None = "The two passwords differ."
    if password == form.raw("password_again"):
        _, error = attempt(
            session, lambda: passwords.reset_password(session, key, token, password, page.now)
        )
        problem = error.detail if error else None
    if problem is not None:
        return page.render(
            "login/reset.html", status=422, token=token, email=user.email, problem=problem
        )
    return page.redirect("/login", "Your password is set. Sign in with it.")
