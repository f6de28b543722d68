"""Claim due outbox rows, hand them to their channel, record what happened.

A claim is a lease: rows go to ``sending`` with ``lease_until`` and a claim token. A crash at
any point leaves either ``pending`` rows (sent later) or ``sending`` rows whose lease lapses;
a lapsed claim is re-checked with the channel (``lookup``) before it is sent again. So is a
send that failed ambiguously (it may have gone out): its claim is kept and lapses at the
retry time (``paging.outbox.recording``).

The claiming transaction also builds each message (incident views, reply codes, links), for
the whole batch at once. A claim handed to its channel at once is sent as built; one that
waited (a busy send pool) is first re-checked under the row lock: still ours, incident still
unacknowledged, lease renewed.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus, Service
from paging.engine import metrics
from paging.outbox import claims, outgoing, sent_lately
from paging.outbox.bundling import PendingPage, Plan, plan_delivery
from paging.outbox.channel import Channel, Outcome, Outgoing, SendResult
from paging.outbox.channel_type import ChannelTypes
from paging.outbox.claims import Claim, Taken
from paging.outbox.models import Notification, NotificationStatus
from paging.outbox.recording import Recorder
from people.models import User
from people.service import is_active
from store.db import Database
from store.settings import Settings

log = logging.getLogger("watchbill.dispatch")

#: A claim sent later than this after it was made is re-checked first (an incident
#: acknowledged meanwhile is not paged; a lapsed lease is not sent twice).
RECHECK_AFTER = timedelta(seconds=1)


def _number(incidents: Mapping[str, Incident], incident_id: str | None) -> int:
    incident = incidents.get(incident_id) if incident_id else None
    return incident.number if incident else 0


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
        channel_types: ChannelTypes,
        lease: timedelta = timedelta(seconds=30),
        decorators: Sequence[outgoing.Decorator] = (),
    ) -> None:
        """``channel_types``: the providers' descriptors (which channels bundle a storm, which
        carry one message at a time, where delivery receipts come back)."""
        self.database = database
        self.channel_types = channel_types
        self.bundled = channel_types.bundled
        self.one_at_a_time = channel_types.one_at_a_time
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
        self.recorder = Recorder(database, clock)

    def _take(self, rows: Iterable[Notification], now: datetime) -> Taken:
        return claims.take(rows, now, f"{self.engine_id}:{uuid.uuid4().hex[:12]}", self.lease)

    def _reclaim(self, session: Session, row: Notification, now: datetime) -> Taken:
        token = f"{self.engine_id}:{uuid.uuid4().hex[:12]}"
        return claims.reclaim(session, row, now, token, self.lease)

    def channel_for(self, name: str) -> Channel:
        return self.channels.get(name, self.fallback)

    # --- claiming ------------------------------------------------------------------------

    def claim(self, limit: int = 100) -> list[Claim]:
        return self.claim_due(limit)[0]

    def claim_due(self, limit: int = 100, messages: int | None = None) -> tuple[list[Claim], int]:
        """Claim what is due (up to ``limit`` rows, making about ``messages`` messages at
        most); also how many due rows were dealt with (claimed, deferred into a bundle's
        interval, or cancelled because their incident was settled).

        The pages due to one address are planned together (all of them, whatever
        ``messages`` says), so a storm is bundled as one message, not split and deferred.
        """
        budget = messages if messages is not None else limit
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
                # Oldest first: when the page was made (its incident paged), not a random id.
                .order_by(Notification.send_at, Notification.created_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return [], 0
            lapsed = [row for row in due if row.status == "sending"][:budget]
            taken = [self._reclaim(session, row, now) for row in lapsed]
            fresh = [row for row in due if row.status == NotificationStatus.pending]
            incidents, _services = self._incidents(session, due)
            planned, dealt = self._plan_fresh(session, fresh, incidents, now, budget - len(taken))
            taken += planned
            return self._build(session, taken, now), len(lapsed) + dealt

    def _plan_fresh(
        self,
        session: Session,
        rows: Sequence[Notification],
        incidents: Mapping[str, Incident],
        now: datetime,
        budget: int,
    ) -> tuple[list[Taken], int]:
        """Claims for ``rows`` until about ``budget`` messages; and how many rows were dealt
        with (the rest stay pending, untouched, for the next claim or another engine)."""
        taken: list[Taken] = []
        dealt = 0
        groups: dict[tuple[str, str], list[Notification]] = defaultdict(list)
        for row in rows:
            if row.kind == "page" and row.channel in self.bundled:
                groups[(row.channel, row.address)].append(row)
            elif len(taken) < budget:
                taken.append(self._take([row], now))
                dealt += 1
        lookback = max(self.burst_window, self.bundle_interval)
        recent = sent_lately.sends_since(session, list(groups), now - lookback)
        calls = [key for key in groups if key[0] in self.one_at_a_time]
        busy = sent_lately.calls_in_progress(session, calls, now)
        for (channel, address), group in groups.items():
            if len(taken) >= budget:
                break
            dealt += len(group)
            # Oldest first: by when the incident paged, then by incident number.
            group.sort(key=lambda r: (r.created_at, _number(incidents, r.incident_id), r.id))
            by_id = {row.id: row for row in group}
            plan = plan_delivery(
                recent.get((channel, address), []),
                [
                    PendingPage(r.id, _number(incidents, r.incident_id), r.throttle == "storm")
                    for r in group
                ],
                now,
                burst=self.burst,
                window=self.burst_window,
                bundle_interval=self.bundle_interval,
                one_at_a_time=channel in self.one_at_a_time,
                busy_until=busy.get((channel, address)),
            )
            taken.extend(self._take_plan(plan, by_id, now))
        return taken, dealt

    def _take_plan(
        self, plan: Plan, by_id: Mapping[str, Notification], now: datetime
    ) -> list[Taken]:
        """Claims for what ``plan`` sends now; its deferred rows wait (``throttle`` says why)."""
        taken = []
        for page in plan.send_now:
            row = by_id[str(page.id)]
            row.throttle = "storm" if plan.storm and not plan.bundle else None
            taken.append(self._take([row], now))
        if plan.bundle:
            members = [by_id[str(p.id)] for p in plan.bundle]
            bundle = self._take(members, now)
            for member in members:
                member.throttle = "storm" if plan.storm else None
            for member in members[1:]:
                member.bundled_into = members[0].id
            taken.append(bundle)
        for page in plan.deferred:
            assert plan.defer_until is not None
            row = by_id[str(page.id)]
            row.send_at = plan.defer_until
            row.throttle = "storm" if plan.storm or row.throttle == "storm" else "call"
        return taken

    @staticmethod
    def _incidents(
        session: Session, rows: Sequence[Notification]
    ) -> tuple[dict[str, Incident], list[Service]]:
        """The rows' incidents and their services, in two queries. The caller holds both while
        it builds messages: the identity map holds objects weakly."""
        ids = {row.incident_id for row in rows if row.incident_id}
        if not ids:
            return {}, []
        found = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
        service_ids = {i.service_id for i in found.values()}
        services = session.scalars(select(Service).where(Service.id.in_(service_ids))).all()
        return found, list(services)

    def _build(self, session: Session, taken: Sequence[Taken], now: datetime) -> list[Claim]:
        """Claims with their messages built (pages of settled incidents are cancelled)."""
        if not taken:
            return []
        # One query for the batch; held here because the identity map holds objects weakly.
        users = session.scalars(
            select(User).where(User.id.in_({t.rows[0].user_id for t in taken}))
        ).all()
        claims = []
        for t in taken:
            built = self._message(session, t.carrier_id, t.rows)
            if built is None:
                continue
            message, live = built
            carrier = next(r for r in live if r.id == message.notification_id)
            claims.append(
                Claim(
                    t.carrier_id,
                    tuple(r.id for r in t.rows),
                    t.token,
                    t.recheck_since,
                    claimed_at=now,
                    message=message,
                    live_ids=tuple(r.id for r in live),
                    send_at=carrier.send_at,
                    known=t.known,
                )
            )
        del users
        return claims

    def _message(
        self, session: Session, carrier_id: str, rows: Sequence[Notification]
    ) -> tuple[Outgoing, list[Notification]] | None:
        """The message for rows held under the row lock; None when none is still wanted (the
        incident was settled, or the person deactivated, meanwhile)."""
        live = []
        for row in rows:
            incident = session.get(Incident, row.incident_id) if row.incident_id else None
            person = session.get(User, row.user_id)
            if row.kind == "page" and (
                incident is None
                or incident.status is not IncidentStatus.triggered
                or not is_active(person)
            ):
                row.status = NotificationStatus.cancelled
                row.lease_until = None
            else:
                live.append(row)
        if not live:
            return None
        carrier = next((r for r in live if r.id == carrier_id), live[0])
        status_url = self.channel_types.status_url(self.settings, carrier.channel, carrier.id)
        message = outgoing.build(
            session, self.settings, carrier, live, self.decorators, callback_url=status_url
        )
        return message, live

    # --- delivering ----------------------------------------------------------------------

    def deliver(self, claim: Claim) -> None:
        """Send a claim, then record the outcome.

        A claim sent within :data:`RECHECK_AFTER` of being made goes out as built. One that
        waited longer is re-checked under the row lock and its lease renewed just before the
        send, so a claim that outlived its lease either is still ours (and renewed) or was
        taken over by another engine (and is skipped here): never both.
        """
        fresh = (
            claim.message is not None
            and claim.claimed_at is not None
            and self.clock() - claim.claimed_at < RECHECK_AFTER
        )
        if fresh:
            assert claim.message is not None
            message, live_ids, send_at = claim.message, claim.live_ids, claim.send_at
        else:
            renewed = self._renew(claim)
            if renewed is None:
                return
            message, live_ids, send_at = renewed
        channel = self.channel_for(message.channel)
        if send_at is not None:
            metrics.handoff_delay.observe(max(0.0, (self.clock() - send_at).total_seconds()))
        result: SendResult | None = None
        if claim.recheck_since is not None:
            try:
                result = channel.lookup(message, claim.recheck_since, claim.known)
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
        # Labelled by the channel that delivered it: "log" when no provider is configured.
        metrics.notifications.labels(channel=channel.name, outcome=result.outcome.value).inc()
        self.recorder.record(claim.carrier_id, claim.token, live_ids, result)

    def _renew(self, claim: Claim) -> tuple[Outgoing, tuple[str, ...], datetime] | None:
        with self.database.transaction() as session:
            rows = list(
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
            built = self._message(session, claim.carrier_id, rows)
            if built is None:
                return None
            message, live = built
            renewed_until = self.clock() + self.lease
            for row in live:
                row.lease_until = renewed_until
            carrier = next(r for r in live if r.id == message.notification_id)
            return message, tuple(r.id for r in live), carrier.send_at
