"""The log channel: writes pages to the service's log and to the incident log.

It is the embedded default for every contact type whose provider is not configured, so that
``watchbill serve`` shows the whole flow with nothing else set up. Each page is one log
record (logger ``watchbill.pages``, tagged with the notification and incident ids) holding
what the real provider would have sent: the SMS bodies with their reply codes and links,
what the call says and its keys, the mail's subject and text with its action links. Pages
keep it in their incident's log (``page_logged``, ``data.text``), and test and verification
messages have it in their outbox row. The web UI's test phone reads both.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from escalation.models import IncidentLog
from paging.channels import smtp, twilio_sms
from paging.channels.base import Outcome, Outgoing, SendResult
from paging.voice_twiml import SpokenIncident, bundle_speech, page_speech
from store.base import utcnow
from store.db import Database

log = logging.getLogger("watchbill.pages")


VOICE_MENU = "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat."
LOG_FROM = "Watchbill <watchbill@localhost>"


def _speech(message: Outgoing) -> str:
    if message.text is not None or not message.incidents:
        return message.text or ""
    spoken = [SpokenIncident(i.number, i.severity, i.service, i.title) for i in message.incidents]
    if len(spoken) == 1:
        first = spoken[0]
        return (
            f"{page_speech(first.number, first.severity, first.service, first.title)} {VOICE_MENU}"
        )
    return f"{bundle_speech(spoken)} {VOICE_MENU}"


def render(message: Outgoing) -> str:
    """What the configured provider would have sent for this message."""
    if message.channel == "sms":
        return "\n\n".join(twilio_sms.render(message))
    if message.channel == "voice":
        return _speech(message)
    if message.channel == "email":
        mail = smtp.compose(message, LOG_FROM)
        body = mail.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        return f"Subject: {mail['Subject']}\n\n{text}".rstrip()
    return message.text or " | ".join(f"#{i.number} {i.title}" for i in message.incidents)


def _ids(message: Outgoing) -> dict[str, object]:
    """What the record is about (a bundle lists its incidents)."""
    incidents = [view.id for view in message.incidents]
    ids: dict[str, object] = {"notification_id": message.notification_id}
    if len(incidents) == 1:
        ids["incident_id"] = incidents[0]
    elif incidents:
        ids["incident_ids"] = incidents
    return ids


class LogChannel:
    """Delivers by writing: one incident-log entry per incident, plus a line on stdout."""

    def __init__(self, database: Database, name: str = "log") -> None:
        self.database = database
        self.name = name

    def send(self, message: Outgoing) -> SendResult:
        text = render(message)
        log.info(
            "page by %s (no %s provider: logged) to %s <%s>: %s",
            message.channel,
            message.channel,
            message.person,
            message.address,
            text,
            extra=_ids(message),
        )
        with self.database.transaction() as session:
            at = utcnow()
            session.add_all(
                IncidentLog(
                    incident_id=view.id,
                    at=at,
                    kind="page_logged",
                    message=f"Page for {message.person} by {message.channel} written to the "
                    f"log (no {message.channel} provider configured): {text}",
                    data={
                        "notification_id": message.notification_id,
                        "address": message.address,
                        "channel": message.channel,
                        "text": text,
                    },
                )
                for view in message.incidents
            )
        return SendResult(Outcome.sent, provider_id=f"log-{message.notification_id}")

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """Found when the incident log holds this notification's entry (no clock involved)."""
        incident_ids = [view.id for view in message.incidents]
        with self.database.transaction() as session:
            rows = session.scalars(
                select(IncidentLog).where(
                    IncidentLog.kind == "page_logged", IncidentLog.incident_id.in_(incident_ids)
                )
            )
            for row in rows:
                if (row.data or {}).get("notification_id") == message.notification_id:
                    return SendResult(Outcome.sent, provider_id=f"log-{message.notification_id}")
        return None
