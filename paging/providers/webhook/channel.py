"""Sends webhook pages: a signed JSON POST through the outbound guard (``store.outbound``).

2xx: sent. 5xx, 429, a timeout or a failed connection: try again later (the outbox's backoff).
Any other answer (4xx, a redirect, which is not followed) or an address the guard refuses:
never retry. The receiver should treat ``id`` as the delivery's key: after a lapsed claim or an
ambiguous failure a page may come twice (a duplicate beats a lost page).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from paging.outbox.channel import Outcome, Outgoing, SendResult
from paging.outbox.models import Notification
from paging.providers.webhook import payload, signature
from paging.server_secret import signing_secret
from store import outbound
from store.base import utcnow
from store.db import Database
from store.settings import Settings

WEBHOOK = "webhook"
TEMPORARY_STATUSES = frozenset({408, 425, 429})


def outcome(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.sent
    if status >= 500 or status in TEMPORARY_STATUSES:
        return Outcome.temporary
    return Outcome.permanent


class WebhookChannel:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = WEBHOOK
        self.database = database
        self.settings = settings
        self.clock = clock

    def _key(self, notification_id: str) -> str | None:
        """The signing key of the contact method the message goes to (None: it is gone)."""
        with self.database.transaction() as session:
            row = session.get(Notification, notification_id)
            if row is None or row.contact_method_id is None:
                return None
            secret = signing_secret(session, self.settings, utcnow())
            return signature.key(secret, row.contact_method_id)

    def send(self, message: Outgoing) -> SendResult:
        key = self._key(message.notification_id)
        if key is None:
            return SendResult(Outcome.permanent, error="the webhook contact method is gone")
        body = payload.body(message)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Watchbill",
            "Watchbill-Delivery": message.notification_id,
            signature.HEADER: signature.sign(key, int(self.clock()), body),
        }
        try:
            answer = outbound.post(
                message.address,
                body,
                allow_private=self.settings.allow_private_urls,
                headers=headers,
            )
        except outbound.OutboundRefused as exc:
            return SendResult(Outcome.permanent, error=f"webhook refused: {exc}")
        except outbound.FetchFailed as exc:
            return SendResult(Outcome.temporary, error=f"webhook failed: {exc}")
        result = outcome(answer.status)
        if result is Outcome.sent:
            return SendResult(result, provider_id=f"webhook-{message.notification_id}")
        return SendResult(
            result, error=f"webhook answered HTTP {answer.status}", error_code=answer.status
        )

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """A webhook cannot be asked whether a page arrived: send again (receivers dedupe
        on ``id``)."""
        return None
