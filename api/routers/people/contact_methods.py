"""A person's contact methods: add, verify, test, delete, and a webhook's signing key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import CurrentActor, NowDep, SessionDep, SettingsDep
from api.errors import domain_problem
from api.openapi import problems
from api.schemas.people import (
    ContactMethodIn,
    ContactMethodOut,
    ListOut,
    VerifyIn,
)
from paging.outbox import contact_notices
from paging.providers.webhook import signature
from people import contacts
from store.errors import Invalid

router = APIRouter()


@router.post(
    "/users/{user_id}/contact-methods",
    status_code=201,
    tags=["contact methods"],
    summary="Add a phone number or e-mail address (the person or an admin)",
    responses=problems(409),
)
def create_contact_method(
    user_id: str, body: ContactMethodIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> ContactMethodOut:
    """The person themself or an admin (never a team manager: whoever controls someone's
    contact methods receives their pages). Enabled at once when an admin adds it; otherwise a
    code is sent to it and it is enabled once confirmed (`/verify`)."""
    cm, pending = contacts.create_contact_method(
        session, actor, user_id, kind=body.type, address=body.address, now=now
    )
    if pending is not None:
        contact_notices.send_verification(session, pending, now)
    return ContactMethodOut.of(cm)


@router.get(
    "/users/{user_id}/contact-methods", tags=["contact methods"], summary="A user's contact methods"
)
def list_contact_methods(
    user_id: str, session: SessionDep, _: CurrentActor
) -> ListOut[ContactMethodOut]:
    """Everyone signed in (addresses are not secrets; changing them is the person's own
    business)."""
    items = contacts.list_contact_methods(session, user_id)
    return ListOut(items=[ContactMethodOut.of(cm) for cm in items], next=None)


@router.post(
    "/contact-methods/{cm_id}/verify",
    tags=["contact methods"],
    summary="Confirm a contact method with the code sent to it",
    response_model=ContactMethodOut,
)
def verify_contact_method(
    cm_id: str, body: VerifyIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> Any:
    """The person themself or an admin: the code sent to the address enables it. A wrong code is
    422; after five wrong codes ask for a new one."""
    try:
        return ContactMethodOut.of(contacts.verify(session, actor, cm_id, body.code, now))
    except Invalid as exc:
        # Answered, not raised: the transaction commits, so the wrong guess is counted (a
        # rolled-back count would allow endless guessing of a six-digit code).
        return domain_problem(exc)


class NoticeOut(BaseModel):
    notification_id: str
    channel: str
    address: str


@router.post(
    "/contact-methods/{cm_id}/resend-verification",
    status_code=202,
    tags=["contact methods"],
    summary="Send a new verification code (the person or an admin)",
    responses=problems(409),
)
def resend_verification(
    cm_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> NoticeOut:
    """The previous code stops working; a verified contact method is 409."""
    row = contact_notices.resend_verification(session, actor, cm_id, now)
    return NoticeOut(notification_id=row.id, channel=row.channel, address=row.address)


@router.post(
    "/contact-methods/{cm_id}/test",
    status_code=202,
    tags=["contact methods"],
    summary="Send a test page (the person or an admin)",
    responses=problems(409),
)
def send_test_page(cm_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> NoticeOut:
    """Goes out now through the contact method's channel; a disabled or opted-out one is 409."""
    row = contact_notices.send_test(session, actor, cm_id, now)
    return NoticeOut(notification_id=row.id, channel=row.channel, address=row.address)


class WebhookKeyOut(BaseModel):
    key: str


@router.get(
    "/contact-methods/{cm_id}/webhook-key",
    tags=["contact methods"],
    summary="The signing key of one's own webhook (its owner only)",
    responses=problems(403, 409),
)
def webhook_key(
    cm_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep, now: NowDep
) -> WebhookKeyOut:
    """The HMAC-SHA256 key of the `Watchbill-Signature` header of the pages this webhook
    receives. Only its owner reads it (not admins: they manage the method, they do not need its
    key); any other contact method is 409."""
    return WebhookKeyOut(key=signature.key_for_owner(session, settings, actor, cm_id, now))


@router.delete(
    "/contact-methods/{cm_id}",
    status_code=204,
    tags=["contact methods"],
    summary="Delete a contact method (the person or an admin)",
)
def delete_contact_method(cm_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """The person themself or an admin (never a team manager); its notification rules go with it."""
    contacts.delete_contact_method(session, actor, cm_id)
    return Response(status_code=204)
