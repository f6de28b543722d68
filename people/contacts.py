"""Contact methods and notification rules. Functions take a session; the caller commits.

They are the person's own: only the person and admins manage them (:mod:`people.access`). A
contact method an admin adds is enabled at once; one people add for themselves stays disabled
until they confirm the code that was sent to it (``verify``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from people import contact_kinds, tokens
from people.access import require_manage_contacts
from people.models import ContactMethod, ContactType, NotificationRule, Urgency
from people.service import get_user
from store import audit
from store.audit import Actor
from store.errors import Conflict, Invalid, NotFound

MAX_VERIFICATION_ATTEMPTS = 5
#: Repeats of a notification rule ("call again until reached").
MIN_REPEAT_EVERY, MAX_REPEAT_EVERY = 1, 86_400
DEFAULT_REPEAT_TIMES, MAX_REPEAT_TIMES = 3, 20


@dataclass(frozen=True)
class PendingVerification:
    """A code to deliver to a new contact method (sent by the paging channels)."""

    contact_method_id: str
    code: str


def normalise_address(kind: ContactType, address: str) -> str:
    """The address as stored, by the rules the kind's channel registered."""
    return contact_kinds.normalise_address(kind.value, address)


def get_contact_method(session: Session, contact_method_id: str) -> ContactMethod:
    cm = session.get(ContactMethod, contact_method_id)
    if cm is None:
        raise NotFound(f"no contact method {contact_method_id!r}")
    return cm


def list_contact_methods(session: Session, user_id: str) -> list[ContactMethod]:
    get_user(session, user_id)
    stmt = select(ContactMethod).where(ContactMethod.user_id == user_id)
    return list(session.scalars(stmt.order_by(ContactMethod.created_at, ContactMethod.id)))


def create_contact_method(
    session: Session, actor: Actor, user_id: str, *, kind: ContactType, address: str, now: datetime
) -> tuple[ContactMethod, PendingVerification | None]:
    get_user(session, user_id)
    require_manage_contacts(session, actor, user_id, "add contact methods")
    address = normalise_address(kind, address)
    exists = session.scalar(
        select(ContactMethod.id).where(
            ContactMethod.user_id == user_id,
            ContactMethod.type == kind,
            ContactMethod.address == address,
        )
    )
    if exists is not None:
        raise Conflict(f"{kind.value} {address} is already a contact method of this user")
    trusted = actor.is_admin
    cm = ContactMethod(user_id=user_id, type=kind, address=address, enabled=trusted)
    pending = None
    if trusted:
        cm.verified_at = now
    else:
        code = f"{secrets.randbelow(1_000_000):06d}"
        cm.verification_code_hash = tokens.digest(code)
    session.add(cm)
    audit.record(session, actor, "create", cm, None)
    if cm.verification_code_hash is not None:
        pending = PendingVerification(contact_method_id=cm.id, code=code)
    return cm, pending


def restart_verification(
    session: Session, actor: Actor, contact_method_id: str
) -> PendingVerification:
    cm = get_contact_method(session, contact_method_id)
    require_manage_contacts(session, actor, cm.user_id, "verify contact methods")
    code = f"{secrets.randbelow(1_000_000):06d}"
    cm.verification_code_hash = tokens.digest(code)
    cm.verification_attempts = 0
    return PendingVerification(contact_method_id=cm.id, code=code)


def verify(
    session: Session, actor: Actor, contact_method_id: str, code: str, now: datetime
) -> ContactMethod:
    cm = get_contact_method(session, contact_method_id)
    require_manage_contacts(session, actor, cm.user_id, "confirm contact methods")
    if cm.enabled:
        return cm
    if cm.verification_code_hash is None or cm.verification_attempts >= MAX_VERIFICATION_ATTEMPTS:
        raise Invalid("code", "no verification pending; request a new code")
    cm.verification_attempts += 1
    if not tokens.matches(code.strip(), cm.verification_code_hash):
        raise Invalid("code", "the code does not match")
    before = audit.snapshot(cm)
    cm.enabled = True
    cm.verified_at = now
    cm.verification_code_hash = None
    audit.record(session, actor, "verify", cm, before)
    return cm


