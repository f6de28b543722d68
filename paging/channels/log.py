"""The log channel: writes pages to the incident log and to stdout.

It is the embedded default for every contact type whose provider is not configured, so that
``watchbill serve`` shows the whole flow with nothing else set up.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime

from sqlalchemy import select

from escalation.models import IncidentLog
from paging.channels.base import Outcome, Outgoing, SendResult
from paging.replies_parse import format_all_codes
from paging.sms_text import PageText, compose_page
from store.base import utcnow
from store.db import Database

log = logging.getLogger("watchbill.pages")


def render(message: Outgoing) -> str:
    if message.text is not None:
        return message.text
    parts = [
        compose_page(
            PageText(
                incident_number=i.number,
                severity=i.severity,
                service=i.service,
                title=i.title,
                link=i.url,
                reply_code=i.reply_code,
            ),
            max_segments=10,
        )
        for i in message.incidents
    ]
    if message.bundle_code is not None:
        parts.append(format_all_codes(message.bundle_code))
    return " | ".join(parts)


class LogChannel:
    """Delivers by writing: one incident-log entry per incident, plus a line on stdout."""

    def __init__(self, database: Database, name: str = "log") -> None:
        self.database = database
        self.name = name

    def send(self, message: Outgoing) -> SendResult:
        text = render(message)
        line = f"[watchbill page] {message.channel} to {message.person} <{message.address}>: {text}"
        print(line, file=sys.stdout, flush=True)
        log.info(line)
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
