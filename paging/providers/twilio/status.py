"""Twilio status callbacks: what became of a message or call after Twilio accepted it.

Rules (``/webhooks/twilio/status/{notification}``, signature-checked by the API):

* SMS ``delivered`` → the notification is ``delivered``; ``failed`` / ``undelivered`` → it is
  ``failed`` and the person's next contact method is tried at once (``paging.outbox.failover``);
  error 21610 (opted out) also marks the number as opted out of SMS.
* Call answered (``in-progress``) → ``delivered``; ``busy`` / ``no-answer`` / ``failed`` /
  ``canceled`` → ``failed`` and fail over at once.
* Call ``completed`` without a key that acted (4, 5 or 6) while the incident is still
  triggered → fail over too: without answering-machine detection a voicemail greeting looks
  like an answer, so a call nobody responded to counts as not reaching the person (someone
  who listened and hung up gets one more message; someone asleep gets reached another way).
* A bundled call (an alert storm) carries several pages: each of them gets the call's outcome.
* A call's end frees the line: calls held behind it (a phone takes one call at a time, see
  ``paging.outbox.bundling``) are planned at once.
* Every change goes to the incident log; queued / ringing and the like only update
  ``provider_status``. Repeated or late callbacks never undo a final outcome.

A callback can overtake the engine's own bookkeeping (the send is recorded a moment after
Twilio answered): ``wait_until_recorded`` waits briefly for that; a row still ``sending`` after
that (the sender died) is taken as sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident
from paging.engine import wake
from paging.outbox.failover import fail_over
from paging.outbox.models import Notification, NotificationStatus
from paging.outbox.sent_lately import CALL_ENDED
from paging.providers.twilio.client import OPTED_OUT
from paging.providers.twilio.inbound import set_sms_opt_out
from people.models import User
from store.db import Database
from store.errors import Invalid, NotFound

SMS_FAILED = frozenset({"failed", "undelivered"})
CALL_ANSWERED = frozenset({"in-progress", "answered"})
CALL_UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
RECORD_WAIT_SECONDS = 3.0


def wait_until_recorded(
    database: Database, notification_id: str, timeout: float = RECORD_WAIT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with database.transaction() as session:
            status = session.scalar(
                select(Notification.status).where(Notification.id == notification_id)
            )
        if status is not NotificationStatus.sending or time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def _log(session: Session, row: Notification, kind: str, message: str, now: datetime) -> None:
    incident = session.get(Incident, row.incident_id) if row.incident_id else None
    if incident is None:
        return
    user = session.get(User, row.user_id)
    incident_rows.log(
        session,
        incident,
        kind,
        message.format(who=user.name if user else row.user_id, address=row.address),
        now,
        user_id=row.user_id,
        channel=row.channel,
        address=row.address,
        notification_id=row.id,
        provider_id=row.provider_id,
        provider_status=row.provider_status,
    )


def _fail(session: Session, row: Notification, error: str, now: datetime) -> None:
    if row.status in (NotificationStatus.failed, NotificationStatus.cancelled):
        return
    row.status = NotificationStatus.failed
    row.last_error = error
    _log(session, row, "notify_failed", f"Could not reach {{who}} at {{address}}: {error}", now)
    fail_over(session, row, now)


def _deliver(session: Session, row: Notification, message: str, now: datetime) -> None:
    if row.status in (NotificationStatus.sent, NotificationStatus.sending):
        row.status = NotificationStatus.delivered
        _log(session, row, "delivered", message, now)


def _sms(session: Session, rows: list[Notification], status: str, params: Mapping[str, str],
         now: datetime) -> None:  # fmt: skip
    code = params.get("ErrorCode") or ""
    for row in rows:
        if status == "delivered":
            _deliver(session, row, "SMS to {who} ({address}) delivered", now)
        elif status in SMS_FAILED and row.status is not NotificationStatus.delivered:
            _fail(session, row, f"SMS {status}" + (f" (Twilio error {code})" if code else ""), now)
    if code == str(OPTED_OUT):
        set_sms_opt_out(session, rows[0].address, True, "twilio:21610")


def _line_free(session: Session, address: str, now: datetime) -> None:
    """A call to ``address`` ended: calls held behind it (``throttle``) are planned now; the
    storm rules still hold back those whose time has not come."""
    released = session.execute(
        update(Notification)
        .where(
            Notification.channel == "voice",
            Notification.address == address,
            Notification.status == NotificationStatus.pending,
            Notification.throttle.is_not(None),
            Notification.send_at > now,
        )
        .values(send_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(released, "rowcount", 0):
        wake.request(session)


def _call(session: Session, rows: list[Notification], status: str, now: datetime) -> None:
    """A call's status, for each page it carried (several when it was a bundled call)."""
    if status in CALL_ENDED and rows[0].channel == "voice":
        _line_free(session, rows[0].address, now)
    for row in rows:
        if status in CALL_ANSWERED:
            _deliver(session, row, "{who} answered the call to {address}", now)
        elif status in CALL_UNANSWERED:
            if row.status is not NotificationStatus.delivered:
                _fail(session, row, f"call {status}", now)
        elif status == "completed":
            _deliver(session, row, "{who} answered the call to {address}", now)
            payload = row.payload or {}
            if row.kind == "page" and not payload.get("voice_action") and not payload.get("ended"):
                row.payload = {**payload, "ended": "no key"}
                _log(
                    session,
                    row,
                    "call_unconfirmed",
                    "The call to {who} ({address}) ended without a key press",
                    now,
                )
                fail_over(session, row, now)


def apply_status(
    session: Session, notification_id: str, params: Mapping[str, str], now: datetime
) -> None:
    """Apply one status callback (``MessageStatus`` or ``CallStatus``) to its notification."""
    row = session.scalar(
        select(Notification).where(Notification.id == notification_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"no notification {notification_id!r}")
    status = (params.get("MessageStatus") or params.get("CallStatus") or "").strip().lower()
    if not status:
        raise Invalid("MessageStatus", "a MessageStatus or CallStatus is required")
    members = session.scalars(
        select(Notification).where(Notification.bundled_into == row.id).with_for_update()
    ).all()
    rows = [row, *members]
    sid = params.get("MessageSid") or params.get("CallSid")
    for item in rows:
        if item.status is NotificationStatus.sending:  # the sender never recorded it
            item.status = NotificationStatus.sent
            item.sent_at = item.sent_at or now
            item.lease_until = None
            item.provider_id = item.provider_id or (sid[:64] if sid else None)
        item.provider_status = status[:40]
        item.updated_at = now
    if "CallStatus" in params:
        _call(session, rows, status, now)
    else:
        _sms(session, rows, status, params, now)
