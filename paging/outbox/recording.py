"""Record what channels answered: outbox rows to sent / retry / failed, and the incident log.

Results are written by group commit: the first sending thread to arrive writes every result
waiting at that moment in one transaction, and the threads whose results it wrote go on when
it commits. One message costs one transaction when the engine is quiet; a storm of hundreds
costs a few. Each caller returns only once its own result is committed (or raises what
writing it raised), so ``deliver`` keeps its meaning: sent, then recorded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident
from paging.engine import wake
from paging.outbox.channel import Outcome, SendResult
from paging.outbox.failover import fail_over
from paging.outbox.models import Notification, NotificationStatus
from people.models import User
from store.db import Database

log = logging.getLogger("watchbill.dispatch")

MAX_ATTEMPTS = 8


def backoff(attempt: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to a minute."""
    return timedelta(seconds=min(60, 2 ** max(0, attempt - 1)))


@dataclass
class Result:
    """One message's answer, waiting to be written."""

    carrier_id: str
    token: str
    ids: tuple[str, ...]
    result: SendResult
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Recorder:
    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock
        self._lock = threading.Lock()
        self._waiting: list[Result] = []
        self._writing = False

    @property
    def waiting(self) -> int:
        """Results queued behind the transaction being written."""
        with self._lock:
            return len(self._waiting)

    def record(self, carrier_id: str, token: str, ids: Sequence[str], result: SendResult) -> None:
        """Write ``result`` for the rows ``ids`` still held by ``token``; return once committed."""
        item = Result(carrier_id, token, tuple(ids), result)
        with self._lock:
            self._waiting.append(item)
            writer = not self._writing
            self._writing = True
        if writer:
            self._write_waiting()
        else:
            item.done.wait()
        if item.error is not None:
            raise item.error

    def _write_waiting(self) -> None:
        while True:
            with self._lock:
                batch, self._waiting = self._waiting, []
                if not batch:
                    self._writing = False
                    return
            try:
                self._write(batch)
            except Exception:
                # One bad result must not cost the others theirs: write each on its own.
                for item in batch:
                    try:
                        self._write([item])
                    except Exception as exc:
                        item.error = exc
            finally:
                for item in batch:
                    item.done.set()

    def _write(self, batch: Sequence[Result]) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            ids = sorted({i for item in batch for i in item.ids})
            held = session.scalars(
                select(Notification)
                .where(Notification.id.in_(ids), Notification.status == NotificationStatus.sending)
                .order_by(Notification.id)
                .with_for_update()
            ).all()
            by_id = {row.id: row for row in held}
            # Into the identity map in two queries, not two per row (held in ``loaded``: the
            # identity map holds objects weakly).
            incident_ids = {r.incident_id for r in held if r.incident_id}
            loaded = [
                *session.scalars(select(Incident).where(Incident.id.in_(incident_ids))),
                *session.scalars(select(User).where(User.id.in_({r.user_id for r in held}))),
            ]
            for item in batch:
                # Rows a lapsed lease let another engine take are no longer ours to write.
                rows = [
                    by_id[i] for i in item.ids if i in by_id and by_id[i].claimed_by == item.token
                ]
                if rows:
                    _apply(session, item.carrier_id, rows, item.result, now)
            del loaded


def _apply(
    session: Session,
    carrier_id: str,
    rows: Sequence[Notification],
    result: SendResult,
    now: datetime,
) -> None:
    carrier = next((r for r in rows if r.id == carrier_id), rows[0])
    retry = result.outcome is Outcome.temporary and carrier.attempts < MAX_ATTEMPTS
    if retry:
        wake.request(session)  # the engine then schedules itself for the retry time
    for row in rows:
        row.lease_until = None
        row.updated_at = now
        row.last_error = result.error
        if result.outcome is Outcome.sent:
            row.status = NotificationStatus.sent
            row.provider_id = result.provider_id
            row.sent_at = now
        elif retry and result.ambiguous:
            # It may have gone out: the claim stays, and lapses at the retry time, when the
            # takeover asks the channel (``lookup``) before it sends again (``dispatch``).
            row.lease_until = now + backoff(carrier.attempts)
        elif retry:
            row.status = NotificationStatus.pending
            row.send_at = now + backoff(carrier.attempts)
            row.bundled_into = None
        else:
            row.status = NotificationStatus.failed
        _log(session, row, result, len(rows), retry, now)
        if row.status is NotificationStatus.sending:
            row.attempts += 1  # the next try (a takeover does not count one itself)
        if row.status is NotificationStatus.failed:
            fail_over(session, row, now)


def _log(
    session: Session,
    row: Notification,
    result: SendResult,
    bundle_size: int,
    retry: bool,
    now: datetime,
) -> None:
    if row.incident_id is None:
        return
    incident = session.get(Incident, row.incident_id)
    if incident is None:
        return
    user = session.get(User, row.user_id)
    who = user.name if user else row.user_id
    how = f"{row.channel} ({row.address})"
    bundle = f" in a bundle of {bundle_size}" if bundle_size > 1 else ""
    if result.outcome is Outcome.sent:
        kind, message = "notified", f"Notified {who} by {how}{bundle}"
    elif retry and result.ambiguous:
        kind = "notify_retry"
        message = (
            f"Temporary failure notifying {who} by {how}: {result.error}; it may have gone "
            f"out: asking the provider before sending again (attempt {row.attempts})"
        )
    elif retry:
        kind = "notify_retry"
        message = (
            f"Temporary failure notifying {who} by {how}: {result.error}; "
            f"retrying (attempt {row.attempts})"
        )
    else:
        kind, message = "notify_failed", f"Could not notify {who} by {how}: {result.error}"
    incident_rows.log(
        session,
        incident,
        kind,
        message,
        now,
        user_id=row.user_id,
        channel=row.channel,
        address=row.address,
        notification_id=row.id,
        provider_id=result.provider_id,
        error_code=result.error_code,
    )
