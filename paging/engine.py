"""The paging engine: steps escalations, times out acknowledgements, sends the outbox.

The database holds every timer; APScheduler only wakes the engine at the right second. A
commit that makes something due wakes it at once (in-process through the session, across
processes through PostgreSQL ``LISTEN``), and a periodic sweep recovers anything missed.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from calendars.refresh import calendar_fetcher, refresh_due
from escalation.models import Incident, IncidentStatus
from paging import metrics, timers, wake
from paging.outbox import outgoing
from paging.outbox.channel import Channel
from paging.outbox.channel_type import ChannelTypes
from paging.outbox.dispatch import Dispatcher
from paging.outbox.models import Notification, NotificationStatus
from paging.providers.log.channel import LogChannel
from paging.providers.registry import CHANNEL_TYPES
from paging.response import actions, notify
from store import logs
from store.base import utcnow
from store.db import Database, conninfo
from store.settings import Settings

log = logging.getLogger("watchbill.engine")

BATCH = 200
#: Escalation steps per transaction: short, so row locks are held briefly.
STEP_BATCH = 25
#: How often the engine looks for imported calendars due for a refresh.
CALENDAR_REFRESH_SECONDS = 60
#: Claims an engine holds per send thread: enough to keep them busy, few enough that other
#: engines share a storm and that a claim is sent moments after it is made.
CLAIMS_PER_SENDER = 2
#: Rounds of work per tick before it yields (then it is rescheduled at once).
MAX_ROUNDS = 20
#: Work is due but another engine holds it: look again after this.
BUSY_RETRY = timedelta(seconds=1)
#: A commit that makes work due (here, or in another process through NOTIFY) wakes the engine
#: at once if no tick began in the last ``WAKE_SPACING``, else that long after the last one
#: began: a lone event is paged without delay, and a burst of them (events coming in) is a
#: few ticks a second, not one each, so that a tick claims and sends many pages for the cost
#: of one.
WAKE_SPACING = timedelta(milliseconds=100)

_EARLIEST = select(
    select(func.min(Incident.next_escalation_at))
    .where(Incident.status == IncidentStatus.triggered)
    .scalar_subquery()
    .label("escalations"),
    select(func.min(Incident.ack_timeout_at))
    .where(Incident.status == IncidentStatus.acknowledged)
    .scalar_subquery()
    .label("ack_timeouts"),
    select(func.min(Incident.auto_resolve_at))
    .where(Incident.status != IncidentStatus.resolved)
    .scalar_subquery()
    .label("auto_resolves"),
    select(func.min(Notification.send_at))
    .where(Notification.status == NotificationStatus.pending)
    .scalar_subquery()
    .label("outbox"),
    select(func.min(Notification.lease_until))
    .where(Notification.status == NotificationStatus.sending, Notification.bundled_into.is_(None))
    .scalar_subquery()
    .label("leases"),
    *timers.EARLIEST,
)


class Engine:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] = utcnow,
        engine_id: str | None = None,
        decorators: Sequence[outgoing.Decorator] = (),
        channel_types: ChannelTypes = CHANNEL_TYPES,
        send_workers: int = 8,
        wake_spacing: timedelta = WAKE_SPACING,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.engine_id = engine_id or f"{socket.gethostname()}:{os.getpid()}"
        self.dispatcher = Dispatcher(
            database,
            settings,
            channels or {},
            LogChannel(database, render=channel_types.render),
            engine_id=self.engine_id,
            channel_types=channel_types,
            clock=clock,
            lease=timedelta(seconds=settings.engine_lease_seconds),
            decorators=decorators,
        )
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._pool = ThreadPoolExecutor(max_workers=send_workers, thread_name_prefix="wb-send")
        # Claims in hand at most (sending or queued to send): the rest stay in the outbox for
        # any engine with room, and a claim never waits long in the queue.
        self._capacity = CLAIMS_PER_SENDER * send_workers
        self._in_hand = 0
        self._hand_lock = threading.Lock()
        self._lock = threading.Lock()
        self._again = threading.Event()
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self._tick_began = -math.inf  # time.monotonic() when the last tick began
        self._wake_spacing = wake_spacing.total_seconds()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        event.listen(self.database.sessionmaker, "after_commit", self._after_commit)
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.settings.engine_sweep_seconds,
            id="sweep",
            next_run_time=datetime.now(UTC),
            max_instances=1000,
            coalesce=True,
        )
        # Calendar imports (calendars.refresh): a job of its own, so a slow calendar server
        # never delays the tick that sends pages.
        self._scheduler.add_job(
            self.refresh_calendars,
            "interval",
            seconds=CALENDAR_REFRESH_SECONDS,
            id="calendar-imports",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()
        if self.database.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="wb-listen", daemon=True)
            self._listener.start()
        log.info("engine %s started", self.engine_id)

    def stop(self) -> None:
        self._stopping.set()
        if event.contains(self.database.sessionmaker, "after_commit", self._after_commit):
            event.remove(self.database.sessionmaker, "after_commit", self._after_commit)
        self._scheduler.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        log.info("engine %s stopped", self.engine_id)

    def refresh_calendars(self) -> None:
        """Refresh the imported calendars that are due (fetches outside any transaction)."""
        try:
            fetch = calendar_fetcher(self.settings.allow_private_urls)
            refresh_due(self.database, self.clock(), fetch=fetch, should_stop=self._stopping.is_set)
        except Exception:
            log.exception("calendar import refresh failed")

    def _after_commit(self, session: Session) -> None:
        if wake.take(session):
            self.wake_soon()

    def wake_soon(self) -> None:
        """Work was made due: a tick now, or ``WAKE_SPACING`` after the last one began."""
        wait = self._tick_began + self._wake_spacing - time.monotonic()
        self.wake(datetime.now(UTC) + timedelta(seconds=max(0.0, wait)))

    def wake(self, at: datetime | None = None) -> None:
        """Run a tick at ``at`` (default: now)."""
        if self._stopping.is_set():
            return
        run_at = at or datetime.now(UTC)
        try:
            job = self._scheduler.get_job("wake")
            if job is not None and job.next_run_time is not None and job.next_run_time <= run_at:
                return
            # Many instances allowed: a wake that fires during a running tick must reach
            # ``tick`` (which then asks the running one to go round again), not be skipped.
            self._scheduler.add_job(
                self.tick,
                "date",
                run_date=run_at,
                id="wake",
                replace_existing=True,
                misfire_grace_time=None,
                max_instances=1000,
            )
        except RuntimeError:  # scheduler shutting down
            pass

    def _listen(self) -> None:
        import psycopg

        dsn = conninfo(self.database.engine.url)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {wake.CHANNEL}")
                    # Anything committed while no connection listened is picked up now.
                    self.wake()
                    own = wake.origin(self.database.engine)
                    # One connection for good: a NOTIFY sent while none listens is lost, so
                    # the wait is resumed on it (each second, to notice stopping), never
                    # reconnected for it.
                    while not self._stopping.is_set():
                        for notify in connection.notifies(timeout=1.0):
                            # This process's own commits woke the engine already.
                            if notify.payload != own:
                                self.wake_soon()
                            if self._stopping.is_set():
                                return
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("LISTEN connection lost; reconnecting")
                self._stopping.wait(1.0)

    # --- one tick ------------------------------------------------------------------------

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._again.set()
            return
        try:
            while True:
                self._again.clear()
                self._tick_began = time.monotonic()
                metrics.engine_passes.inc()
                due = self.run_once()
                if not self._again.is_set():
                    break
            self._schedule(due)
        except Exception:
            log.exception("engine tick failed")
        finally:
            self._lock.release()

    def run_once(self) -> datetime | None:
        """Do everything due now (escalation steps, timeouts, events-in timers, the outbox);
        return when the next thing falls due.

        One query answers both "what is due now" and "when next", so a tick with nothing to
        do costs one statement.
        """
        for _ in range(MAX_ROUNDS):
            now = self.clock()
            earliest = self._earliest()
            ready = {kind for kind, at in earliest.items() if at is not None and at <= now}
            if not ready:
                break
            done = 0
            if "escalations" in ready:
                done += self._drain(self._due_escalations, STEP_BATCH)
            if "ack_timeouts" in ready:
                done += self._drain(self._due_ack_timeouts, STEP_BATCH)
            if "auto_resolves" in ready:
                done += self._drain(self._due_auto_resolves, STEP_BATCH)
            if "events_in" in ready:
                done += self._drain(self._due_events_in, BATCH)
            # Steps just made pages due now: the outbox is worth a look after any of them.
            room = self._room()
            if room and (done or ready & {"outbox", "leases"}):
                claims, handled = self.dispatcher.claim_due(limit=BATCH, messages=room)
                with self._hand_lock:
                    self._in_hand += len(claims)
                for claim in claims:
                    self._pool.submit(self._deliver, claim)
                done += handled
            elif not room:
                return None  # a send finishing wakes the engine (``_deliver``)
            if not done:
                # Due, but held by another engine (rows locked): look again shortly.
                return now + BUSY_RETRY
        else:
            return self.clock()  # still more due: go round again at once
        times = [at for at in earliest.values() if at is not None]
        return min(times) if times else None

    def _drain(self, work: Callable[[Session, datetime], int], batch: int) -> int:
        total = 0
        while True:
            done = self._step(work)
            total += done
            if done < batch:
                return total

    def _room(self) -> int:
        with self._hand_lock:
            return max(0, self._capacity - self._in_hand)

    def _deliver(self, claim: Any) -> None:
        try:
            with logs.context(notification_id=claim.carrier_id):  # tags its log records
                self.dispatcher.deliver(claim)
        except Exception:
            log.exception("delivering %s failed", claim.carrier_id)
        finally:
            with self._hand_lock:
                full = self._in_hand >= self._capacity
                self._in_hand -= 1
            if full:
                self.wake()  # room again: claim what is waiting

    def _step(self, work: Callable[[Session, datetime], int]) -> int:
        now = self.clock()
        with self.database.transaction() as session:
            return work(session, now)

    def _each(
        self,
        session: Session,
        stmt: Any,
        apply: Callable[[Session, Incident, datetime], Any],
        now: datetime,
    ) -> int:
        rows = session.scalars(
            stmt.limit(STEP_BATCH).with_for_update(skip_locked=True, key_share=True)
        ).all()
        if not rows:
            return 0
        try:
            # The whole batch under one savepoint (two round trips, not two per incident),
            # written by one flush: a step's queries (policy, people, schedules) read nothing
            # that the batch's earlier steps leave pending, so none of them flushes.
            with session.begin_nested():
                with session.no_autoflush:
                    for incident in rows:
                        apply(session, incident, now)
                session.flush()
            return len(rows)
        except Exception:
            log.warning("a step of a batch of %d failed; stepping one at a time", len(rows))
        # The rows are still locked (a savepoint's rollback keeps the transaction's locks): one
        # at a time, so that one incident failing does not hold the others back.
        done = 0
        for incident in rows:
            try:
                with session.begin_nested():
                    apply(session, incident, now)
                done += 1
            except Exception:
                log.exception("step failed; it will be retried", extra={"incident_id": incident.id})
        return done

    def _due_escalations(self, session: Session, now: datetime) -> int:
        stmt = (
            select(Incident)
            .where(Incident.status == IncidentStatus.triggered, Incident.next_escalation_at <= now)
            .order_by(Incident.next_escalation_at)
        )
        return self._each(session, stmt, self._advance, now)

    @staticmethod
    def _advance(session: Session, incident: Incident, now: datetime) -> None:
        if incident.next_escalation_at is not None:
            lateness = (now - incident.next_escalation_at).total_seconds()
            metrics.escalation_lateness.observe(max(0.0, lateness))
        moved = notify.advance(session, incident, now)
        metrics.escalation_steps.labels(kind="step" if moved else "exhausted").inc()

    def _due_ack_timeouts(self, session: Session, now: datetime) -> int:
        stmt = select(Incident).where(
            Incident.status == IncidentStatus.acknowledged, Incident.ack_timeout_at <= now
        )
        return self._each(session, stmt, actions.acknowledgement_timed_out, now)

    def _due_auto_resolves(self, session: Session, now: datetime) -> int:
        stmt = select(Incident).where(
            Incident.status != IncidentStatus.resolved, Incident.auto_resolve_at <= now
        )
        return self._each(session, stmt, actions.auto_resolve, now)

    def _due_events_in(self, session: Session, now: datetime) -> int:
        """Missed heartbeats, ended maintenance windows, then held pages now due."""
        return timers.run_due(session, now, BATCH)

    def next_due(self) -> datetime | None:
        """When the next thing falls due (it may be now)."""
        times = [at for at in self._earliest().values() if at is not None]
        return min(times) if times else None

    def _earliest(self) -> dict[str, datetime | None]:
        """The earliest due time of each kind of work, in one query."""
        with self.database.transaction() as session:
            row = session.connection().execute(_EARLIEST).one()
        times = row._asdict()
        beat, window, hold = (times.pop(k) for k in ("heartbeat", "window_end", "hold"))
        timers_due = [t for t in (beat, window, hold) if t is not None]
        times["events_in"] = min(timers_due) if timers_due else None
        return times

    def _schedule(self, due: datetime | None) -> None:
        if due is None:
            return
        now = self.clock()
        # Wall-clock wake-up for an injected clock: keep the same distance from "now".
        delay = max(0.0, (due - now).total_seconds())
        if delay < self.settings.engine_sweep_seconds:
            self.wake(datetime.now(UTC) + timedelta(seconds=delay))
