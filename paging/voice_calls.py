"""The TwiML a page call plays, and the keys pressed on it (4 ack, 5 escalate, 6 resolve).

Twilio fetches ``/webhooks/twilio/voice/{notification}`` when the call is answered, then posts
each ``<Gather>`` result (``Digits``) to the same URL; silence comes back as a ``<Redirect>``
with ``?attempt=1`` and, the second time, the call says goodbye and hangs up. A key that acts
is remembered on the notification (``payload.voice_action``) so the end of the call can tell a
handled page from one nobody responded to (see ``paging.delivery_status``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus
from paging import actions
from paging.channels.twilio_voice import voice_url
from paging.models import Notification
from paging.replies import ACTIONS, actor_for
from paging.replies_parse import Action
from paging.voice_twiml import digit_result_twiml, message_twiml, page_speech, parse_digit
from people.models import User
from store.errors import Conflict, Forbidden, NotFound
from store.settings import Settings

VIA = "voice"
APP = "Watchbill"


def _spell(code: str) -> str:
    return ", ".join(code)


def notice_speech(row: Notification) -> str:
    """What a test or verification call says."""
    payload = row.payload or {}
    code = payload.get("code")
    if row.kind == "verify" and isinstance(code, str):
        spelled = _spell(code)
        return f"Your {APP} verification code is {spelled}. Again: {spelled}."
    return str(payload.get("text") or f"This is a {APP} test call.")


def _act(
    session: Session, row: Notification, incident: Incident, choice: Action, now: datetime
) -> str:
    """Apply a key; the TwiML explaining why it did nothing, or "" when it acted."""
    user = session.get(User, row.user_id)
    if user is None:
        raise NotFound(f"no user {row.user_id!r}")
    row.payload = {**(row.payload or {}), "voice_action": choice.value}
    try:
        with session.begin_nested():
            result = actions.act(
                session, incident.id, ACTIONS[choice], actor_for(user), via=VIA, now=now
            )
    except Conflict as exc:
        return message_twiml(exc.detail.replace("#", "").capitalize() + ".")
    except Forbidden:
        return message_twiml("You may not act on this incident.")
    if choice is Action.ACK and not result.changed:
        return message_twiml(f"Incident {incident.number} was already acknowledged.")
    return ""


def answer_call(
    session: Session,
    settings: Settings,
    notification_id: str,
    digits: str | None,
    attempt: int,
    now: datetime,
) -> str:
    """The TwiML for one request of a page call (its first fetch, a key, or silence)."""
    row = session.get(Notification, notification_id)
    if row is None or row.channel != "voice":
        raise NotFound(f"no voice notification {notification_id!r}")
    if row.incident_id is None:
        return message_twiml(notice_speech(row))
    incident = incident_rows.get_incident(session, row.incident_id)
    if incident.status is IncidentStatus.resolved and not digits:
        return message_twiml(f"Incident {incident.number} has been resolved.")
    service = incident_rows.service_of(session, incident)
    speech = page_speech(
        incident.number, incident.severity.value, service.name, incident.title, APP
    )
    choice = parse_digit(digits) if digits else None
    if isinstance(choice, Action):
        problem = _act(session, row, incident, choice, now)
        if problem:
            return problem
    return digit_result_twiml(
        digits,
        incident_number=incident.number,
        page_text=speech,
        action_url=voice_url(settings.public_url, row.id),
        attempt=min(max(attempt, 0), 1),
    )
