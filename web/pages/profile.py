"""My profile: name, time zone, quiet hours, password; contact methods (add, verify, test,
remove); notification rules; calendar subscription; API tokens (shown once, revocable)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from calendars import urls
from paging.outbox import contact_notices
from people import contacts, passwords, web_sessions
from people import service as people
from people.models import ContactType, Urgency
from store.errors import DomainError, Invalid
from web import security
from web.deps import Form, Page, SessionDep, SignedIn, attempt
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


def _render(
    page: Page,
    session: Session,
    *,
    status: int = 200,
    problem: str | None = None,
    new_token: str | None = None,
) -> Response:
    me = page.user
    assert me is not None
    feed = urls.user_feed(page.settings, me.ical_token)
    methods = contacts.list_contact_methods(session, me.id)
    return page.render(
        "profile/profile.html",
        status=status,
        problem=problem,
        new_token=new_token,
        methods=methods,
        method_names={cm.id: f"{cm.type.value} {cm.address}" for cm in methods},
        rules=contacts.list_rules(session, me.id),
        tokens=people.list_tokens(session, me.id),
        feed_url=feed,
        webcal_url=urls.webcal(feed),
        time_zones=time_zones(),
        contact_types=[t.value for t in ContactType],
        urgencies=[u.value for u in Urgency],
    )


def _do(
    page: Page, session: Session, work: Callable[[], Any], done: str, anchor: str = ""
) -> Response:
    """Run a service call; back to the profile with ``done``, or the form again with why not."""
    _, error = attempt(session, work)
    if error is not None:
        return _render(page, session, status=error.status, problem=error.detail)
    return page.redirect(f"/profile{anchor}", done)


def _minutes(value: str, field: str) -> int:
    try:
        minutes = float(value or "0")
    except ValueError as exc:
        raise Invalid(field, "give a number of minutes") from exc
    if not 0 <= minutes <= 1440:
        raise Invalid(field, "between 0 and 1440 minutes")
    return round(minutes * 60)


def _urgency(value: str) -> Urgency:
    try:
        return Urgency(value)
    except ValueError as exc:
        raise Invalid("urgency", "high or low") from exc


@router.get("/profile")
def profile(page: SignedIn, session: SessionDep) -> Response:
    return _render(page, session)


@router.post("/profile")
def update_profile(page: SignedIn, form: Form, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    quiet = (form.text("quiet_start") or None, form.text("quiet_end") or None)
    changes = {
        "name": form.text("name"),
        "time_zone": form.text("time_zone"),
        "quiet_start": quiet[0],
        "quiet_end": quiet[1],
    }
    if not changes["name"]:
        return _render(page, session, status=422, problem="name: write your name")
    return _do(
        page, session, lambda: people.update_user(session, page.actor, me.id, changes), "Saved."
    )


@router.post("/profile/password")
def change_password(page: SignedIn, form: Form, session: SessionDep, request: Request) -> Response:
    me = page.user
    assert me is not None
    if not passwords.matches(me.password_hash, form.raw("current")):
        return _render(page, session, status=403, problem="Your current password is wrong.")
    if form.raw("password") != form.raw("password_again"):
        return _render(page, session, status=422, problem="The two new passwords differ.")
    _, error = attempt(
        session, lambda: passwords.set_password(session, page.actor, me.id, form.raw("password"))
    )
    if error is not None:
        return _render(page, session, status=error.status, problem=error.detail)
    # Setting a password ends every session; this browser gets a new one.
    secret = web_sessions.start(session, me, page.now, user_agent=request.headers.get("user-agent"))
    page.set_cookie(
        security.SESSION_COOKIE, security.sign_session(request.app.state, page.now, secret), None
    )
    return page.redirect("/profile", "Password changed. Other browsers are signed out.")


@router.post("/profile/contact-methods")
def add_contact_method(page: SignedIn, form: Form, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    try:
        kind = ContactType(form.text("type"))
    except ValueError:
        return _render(page, session, status=422, problem="type: sms, voice or email")

    def add() -> str:
        cm, pending = contacts.create_contact_method(
            session, page.actor, me.id, kind=kind, address=form.text("address"), now=page.now
        )
        if pending is None:
            return f"Added {cm.address}."
        contact_notices.send_verification(session, pending, page.now)
        return f"We sent a code to {cm.address}. Enter it below to turn it on."

    message, error = attempt(session, add)
    if error is not None:
        return _render(page, session, status=error.status, problem=error.detail)
    return page.redirect("/profile#contact-methods", message)


@router.post("/profile/contact-methods/{cm_id}/verify")
def verify(cm_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: contacts.verify(session, page.actor, cm_id, form.text("code"), page.now),
        "Confirmed: this contact method is on.",
        "#contact-methods",
    )


@router.post("/profile/contact-methods/{cm_id}/resend")
def resend(cm_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: contact_notices.resend_verification(session, page.actor, cm_id, page.now),
        "A new code is on its way.",
        "#contact-methods",
    )


@router.post("/profile/contact-methods/{cm_id}/test")
def test_page(cm_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: contact_notices.send_test(session, page.actor, cm_id, page.now),
        "A test page is on its way.",
        "#contact-methods",
    )


@router.post("/profile/contact-methods/{cm_id}/delete")
def remove_contact_method(cm_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: contacts.delete_contact_method(session, page.actor, cm_id),
        "Removed.",
        "#contact-methods",
    )


@router.post("/profile/rules")
def add_rule(page: SignedIn, form: Form, session: SessionDep) -> Response:
    me = page.user
    assert me is not None

    def add() -> object:
        return contacts.create_rule(
            session,
            page.actor,
            me.id,
            contact_method_id=form.text("contact_method_id"),
            delay_seconds=_minutes(form.text("delay_minutes"), "delay_minutes"),
            urgency=_urgency(form.text("urgency")),
        )

    return _do(page, session, add, "Rule added.", "#rules")


@router.post("/profile/rules/{rule_id}")
def change_rule(rule_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    def change() -> object:
        return contacts.update_rule(
            session,
            page.actor,
            rule_id,
            delay_seconds=_minutes(form.text("delay_minutes"), "delay_minutes"),
            urgency=_urgency(form.text("urgency")),
        )

    return _do(page, session, change, "Rule changed.", "#rules")


@router.post("/profile/rules/{rule_id}/delete")
def remove_rule(rule_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: contacts.delete_rule(session, page.actor, rule_id),
        "Rule removed.",
        "#rules",
    )


@router.post("/profile/calendar/rotate")
def rotate_calendar(page: SignedIn, form: Form, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    return _do(
        page,
        session,
        lambda: people.rotate_user_feed(session, page.actor, me.id),
        "Your calendar has a new address; the old one stopped working.",
        "#calendar",
    )


@router.post("/profile/tokens")
def create_token(page: SignedIn, form: Form, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    name = form.text("name")
    if not name:
        return _render(page, session, status=422, problem="name: say what the token is for")
    made, error = attempt(
        session, lambda: people.create_token(session, page.actor, name=name[:200], user_id=me.id)
    )
    if error is not None or made is None:
        detail = error.detail if isinstance(error, DomainError) else "could not create"
        return _render(page, session, status=error.status if error else 400, problem=detail)
    return _render(page, session, new_token=made[1])


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(token_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _do(
        page,
        session,
        lambda: people.revoke_token(session, page.actor, token_id, page.now),
        "Token revoked.",
        "#tokens",
    )
