"""The test phone (admins, while Twilio or SMTP is not configured): read what the log channel
sent and answer as the recipient, through the same handling as Twilio's webhooks."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from paging.providers.log import test_phone
from web.deps import Form, SessionDep, SignedIn
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/test-phone")
def phone(page: SignedIn, session: SessionDep) -> Response:
    sent = test_phone.delivered(session, page.settings, page.actor)
    return page.render(
        "test_phone/phone.html",
        sent=sent,
        channels=sorted(test_phone.log_channels(page.settings)),
        keys=[("4", "acknowledge"), ("5", "escalate"), ("6", "resolve"), ("*", "repeat")],
    )


@router.post("/test-phone/sms")
def reply(page: SignedIn, form: Form, session: SessionDep) -> Response:
    address, body = form.text("address"), form.text("body")
    answer = test_phone.reply_sms(session, page.settings, page.actor, address, body, page.now)
    said = f"Watchbill answered {address}: {answer}" if answer else "Watchbill sent no answer."
    return page.redirect("/test-phone", f"You sent “{body}” from {address}. {said}")


@router.post("/test-phone/calls/{notification_id}")
def press(notification_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    key = form.text("key")
    said = test_phone.press_key(session, page.settings, page.actor, notification_id, key, page.now)
    return page.redirect("/test-phone", f"You pressed {key}. The call said: {said}")
