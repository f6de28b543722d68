"""Claim due outbox rows, hand them to their channel, record what happened.

A claim is a lease: rows go to ``sending`` with ``lease_until`` and a claim token. A crash at
any point leaves either ``pending`` rows (sent later) or ``sending`` rows whose lease lapses;
a lapsed claim is re-checked with the channel (``lookup``) before it is sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus
from paging import metrics, outgoing, wake
from paging.bundling import PendingPage, plan_delivery
from paging.channels.base import Channel, Outcome, SendResult
from paging.failover import fail_over
from paging.models import Notification, NotificationStatus
from people.models import User
from store.db import Database
from store.settings import Settings

log = logging.getLogger("watchbill.dispatch")

MAX_ATTEMPTS = 8
BUNDLED_CHANNELS = frozenset({"sms", "email"})


def backoff(attempt: int) -> timedelta:
    """1 s, 2 s, 4 s ... up to a minute."""
    return timedelta(seconds=min(60, 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Claim:
    carrier_id: str
    member_ids: tuple[str, ...]
    token: str
    recheck_since: datetime | None  # set when a lapsed claim is taken over


class Dispatcher:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        channels: Mapping[str, Channel],
        fallback: Channel,
        *,
        engine_id: str,
        clock: Callable[[], datetime],
        lease: timedelta = timedelta(seconds=30),
        decorators: Sequence[outgoing.Decorator] = (),
    ) -> None:
        self.database = database
        self.settings = settings
        self.channels = dict(channels)
        self.fallback = fallback
        self.engine_id = engine_id
        self.clock = clock
        self.lease = lease
        self.decorators = tuple(decorators)
        self.burst = settings.page_burst
        self.burst_window = timedelta(seconds=settings.page_burst_window_seconds)
        self.bundle_interval = timedelta(seconds=settings.page_bundle_interval_seconds)

    def channel_for(self, name: str) -> Channel:
        return self.channels.get(name, self.fallback)

    # --- claiming ------------------------------------------------------------------------

    def claim(self, limit: int = 100) -> list[Claim]:
        now = self.clock()
        with self.database.transaction() as session:
            due = session.scalars(
                select(Notification)
                .where(
                    or_(
                        and_(
                            Notification.status == NotificationStatus.pending,
                            Notification.send_at <= now,
                        ),
                        and_(
                            Notification.status == NotificationStatus.sending,
                            Notification.lease_until <= now,
                            # bundle members are taken over with their carrier, never alone
                            Notification.bundled_into.is_(None),
                        ),
                    )
                )
                .order_by(Notification.send_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            claims = [self._reclaim(session, row, now) for row in due if row.status == "sending"]
            fresh = [row for row in due if row.status == NotificationStatus.pending]
            claims += self._plan_fresh(session, fresh, now)
        return claims

    def _take(self, rows: Sequence[Notification], now: datetime, token: str) -> None:
        for row in rows:
            if row.status is NotificationStatus.pending:
                row.attempts += 1
            row.status = NotificationStatus.sending
            row.lease_until = now + self.lease
            row.claimed_by = token
            row.claimed_at = now
            row.updated_at = now

    def _token(self) -> str:
        return f"{self.engine_id}:{uuid.uuid4().hex[:12]}"

    def _reclaim(self, session: Session, row: Notification, now: datetime) -> Claim:
        since = row.claimed_at
        members = [
            row,
            *session.scalars(
                select(Notification)
                .where(
                    Notification.bundled_into == row.id,
                    Notification.status == NotificationStatus.sending,
                )
                .with_for_update()
            ).all(),
        ]
        token = self._token()
        self._take(members, now, token)
        return Claim(row.id, tuple(m.id for m in members), token, since)

    def _plan_fresh(
        self, session: Session, rows: Sequence[Notification], now: datetime
    ) -> list[Claim]:
        claims: list[Claim] = []
        groups: dict[tuple[str, str], list[Notification]] = defaultdict(list)
        for row in rows:
            if row.kind == "page" and row.channel in BUNDLED_CHANNELS:
                groups[(row.channel, row.address)].append(row)
            else:
                token = self._token()
                self._take([row], now, token)
                claims.append(Claim(row.id, (row.id,), token, None))
        for (channel, address), group in groups.items():
            by_id = {row.id: row for row in group}
            numbers = self._incident_numbers(session, group)
            plan = plan_delivery(
                self._recent_sends(session, channel, address, now),
                [PendingPage(row.id, numbers[row.id]) for row in group],
                now,
                burst=self.burst,
                window=self.burst_window,
                bundle_interval=self.bundle_interval,
            )
            for page in plan.send_now:
                token = self._token()
                self._take([by_id[str(page.id)]], now, token)
                claims.append(Claim(str(page.id), (str(page.id),), token, None))
            if plan.bundle:
                members = [by_id[str(p.id)] for p in plan.bundle]
                token = self._token()
                self._take(members, now, token)
                for member in members[1:]:
                    member.bundled_into = members[0].id
                claims.append(Claim(members[0].id, tuple(m.id for m in members), token, None))
            for page in plan.deferred:
                assert plan.defer_until is not None
                by_id[str(page.id)].send_at = plan.defer_until
        return claims

    @staticmethod
    def _incident_numbers(session: Session, rows: Sequence[Notification]) -> dict[str, int]:
        ids = {row.incident_id for row in rows if row.incident_id}
        found = dict(
            session.execute(select(Incident.id, Incident.number).where(Incident.id.in_(ids))).all()
        )
        return {row.id: int(found.get(row.incident_id or "", 0)) for row in rows}

    def _recent_sends(
        self, session: Session, channel: str, address: str, now: datetime
    ) -> list[datetime]:
        """When messages (a bundle counts once) last went to this address."""
        rows = session.execute(
            select(Notification.sent_at, Notification.claimed_at, Notification.status).where(
                Notification.channel == channel,
                Notification.address == address,
                Notification.bundled_into.is_(None),
                or_(
                    Notification.sent_at >= now - self.burst_window,
                    and_(
                        Notification.status == NotificationStatus.sending,
                        Notification.claimed_at >= now - self.burst_window,
                    ),
                ),
            )
        ).all()
        times: list[datetime] = []
        for sent, claimed, _ in rows:
            when = sent or claimed
            if when is not None:
                times.append(when)
        return times

    # --- delivering ----------------------------------------------------------------------

    def deliver(self, claim: Claim) -> None:
        """Send a claim. Its lease is renewed under the row lock just before the send, so a
        claim that waited longer than its lease either is still ours (and renewed) or was
        taken over by another engine (and is skipped here): never both."""
        with self.database.transaction() as session:
            rows = self._held(session, claim)
            renewed_until = self.clock() + self.lease
            live = []
            for row in rows:
                incident = session.get(Incident, row.incident_id) if row.incident_id else None
                if row.kind == "page" and (
                    incident is None or incident.status is not IncidentStatus.triggered
                ):
                    row.status = NotificationStatus.cancelled
                    row.lease_until = None
                else:
                    row.lease_until = renewed_until
                    live.append(row)
            if not live:
                return
            carrier = next((r for r in live if r.id == claim.carrier_id), live[0])
            message = outgoing.build(session, self.settings, carrier, live, self.decorators)
            send_at = carrier.send_at
            live_ids = tuple(r.id for r in live)
        channel = self.channel_for(message.channel)
        metrics.handoff_delay.observe(max(0.0, (self.clock() - send_at).total_seconds()))
        result: SendResult | None = None
        if claim.recheck_since is not None:
            try:
                result = channel.lookup(message, claim.recheck_since)
            except Exception:
                log.exception("lookup of %s failed; sending again", claim.carrier_id)
            metrics.takeovers.labels(found=str(result is not None).lower()).inc()
            if result is not None:
                log.info(
                    "notification %s had already gone out; not sending again", claim.carrier_id
                )
        if result is None:
            try:
                result = channel.send(message)
            except Exception as exc:
                log.exception("channel %s failed", channel.name)
                result = SendResult(Outcome.temporary, error=f"{type(exc).__name__}: {exc}")
        metrics.notifications.labels(channel=message.channel, outcome=result.outcome.value).inc()
        self.record(claim, live_ids, result)

    @staticmethod
    def _held(session: Session, claim: Claim) -> list[Notification]:
        """The claim's rows that are still ours (a lapsed lease may have been taken over)."""
        return list(
            session.scalars(
                select(Notification)
                .where(
                    Notification.id.in_(claim.member_ids),
                    Notification.claimed_by == claim.token,
                    Notification.status == NotificationStatus.sending,
                )
                .with_for_update()
            )
        )

    def record(self, claim: Claim, ids: Sequence[str], result: SendResult) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            rows = [r for r in self._held(session, claim) if r.id in ids]
            if not rows:
                return
            carrier = next((r for r in rows if r.id == claim.carrier_id), rows[0])
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
                elif retry:
                    row.status = NotificationStatus.pending
                    row.send_at = now + backoff(carrier.attempts)
                    row.bundled_into = None
                else:
                    row.status = NotificationStatus.failed
                self._log(session, row, result, len(rows), retry, now)
                if row.status is NotificationStatus.failed:
                    fail_over(session, row, now)

    @staticmethod
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
