"""The log channel: writes pages to the service's log and to the incident log.

It is the embedded default for every contact type whose provider is not configured, so that
``watchbill serve`` shows the whole flow with nothing else set up. Each page is one log
record (logger ``watchbill.pages``, tagged with the notification and incident ids) holding
what the real provider would have sent, as its channel type renders it (``render``): the SMS
bodies with their reply codes and links, what the call says and its keys, the mail's subject
and text with its action links. Pages
keep it in their incident's log (``page_logged``, ``data.text``), and test and verification
messages have it in their outbox row. The web UI's test phone reads both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from escalation.models import IncidentLog
from paging.outbox.channel import Outcome, Outgoing, SendResult
from paging.outbox.channel_type import plain_text
from store.base import utcnow
from store.db import Database

log = logging.getLogger("watchbill.pages")


#: What a real provider would send for a message, as text (``ChannelTypes.render``).
Render = Callable[[Outgoing], str]


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

    def __init__(self, database: Database, name: str = "log", render: Render = plain_text) -> None:
        self.database = database
        self.name = name
        self.render = render

    def send(self, message: Outgoing) -> SendResult:
        text = self.render(message)
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