def delete_contact_method(session: Session, actor: Actor, contact_method_id: str) -> None:
    cm = get_contact_method(session, contact_method_id)
    require_manage_contacts(session, actor, cm.user_id, "delete contact methods")
    audit.record(session, actor, "delete", cm, audit.snapshot(cm), after=None)
    session.delete(cm)


# --- notification rules --------------------------------------------------------------------


def list_rules(session: Session, user_id: str) -> list[NotificationRule]:
    get_user(session, user_id)
    stmt = select(NotificationRule).where(NotificationRule.user_id == user_id)
    return list(session.scalars(stmt.order_by(NotificationRule.delay_seconds, NotificationRule.id)))


def _repeat_times(every: int | None, times: int | None) -> int:
    if every is None:
        if times:
            raise Invalid("repeat_every_seconds", "is needed to repeat (how long between tries)")
        return 0
    if not MIN_REPEAT_EVERY <= every <= MAX_REPEAT_EVERY:
        raise Invalid(
            "repeat_every_seconds", f"must be between {MIN_REPEAT_EVERY} and {MAX_REPEAT_EVERY}"
        )
    times = DEFAULT_REPEAT_TIMES if times is None else times
    if not 1 <= times <= MAX_REPEAT_TIMES:
        raise Invalid("repeat_times", f"must be between 1 and {MAX_REPEAT_TIMES}")
    return times


def create_rule(
    session: Session,
    actor: Actor,
    user_id: str,
    *,
    contact_method_id: str,
    delay_seconds: int,
    urgency: Urgency,
    repeat_every_seconds: int | None = None,
    repeat_times: int | None = None,
) -> NotificationRule:
    """A rule: page through ``contact_method_id`` ``delay_seconds`` after the person is
    notified and, with ``repeat_every_seconds``, again that often, ``repeat_times`` more times
    (default :data:`DEFAULT_REPEAT_TIMES`), until the incident is acknowledged or resolved."""
    get_user(session, user_id)
    require_manage_contacts(session, actor, user_id, "add notification rules")
    if delay_seconds < 0:
        raise Invalid("delay_seconds", "must be 0 or more")
    times = _repeat_times(repeat_every_seconds, repeat_times)
    cm = session.get(ContactMethod, contact_method_id)
    if cm is None or cm.user_id != user_id:
        raise Invalid("contact_method_id", "no such contact method of this user")
    exists = session.scalar(
        select(NotificationRule.id).where(
            NotificationRule.contact_method_id == contact_method_id,
            NotificationRule.delay_seconds == delay_seconds,
            NotificationRule.urgency == urgency,
        )
    )
    if exists is not None:
        raise Conflict("the same rule exists already")
    rule = NotificationRule(
        user_id=user_id,
        contact_method_id=contact_method_id,
        delay_seconds=delay_seconds,
        urgency=urgency,
        repeat_every_seconds=repeat_every_seconds,
        repeat_times=times,
    )
    session.add(rule)
    audit.record(session, actor, "create", rule, None)
    return rule


def update_rule(
    session: Session,
    actor: Actor,
    rule_id: str,
    *,
    delay_seconds: int | None = None,
    urgency: Urgency | None = None,
) -> NotificationRule:
    """Change a rule's delay or urgency (the person themself or an admin)."""
    rule = session.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFound(f"no notification rule {rule_id!r}")
    require_manage_contacts(session, actor, rule.user_id, "change notification rules")
    delay = rule.delay_seconds if delay_seconds is None else delay_seconds
    level = rule.urgency if urgency is None else urgency
    if delay < 0:
        raise Invalid("delay_seconds", "must be 0 or more")
    same = session.scalar(
        select(NotificationRule.id).where(
            NotificationRule.contact_method_id == rule.contact_method_id,
            NotificationRule.delay_seconds == delay,
            NotificationRule.urgency == level,
            NotificationRule.id != rule.id,
        )
    )
    if same is not None:
        raise Conflict("the same rule exists already")
    before = audit.snapshot(rule)
    rule.delay_seconds, rule.urgency = delay, level
    audit.record(session, actor, "update", rule, before)
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: str) -> None:
    rule = session.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFound(f"no notification rule {rule_id!r}")
    require_manage_contacts(session, actor, rule.user_id, "delete notification rules")
    audit.record(session, actor, "delete", rule, audit.snapshot(rule), after=None)
    session.delete(rule)
