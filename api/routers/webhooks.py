"""Twilio webhooks (at the root, not under /api/v1): inbound SMS, call TwiML, status callbacks.

Every request must carry a valid ``X-Twilio-Signature`` for ``WATCHBILL_PUBLIC_URL`` + path
(+ query) and its form parameters, checked with the SDK's ``RequestValidator`` before anything
else runs: a wrong one is a 403 problem with no effect. Answers are TwiML (``application/xml``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from api.deps import NowDep, SessionDep, SettingsDep, get_database
from api.openapi import problems
from paging.providers.twilio import calls, inbound
from paging.providers.twilio import status as delivery_status
from people import validation
from store.db import Database
from store.errors import Invalid
from store.settings import Settings

router = APIRouter(prefix="/webhooks/twilio", tags=["twilio webhooks"])
TWIML = "application/xml"
SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as the outside world sees it (behind proxies too)."""
    query = request.url.query
    return settings.public_url + request.url.path + (f"?{query}" if query else "")


async def twilio_params(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The form parameters of a request that really comes from Twilio; 403 otherwise."""
    if settings.twilio_auth_token is None:
        raise HTTPException(403, "Twilio is not configured")
    form = await request.form()
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not validator.validate(signed_url(settings, request), form, signature):
        raise HTTPException(403, f"invalid or missing {SIGNATURE_HEADER}")
    # What Twilio relays is never refused (a reply must not be lost): control characters
    # other than tab and newline are dropped instead.
    return {
        key: validation.CONTROL.sub("", value)
        for key, value in form.multi_items()
        if isinstance(value, str)
    }


TwilioParams = Annotated[dict[str, str], Depends(twilio_params)]
#: What the webhooks answer: TwiML, or a problem (403 for a bad signature, 422, 404).
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML", "content": {TWIML: {}}},
    **problems(422, c403=f"`{SIGNATURE_HEADER}` is missing or wrong, or Twilio is not configured"),
}


def twiml(document: str) -> Response:
    return Response(content=document, media_type=TWIML)


def _required(params: dict[str, str], name: str, max_length: int) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise Invalid(name, "required")
    if len(value) > max_length:
        raise Invalid(name, f"at most {max_length} characters")
    return value


@router.post(
    "/sms",
    summary="Inbound SMS: reply codes, STOP / START / HELP",
    response_class=Response,
    responses=ANSWERS,
)
def inbound_sms(params: TwilioParams, session: SessionDep, now: NowDep) -> Response:
    """Called by Twilio, checked against `X-Twilio-Signature` (403 and no effect when it is
    wrong). Answers TwiML."""
    message = inbound.InboundMessage(
        message_sid=_required(params, "MessageSid", 64),
        sender=_required(params, "From", 32),
        body=params.get("Body", ""),
        opt_out_type=params.get("OptOutType") or None,
    )
    answer = inbound.handle_sms(session, message, now)
    response = MessagingResponse()
    if answer:
        response.message(answer)
    return twiml(str(response))


@router.post(
    "/voice/{notification_id}",
    summary="TwiML of a page call, and its key presses",
    response_class=Response,
    responses=ANSWERS,
)
def voice(
    notification_id: str,
    params: TwilioParams,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    attempt: Annotated[int, Query(ge=0, le=10)] = 0,
) -> Response:
    """Called by Twilio, checked against `X-Twilio-Signature`: the call's TwiML reads the page;
    `Digits` 4 acknowledges, 5 escalates, 6 resolves, `*` repeats."""
    digits = params.get("Digits") or None
    return twiml(calls.answer_call(session, settings, notification_id, digits, attempt, now))


@router.post(
    "/status/{notification_id}",
    status_code=204,
    summary="Message and call status",
    response_class=Response,
    responses=problems(422, c403=ANSWERS[403]["description"]),
)
def status(
    notification_id: str,
    params: TwilioParams,
    session: SessionDep,
    database: Annotated[Database, Depends(get_database)],
    now: NowDep,
) -> Response:
    """Called by Twilio, checked against `X-Twilio-Signature`: a failed SMS or an unanswered call
    fails over to the person's next contact method."""
    delivery_status.wait_until_recorded(database, notification_id)
    delivery_status.apply_status(session, notification_id, params, now)
    return Response(status_code=204)
