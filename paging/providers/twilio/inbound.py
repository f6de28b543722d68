"""Inbound SMS: reply codes act on incidents; STOP / START / HELP; nonsense answered sparingly.

``handle_sms`` takes one webhook's fields (already signature-checked) and returns the text to
answer with, or None for no answer. The sender acts as the person whose verified SMS number
sent it (the one paged for that incident at that number), through ``paging.response.actions.act``:
anyone paged for an incident may act on it. Every inbound message is recorded in
``sms_inbound``: a redelivered webhook (same ``MessageSid``) gets the same answer and does
nothing again, and the answered ``unknown`` rows cap replies to nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation.models import Incident
from escalation.rules import Action
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.twilio import codes
from paging.providers.twilio.models import InboundSms
from paging.providers.twilio.sms_text import (
    compose_bulk_confirmation,
    compose_confirmation,
    compose_no_open_incident,
    compose_unknown_reply,
    help_text,
    opt_in_text,
    opt_out_text,
)
from paging.response import actions
from paging.response.replies_parse import (
    UNKNOWN_REPLY_WINDOW,
    Reply,
    ReplyKind,
    parse_reply,
    should_answer_unknown,
)
from people.models import ContactMethod, ContactType, User
from store import audit
from store.audit import Actor
from store.errors import Conflict, Forbidden

VIA = "sms"
APP = "Watchbill"
MAX_BODY = 1600


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str
    sender: str  # E.164, Twilio's ``From``
    body: str
    opt_out_type: str | None = None  # Twilio's ``OptOutType``: it answered the keyword itself


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, is_admin=False, label=f"user:{user.email}")


def sms_methods(session: Session, address: str, *, verified: bool = True) -> list[ContactMethod]:
    stmt = select(ContactMethod).where(
        ContactMethod.type == ContactType.sms, ContactMethod.address == address
    )
    if verified:
        stmt = stmt.where(ContactMethod.verified_at.is_not(None))
    return list(session.scalars(stmt.order_by(ContactMethod.created_at, ContactMethod.id)))


def set_sms_opt_out(session: Session, address: str, opted_out: bool, by: str) -> int:
    """STOP (True) or START (False) from ``address``: SMS to it stops or resumes; voice stays."""
    changed = 0
    for cm in sms_methods(session, address, verified=False):
        if cm.sms_opted_out is opted_out:
            continue
        before = audit.snapshot(cm)
        cm.sms_opted_out = opted_out
        audit.record(session, Actor(user_id=None, is_admin=False, label=by), "update", cm, before)
        changed += 1
    return changed


#: A page in ``sending`` may be on the phone already (its send is recorded a moment later).
WENT_OUT = (NotificationStatus.sending, NotificationStatus.sent, NotificationStatus.delivered)


def newest_message(session: Session, address: str) -> list[str]:
    """The incidents of the newest message that went out by SMS to ``address``: one page's,
    or every incident of a bundle."""
    newest = session.execute(
        select(Notification.id, Notification.bundled_into)
        .join(Incident, Incident.id == Notification.incident_id)
        .where(
            Notification.address == address,
            Notification.channel == "sms",
            Notification.kind == "page",
            Notification.status.in_(WENT_OUT),
        )
        .order_by(
            func.coalesce(Notification.sent_at, Notification.claimed_at).desc(),
            Incident.created_at.desc(),
        )
        .limit(1)
    ).first()
    if newest is None:
        return []
    carrier = newest.bundled_into or newest.id
    rows = session.execute(
        select(Notification.incident_id)
        .join(Incident, Incident.id == Notification.incident_id)
        .where(or_(Notification.id == carrier, Notification.bundled_into == carrier))
        .order_by(Incident.created_at, Incident.number)
    ).scalars()
    return list(dict.fromkeys(i for i in rows if i is not None))


def _paged_user(session: Session, address: str, incident_id: str, owners: list[User]) -> User:
    """Who acts: the owner of this number who was paged for the incident at it."""
    paged = session.scalars(
        select(Notification.user_id)
        .where(
            Notification.address == address,
            Notification.incident_id == incident_id,
            Notification.channel == "sms",
        )
        .order_by(Notification.created_at.desc())
    ).all()
    by_id = {user.id: user for user in owners}
    return next((by_id[user_id] for user_id in paged if user_id in by_id), owners[0])


def _problem(detail: str) -> str:
    return f"{APP}: {detail[:1].upper()}{detail[1:]}."


def _act_on(
    session: Session, address: str, owners: list[User], incident: Incident, reply: Reply,
    now: datetime,
) -> str | None:  # fmt: skip
    """Act on one incident; why it did nothing (a sentence), or None when it acted."""
    assert reply.action is not None
    user = _paged_user(session, address, incident.id, owners)
    action = reply.action
    try:
        with session.begin_nested():
            result = actions.act(session, incident.id, action, actor_for(user), via=VIA, now=now)
    except (Conflict, Forbidden) as exc:
        return exc.detail
    if action is Action.acknowledge and not result.changed:
        return f"incident #{incident.number} is already acknowledged"
    return None


def _act(
    session: Session, address: str, owners: list[User], reply: Reply, now: datetime
) -> tuple[str, str | None]:
    assert reply.action is not None
    if reply.code is not None:
        incident_ids = codes.incidents_for(session, address, reply.code)
    else:
        incident_ids = newest_message(session, address)
    incidents = [i for i in (session.get(Incident, i) for i in incident_ids) if i is not None]
    if not incidents:
        return compose_no_open_incident(reply.code, APP), None
    if len(incidents) == 1:
        [incident] = incidents
        problem = _act_on(session, address, owners, incident, reply, now)
        if problem is not None:
            return _problem(problem), incident.id
        return compose_confirmation(reply.action, incident.number, incident.title), incident.id
    acted = [
        i.number for i in incidents if _act_on(session, address, owners, i, reply, now) is None
    ]
    return compose_bulk_confirmation(reply.action, acted, len(incidents), APP), incidents[0].id


def _answer_unknown(session: Session, address: str, now: datetime) -> bool:
    answered = session.scalars(
        select(InboundSms.received_at).where(
            InboundSms.address == address,
            InboundSms.answered_unknown.is_(True),
            InboundSms.received_at > now - UNKNOWN_REPLY_WINDOW,
        )
    ).all()
    return should_answer_unknown(list(answered), now)


def _record(session: Session, message: InboundMessage, now: datetime) -> InboundSms | None:
    """The new record of ``message``; None when this MessageSid was handled already."""
    if session.scalar(select(InboundSms.id).where(InboundSms.message_sid == message.message_sid)):
        return None
    record = InboundSms(
        message_sid=message.message_sid,
        address=message.sender,
        body=message.body[:MAX_BODY],
        received_at=now,
        kind="received",
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return None
    return record


def previous_answer(session: Session, message_sid: str) -> str | None:
    return session.scalar(select(InboundSms.answer).where(InboundSms.message_sid == message_sid))


def handle_sms(session: Session, message: InboundMessage, now: datetime) -> str | None:
    """Act on one inbound SMS; the answer to send back (None: answer nothing)."""
    record = _record(session, message, now)
    if record is None:
        return previous_answer(session, message.message_sid)
    address = message.sender
    owners = [cm.user for cm in sms_methods(session, address)]
    if not owners:
        record.kind = "unknown_sender"  # not one of our people: never answer strangers
        return None
    reply = parse_reply(message.body)
    record.kind = reply.kind.value
    answer: str | None = None
    if reply.kind is ReplyKind.ACTION:
        answer, record.incident_id = _act(session, address, owners, reply, now)
    elif reply.kind is ReplyKind.OPT_OUT:
        set_sms_opt_out(session, address, True, f"sms:{address}")
        answer = None if message.opt_out_type else opt_out_text(APP)
    elif reply.kind is ReplyKind.OPT_IN:
        set_sms_opt_out(session, address, False, f"sms:{address}")
        answer = None if message.opt_out_type else opt_in_text(APP)
    elif reply.kind is ReplyKind.HELP:
        answer = help_text(APP)
    elif _answer_unknown(session, address, now):
        record.answered_unknown = True
        answer = compose_unknown_reply(APP)
    record.answer = answer
    return answer
