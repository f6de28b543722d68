"""The paging engine's loop: runs the jobs that are due, then sends the outbox.

The database holds every timer (each job declares its earliest-due query,
``paging.engine.jobs``); :class:`paging.engine.alarm.Alarm` only wakes the engine at the right
second. A tick asks every job's earliest due time in one statement, drains each job that is
due in short transactions, then claims due outbox rows and hands them to send threads.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from paging.engine import metrics, registry
from paging.engine.alarm import Alarm
from paging.engine.due import Due
from paging.engine.jobs import Job, Periodic, Sender, SenderSetup, Sends
from paging.providers.log.channel import LogChannel
from paging.providers.registry import CHANNEL_TYPES
from store import logs
from store.base import utcnow
from store.db import Database
from store.settings import Settings

if TYPE_CHECKING:
    from paging.outbox.channel import Channel
    from paging.outbox.channel_type import ChannelTypes
    from paging.outbox.outgoing import Decorator

log = logging.getLogger("watchbill.engine")

#: Outbox rows claimed per pass at most.
BATCH = 200
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


class Engine:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] = utcnow,
        engine_id: str | None = None,
        decorators: Sequence[Decorator] = (),
        channel_types: ChannelTypes | None = None,
        send_workers: int = 8,
        wake_spacing: timedelta = WAKE_SPACING,
        jobs: Sequence[Job] = registry.JOBS,
        sends: Sends = registry.SENDS,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.engine_id = engine_id or f"{socket.gethostname()}:{os.getpid()}"
        self.jobs = tuple(jobs)
        self.periodic = tuple(periodic)
        self._sends = sends
        earliest = [(job.name, job.earliest) for job in self.jobs]
        self._due = Due([*earliest, (sends.name, sends.earliest)])
        # What each kind of channel is: the providers wired in one place by default.
        types = channel_types or CHANNEL_TYPES
        self.dispatcher: Sender = sends.start(
            SenderSetup(
                database=database,
                settings=settings,
                channels=channels or {},
                fallback=LogChannel(database, render=types.render),
                channel_types=types,
                decorators=decorators,
                engine_id=self.engine_id,
                clock=clock,
            )
        )
        self._alarm = Alarm(
            database,
            self.tick,
            sweep_seconds=settings.engine_sweep_seconds,
            wake_spacing=wake_spacing,
        )
        self._pool = ThreadPoolExecutor(max_workers=send_workers, thread_name_prefix="wb-send")
        # Claims in hand at most (sending or queued to send): the rest stay in the outbox for
        # any engine with room, and a claim never waits long in the queue.
        self._capacity = CLAIMS_PER_SENDER * send_workers
        self._in_hand = 0
        self._hand_lock = threading.Lock()
        self._lock = threading.Lock()
        self._again = threading.Event()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        for job in self.periodic:
            # A scheduler job of its own: a slow one never delays the tick that sends pages.
            self._alarm.every(job.name, job.every, partial(self._run_periodic, job))
        self._alarm.start()
        log.info("engine %s started", self.engine_id)

    def stop(self) -> None:
        self._alarm.stop()
        self._pool.shutdown(wait=True)
        log.info("engine %s stopped", self.engine_id)

    def wake_soon(self) -> None:
        """Work was made due: a tick now, or ``WAKE_SPACING`` after the last one began."""
        self._alarm.wake_soon()

    def wake(self, at: datetime | None = None) -> None:
        """Run a tick at ``at`` (default: now)."""
        self._alarm.wake(at)

    def run_periodic(self) -> None:
        """Run each periodic job once, now (what the scheduler does on their intervals)."""
        for job in self.periodic:
            self._run_periodic(job)

    def _run_periodic(self, job: Periodic) -> None:
        try:
            job(self.database, self.clock(), self._alarm.stopping.is_set)
        except Exception:
            log.exception("periodic job %s failed", job.name)

    # --- one tick ------------------------------------------------------------------------

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._again.set()
            return
        try:
            while True:
                self._again.clear()
                self._alarm.tick_begins()
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
        """Do everything due now (each job in turn, then the outbox); return when the next
        thing falls due.

        One query answers both "what is due now" and "when next", so a tick with nothing to
        do costs one statement.
        """
        for _ in range(MAX_ROUNDS):
            now = self.clock()
            earliest = self._due(self.database)
            ready = {name for name, at in earliest.items() if at is not None and at <= now}
            if not ready:
                break
            done = 0
            for job in self.jobs:
                if job.name in ready:
                    done += self._drain(job)
            # Steps just made pages due now: the outbox is worth a look after any of them.
            room = self._room()
            if room and (done or self._sends.name in ready):
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

    def _drain(self, job: Job) -> int:
        total = 0
        while True:
            now = self.clock()
            with self.database.transaction() as session:
                done = job.run(session, now)
            total += done
            if done < job.batch:
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

    def next_due(self) -> datetime | None:
        """When the next thing falls due (it may be now)."""
        times = [at for at in self._due(self.database).values() if at is not None]
        return min(times) if times else None

    def _schedule(self, due: datetime | None) -> None:
        if due is None:
            return
        now = self.clock()
        # Wall-clock wake-up for an injected clock: keep the same distance from "now".
        delay = max(0.0, (due - now).total_seconds())
        if delay < self.settings.engine_sweep_seconds:
            self.wake(datetime.now(UTC) + timedelta(seconds=delay))
