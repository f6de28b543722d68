"""Users, their contact methods and notification rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api import urls
from api.deps import CurrentActor, NowDep, PageDep, SessionDep, SettingsDep
from api.errors import domain_problem
from api.openapi import problems
from api.schemas.people import (
    ContactMethodIn,
    ContactMethodOut,
    ListOut,
    PasswordIn,
    RuleIn,
    RuleOut,
    RulePatch,
    UserIn,
    UserOut,
    UserPatch,
    VerifyIn,
)
from escalation import commitments
from paging.outbox import contact_notices
from paging.providers.webhook import signature
from people import contacts, passwords
from people import service as people
from people.access import can_see_user_secrets
from people.models import User
from store.audit import Actor
from store.errors import Invalid, NotFound
from store.settings import Settings

router = APIRouter(tags=["users"])


def user_out(settings: Settings, user: User, actor: Actor) -> UserOut:
    """The user as ``actor`` may see them: the calendar URL only for themself and admins."""
    ical = (
        urls.user_feed(settings, user.ical_token) if can_see_user_secrets(actor, user.id) else None
    )
    return UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        time_zone=user.time_zone,
        role=user.role,
        quiet_start=user.quiet_start,
        quiet_end=user.quiet_end,
        ical_url=ical,
        webcal_url=None if ical is None else urls.webcal(ical),
        created_at=user.created_at,
        active=user.deactivated_at is None,
        deactivated_at=user.deactivated_at,
    )


@router.post("/users", status_code=201, summary="Create a user (admin)", responses=problems(409))
def create_user(
    body: UserIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """Admins only. The e-mail address is unique; the time zone is an IANA name. The answer
    carries the user's calendar URL (shown to that user and admins only)."""
    user = people.create_user(
        session, actor, name=body.name, email=body.email, time_zone=body.time_zone, role=body.role
    )
    return user_out(settings, user, actor)


@router.get("/users", summary="List users (`email` finds one by address)")
def list_users(
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    page: PageDep,
    email: Annotated[
        str | None, Query(max_length=320, description="only the user with this e-mail address")
    ] = None,
) -> ListOut[UserOut]:
    """Everyone signed in. `ical_url`/`webcal_url` are null except for yourself (admins see all)."""
    result = people.list_users(session, cursor=page.cursor, limit=page.limit, email=email)
    return ListOut(items=[user_out(settings, u, actor) for u in result.items], next=result.next)


@router.get("/users/me", summary="The user the token belongs to", responses=problems(404))
def me(session: SessionDep, actor: CurrentActor, settings: SettingsDep) -> UserOut:
    """404 for a token that belongs to no user (an admin token or the bootstrap token)."""
    if actor.user_id is None:
        raise NotFound("this token does not belong to a user")
    return user_out(settings, people.get_user(session, actor.user_id), actor)


@router.get("/users/{user_id}", summary="Get a user")
def get_user(
    user_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """Everyone signed in. `ical_url`/`webcal_url` are null except for yourself (admins see all)."""
    return user_out(settings, people.get_user(session, user_id), actor)


@router.patch("/users/{user_id}", summary="Edit a profile (self or admin)", responses=problems(409))
def update_user(
    user_id: str, body: UserPatch, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """The person themself or an admin; only an admin changes a role. A field left out keeps its
    value; `null` is refused for name, email, time zone and role, and clears quiet hours."""
    changes = body.model_dump(exclude_unset=True)
    user = people.update_user(session, actor, user_id, changes)
    return user_out(settings, user, actor)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Deactivate a user (admin)",
    responses=problems(c409="rotations, overrides or escalation targets still need them"),
)
def delete_user(user_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> Response:
    """Deactivate the user: they can no longer sign in, use a token or be paged, and the past
    keeps their name. Refused (409, with ``references``) while a current or future rotation,
    override or escalation target still needs them: replace them there first."""
    commitments.deactivate_user(session, actor, user_id, now)
    return Response(status_code=204)


@router.put(
    "/users/{user_id}/password",
    status_code=204,
    summary="Set a web sign-in password (the user or an admin)",
)
def set_password(
    user_id: str, body: PasswordIn, session: SessionDep, actor: CurrentActor
) -> Response:
    """The user or an admin; the user's web sessions end (they sign in with the new one)."""
    passwords.set_password(session, actor, user_id, body.password)
    return Response(status_code=204)


@router.post("/users/{user_id}/rotate-ical", summary="Replace the user's calendar feed URL")
def rotate_ical(
    user_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """The person themself or an admin: the old calendar URL stops working at once."""
    return user_out(settings, people.rotate_user_feed(session, actor, user_id), actor)


# --- contact methods -----------------------------------------------------------------------


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


# --- notification rules --------------------------------------------------------------------


@router.post(
    "/users/{user_id}/notification-rules",
    status_code=201,
    tags=["notification rules"],
    summary="Add a notification rule (the person or an admin)",
    responses=problems(409),
)
def create_rule(user_id: str, body: RuleIn, session: SessionDep, actor: CurrentActor) -> RuleOut:
    """The person themself or an admin (never a team manager): page this contact method
    `delay_seconds` after the person is notified, for incidents of this urgency."""
    rule = contacts.create_rule(
        session,
        actor,
        user_id,
        contact_method_id=body.contact_method_id,
        delay_seconds=body.delay_seconds,
        urgency=body.urgency,
        repeat_every_seconds=body.repeat_every_seconds,
        repeat_times=body.repeat_times,
    )
    return RuleOut.model_validate(rule)


@router.get(
    "/users/{user_id}/notification-rules",
    tags=["notification rules"],
    summary="A user's notification rules",
)
def list_rules(user_id: str, session: SessionDep, _: CurrentActor) -> ListOut[RuleOut]:
    """Everyone signed in."""
    rules = contacts.list_rules(session, user_id)
    return ListOut(items=[RuleOut.model_validate(r) for r in rules], next=None)


@router.patch(
    "/notification-rules/{rule_id}",
    tags=["notification rules"],
    summary="Change a notification rule (the person or an admin)",
)
def update_rule(rule_id: str, body: RulePatch, session: SessionDep, actor: CurrentActor) -> RuleOut:
    """The person themself or an admin (never a team manager): a rule's delay or urgency."""
    rule = contacts.update_rule(
        session, actor, rule_id, delay_seconds=body.delay_seconds, urgency=body.urgency
    )
    return RuleOut.model_validate(rule)


@router.delete(
    "/notification-rules/{rule_id}",
    status_code=204,
    tags=["notification rules"],
    summary="Delete a notification rule (the person or an admin)",
)
def delete_rule(rule_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """The person themself or an admin (never a team manager)."""
    contacts.delete_rule(session, actor, rule_id)
    return Response(status_code=204)
