"""The test phone: what the log channel sent in place of Twilio and SMTP, and answering it.

When a provider is not configured its messages go to the log channel
(``paging.providers.log.channel``), which records what it would have sent. An admin can read
those messages, newest first, and answer as the recipient: an SMS reply goes through
``paging.providers.twilio.inbound.handle_sms`` and a key on a call through
``paging.providers.twilio.calls.answer_call`` — the very functions Twilio's webhooks call.
With every provider configured the test phone is off.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from escalation.models import IncidentLog
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.registry import CHANNEL_TYPES
from paging.providers.twilio import calls, inbound
from people.access import require_admin
from people.models import User
from store.audit import Actor
from store.errors import Conflict, NotFound
from store.settings import Settings

SHOWN = 50
KEYS = ("4", "5", "6", "*")


def log_channels(settings: Settings) -> frozenset[str]:
    """The channels that go to the log channel with these settings: those of every provider
    they leave unconfigured (Twilio's, e-mail's)."""
    return CHANNEL_TYPES.unconfigured(settings)


def enabled(settings: Settings) -> bool:
    return bool(log_channels(settings))


def _require(settings: Settings, actor: Actor) -> None:
    require_admin(actor, "use the test phone")
    if not enabled(settings):
        raise Conflict("the test phone is off: Twilio and SMTP are both configured")


@dataclass(frozen=True)
class Delivered:
    notification_id: str
    kind: str
    channel: str
    address: str
    person: str
    at: datetime | None
    text: str
    incident_ids: tuple[str, ...]


def delivered(session: Session, settings: Settings, actor: Actor) -> list[Delivered]:
    """What the log channel sent lately, newest first (one entry per message, bundles too)."""
    _require(settings, actor)
    rows = session.execute(
        select(Notification, User.name)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.channel.in_(log_channels(settings)),
            Notification.status.in_((NotificationStatus.sent, NotificationStatus.delivered)),
            or_(Notification.bundled_into.is_(None), Notification.bundled_into == Notification.id),
        )
        .order_by(Notification.sent_at.desc(), Notification.id.desc())
        .limit(SHOWN)
    ).all()
    incident_ids = {row.incident_id for row, _ in rows if row.incident_id}
    texts: dict[str, tuple[str, set[str]]] = {}
    for entry in session.scalars(
        select(IncidentLog).where(
            IncidentLog.kind == "page_logged", IncidentLog.incident_id.in_(incident_ids)
        )
    ):
        data = entry.data or {}
        key = str(data.get("notification_id", ""))
        text, ids = texts.get(key, (str(data.get("text") or entry.message), set()))
        ids.add(entry.incident_id)
        texts[key] = (text, ids)
    found = []
    for row, name in rows:
        text, ids = texts.get(row.id, (str((row.payload or {}).get("text", "")), set()))
        found.append(
            Delivered(
                notification_id=row.id,
                kind=row.kind,
                channel=row.channel,
                address=row.address,
                person=name,
                at=row.sent_at,
                text=text,
                incident_ids=tuple(sorted(ids)),
            )
        )
    return found


def reply_sms(
    session: Session, settings: Settings, actor: Actor, address: str, body: str, now: datetime
) -> str | None:
    """An SMS from ``address`` to Watchbill, handled as Twilio's inbound webhook is; the answer."""
    _require(settings, actor)
    if "sms" not in log_channels(settings):
        raise Conflict("SMS goes through Twilio here: reply from the phone")
    message = inbound.InboundMessage(
        message_sid=f"TESTPHONE{uuid.uuid4().hex}", sender=address, body=body[:1600]
    )
    return inbound.handle_sms(session, message, now)


def press_key(
    session: Session,
    settings: Settings,
    actor: Actor,
    notification_id: str,
    key: str,
    now: datetime,
) -> str:
    """A key pressed on a logged call, handled as Twilio's voice webhook is; what it says."""
    _require(settings, actor)
    row = session.get(Notification, notification_id)
    if row is None or row.channel != "voice" or "voice" not in log_channels(settings):
        raise NotFound(f"no logged call {notification_id!r}")
    if key not in KEYS:
        raise Conflict(f"press one of {', '.join(KEYS)}")
    twiml = calls.answer_call(session, settings, notification_id, key, 0, now)
    document = ET.fromstring(twiml)  # noqa: S314 -- TwiML we generated ourselves
    said = [" ".join(say.itertext()).strip() for say in document.iter("Say")]
    return " ".join(s for s in said if s)
