"""The log channel: writes pages to the service's log and to the incident log.

It is the embedded default for every contact type whose provider is not configured, so that
``watchbill serve`` shows the whole flow with nothing else set up. Each page is one log
record (logger ``watchbill.pages``, tagged with the notification and incident ids) carrying
what the real channel would: the SMS text with its reply codes, an e-mail's acknowledge and
resolve links, a call's keys.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from escalation.models import IncidentLog
from paging.channels.base import IncidentView, Outcome, Outgoing, SendResult
from paging.replies_parse import format_all_codes
from paging.sms_text import PageText, compose_page
from store.base import utcnow
from store.db import Database

log = logging.getLogger("watchbill.pages")


def render(message: Outgoing) -> str:
    """The page as its channel would carry it, on one line."""
    if message.text is not None:
        return message.text
    parts = [_page(message.channel, view) for view in message.incidents]
    if message.bundle_code is not None and message.channel == "sms":
        parts.append(format_all_codes(message.bundle_code))
    return " | ".join(parts)


def _page(channel: str, view: IncidentView) -> str:
    text = compose_page(
        PageText(
            incident_number=view.number,
            severity=view.severity,
            service=view.service,
            title=view.title,
            link=view.url,
            reply_code=view.reply_code if channel == "sms" else None,
        ),
        max_segments=10,
    )
    if channel == "email":
        actions = [f"acknowledge: {view.ack_url}" if view.ack_url else ""]
        actions.append(f"resolve: {view.resolve_url}" if view.resolve_url else "")
        return " ".join([text, *filter(None, actions)])
    if channel == "voice":
        return f"{text} (call keys: 4 acknowledge, 5 escalate, 6 resolve, * repeat)"
    return text


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
                    data={"notification_id": message.notification_id, "address": message.address},
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
