"""The TwiML a page call plays, and the keys pressed on it (4 ack, 5 escalate, 6 resolve).

Twilio fetches ``/webhooks/twilio/voice/{notification}`` when the call is answered, then posts
each ``<Gather>`` result (``Digits``) to the same URL; silence comes back as a ``<Redirect>``
with ``?attempt=1`` and, the second time, the call says goodbye and hangs up. A key that acts
is remembered on the notification (``payload.voice_action``) so the end of the call can tell a
handled page from one nobody responded to (see ``paging.providers.twilio.status``).

In an alert storm the engine bundles calls like texts (``paging.outbox.bundling``): one call carries
several pages to one number, reads how many open incidents there are and the first few, and a
key acts on every incident still open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus
from escalation.rules import Action
from paging.outbox.models import Notification
from paging.providers.twilio.inbound import actor_for
from paging.providers.twilio.twiml import (
    SpokenIncident,
    bundle_menu,
    bundle_speech,
    digit_result_twiml,
    message_twiml,
    page_speech,
    parse_digit,
)
from paging.providers.twilio.voice import voice_url
from paging.response import actions
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
    """Apply a key to one incident; why it did nothing (a sentence), or "" when it acted."""
    user = session.get(User, row.user_id)
    if user is None:
        raise NotFound(f"no user {row.user_id!r}")
    row.payload = {**(row.payload or {}), "voice_action": choice.value}
    try:
        with session.begin_nested():
            result = actions.act(session, incident.id, choice, actor_for(user), via=VIA, now=now)
    except Conflict as exc:
        return exc.detail.replace("#", "").capitalize() + "."
    except Forbidden:
        return "You may not act on this incident."
    if choice is Action.acknowledge and not result.changed:
        return f"Incident {incident.number} was already acknowledged."
    return ""


def _spoken(session: Session, incident: Incident) -> SpokenIncident:
    service = incident_rows.service_of(session, incident)
    return SpokenIncident(incident.number, incident.severity.value, service.name, incident.title)


def _pages_of_call(session: Session, row: Notification) -> list[tuple[Notification, Incident]]:
    """The call's pages with their incidents: the carrier's and, for a bundled call (an alert
    storm), every page bundled into it; by incident number (oldest first)."""
    rows = [
        row,
        *session.scalars(select(Notification).where(Notification.bundled_into == row.id)),
    ]
    # Once each: a repeat of a page may have been bundled with the page itself.
    first = {r.incident_id: r for r in reversed(rows) if r.incident_id}
    pages = [(r, incident_rows.get_incident(session, i)) for i, r in first.items()]
    return sorted(pages, key=lambda page: page[1].number)


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
    pages = _pages_of_call(session, row)
    open_pages = [(r, i) for r, i in pages if i.status is not IncidentStatus.resolved]
    url = voice_url(settings.public_url, row.id)
    attempt = min(max(attempt, 0), 1)
    if len(open_pages) > 1:
        return _answer_bundle(session, url, open_pages, digits, attempt, now)
    if not open_pages and len(pages) > 1:
        return message_twiml(f"All {len(pages)} incidents have been resolved.")
    page_row, incident = open_pages[0] if open_pages else pages[0]
    if incident.status is IncidentStatus.resolved and not digits:
        return message_twiml(f"Incident {incident.number} has been resolved.")
    service = incident_rows.service_of(session, incident)
    speech = page_speech(
        incident.number, incident.severity.value, service.name, incident.title, APP
    )
    choice = parse_digit(digits) if digits else None
    if isinstance(choice, Action):
        problem = _act(session, page_row, incident, choice, now)
        if problem:
            return message_twiml(problem)
    return digit_result_twiml(
        digits,
        subject=f"incident {incident.number}",
        page_text=speech,
        action_url=url,
        attempt=attempt,
    )


def _answer_bundle(
    session: Session,
    url: str,
    pages: list[tuple[Notification, Incident]],
    digits: str | None,
    attempt: int,
    now: datetime,
) -> str:
    """A bundled call about several open incidents: a key acts on every one of them."""
    choice = parse_digit(digits) if digits else None
    subject = f"{len(pages)} incidents"
    if isinstance(choice, Action):
        acted = [_act(session, r, i, choice, now) for r, i in pages].count("")
        if not acted:
            return message_twiml(
                f"No incident was {choice.past.lower()}: they had been dealt with already."
            )
        if acted < len(pages):
            subject = f"{acted} of {len(pages)} incidents; the others had been dealt with already"
    return digit_result_twiml(
        digits,
        subject=subject,
        page_text=bundle_speech([_spoken(session, i) for _, i in pages], APP),
        action_url=url,
        attempt=attempt,
        menu=bundle_menu(len(pages)),
    )
