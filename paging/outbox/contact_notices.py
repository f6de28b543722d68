"""Messages to a contact method that are not pages: verification codes and test pages.

Both go through the outbox like pages (``kind`` ``verify`` / ``test``, the text in ``payload``),
so the engine delivers them by the contact method's channel, with retries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from paging.engine import wake
from paging.outbox.models import Notification, NotificationStatus
from people import contact_kinds
from people.access import require_manage_contacts
from people.contacts import PendingVerification, get_contact_method, restart_verification
from people.models import ContactMethod, ContactType, User
from store.audit import Actor
from store.errors import Conflict

APP = "Watchbill"
#: Outbox kind of a password-reset mail (to the account's own address, not a contact method).
PASSWORD_RESET = "password_reset"  # noqa: S105 -- an outbox kind, not a secret
#: Outbox kind of an invitation mail (a link to set a first password).
INVITE = "invite"


def _enqueue(
    session: Session, cm: ContactMethod, kind: str, payload: dict[str, str], now: datetime
) -> Notification:
    return _notice(session, cm.user_id, cm.id, cm.type.value, cm.address, kind, payload, now)


def _notice(
    session: Session,
    user_id: str,
    contact_method_id: str | None,
    channel: str,
    address: str,
    kind: str,
    payload: dict[str, str],
    now: datetime,
) -> Notification:
    """An outbox row due now (not a page: no incident), and the engine woken for it."""
    row = Notification(
        kind=kind,
        user_id=user_id,
        contact_method_id=contact_method_id,
        channel=channel,
        address=address,
        payload=payload,
        send_at=now,
        status=NotificationStatus.pending,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    wake.request(session)
    return row


def send_verification(
    session: Session, pending: PendingVerification, now: datetime
) -> Notification:
    """Send the code of a contact method that is waiting to be confirmed."""
    cm = get_contact_method(session, pending.contact_method_id)
    text = f"Your {APP} verification code is {pending.code}"
    text += contact_kinds.verify_hint(cm.type)
    return _enqueue(session, cm, "verify", {"text": text, "code": pending.code}, now)


def resend_verification(
    session: Session, actor: Actor, contact_method_id: str, now: datetime
) -> Notification:
    """A new code for a contact method still waiting to be confirmed (the old one stops)."""
    cm = get_contact_method(session, contact_method_id)
    require_manage_contacts(session, actor, cm.user_id, "verify contact methods")
    if cm.verified_at is not None:
        raise Conflict("this contact method is verified already")
    return send_verification(session, restart_verification(session, actor, cm.id), now)


def send_test(
    session: Session, actor: Actor, contact_method_id: str, now: datetime
) -> Notification:
    """A test page to one contact method (its owner and admins)."""
    cm = get_contact_method(session, contact_method_id)
    require_manage_contacts(session, actor, cm.user_id, "send test pages")
    if not cm.enabled:
        raise Conflict("this contact method is not enabled (confirm its verification code)")
    if contact_kinds.opted_out(cm.type, cm.sms_opted_out):
        raise Conflict("this number replied STOP; it must reply START before SMS can resume")
    user = session.get(User, cm.user_id)
    name = user.name if user else "you"
    text = f"{APP} test page for {name}. No action needed: this {cm.type.value} reaches you."
    return _enqueue(session, cm, "test", {"text": text}, now)


def send_password_reset(session: Session, user: User, link: str, now: datetime) -> Notification:
    """Mail a password-reset link to the account's e-mail address (through the outbox)."""
    text = (
        f"Someone asked to set a new {APP} password for {user.email}. To do it, open this "
        f"link within an hour:\n\n{link}\n\nIf it was not you, ignore this mail: your "
        "password stays as it is."
    )
    return _account_mail(session, user, PASSWORD_RESET, text, now)


def send_invite(
    session: Session, user: User, link: str, invited_by: str, now: datetime
) -> Notification:
    """Mail a new user the link to set their first password (through the outbox)."""
    text = (
        f"{invited_by} invited you to {APP}, the on-call service of your team. Open this link "
        f"within 7 days to choose your password, then sign in as {user.email}:\n\n{link}\n"
    )
    return _account_mail(session, user, INVITE, text, now)


def _account_mail(
    session: Session, user: User, kind: str, text: str, now: datetime
) -> Notification:
    """A mail to the account's own address (not a contact method)."""
    email = ContactType.email.value
    return _notice(session, user.id, None, email, user.email, kind, {"text": text}, now)
