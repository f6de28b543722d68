"""Waking the engine up: the wake-up plumbing, apart from what the engine does when woken.

The database holds every timer; APScheduler only runs a tick at the right second. A commit
that makes something due wakes the engine at once (in-process through the session's
``after_commit``, across processes through PostgreSQL ``LISTEN``), a periodic sweep recovers
anything missed, and periodic jobs (:class:`paging.engine.jobs.Periodic`) run on their own
interval.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import event
from sqlalchemy.orm import Session

from paging.engine import wake
from store.db import Database, conninfo

log = logging.getLogger("watchbill.engine")


class Alarm:
    """Runs ``tick`` when woken: by a commit that requested it (``paging.engine.wake``), by
    :meth:`wake`, and every ``sweep_seconds``."""

    def __init__(
        self,
        database: Database,
        tick: Callable[[], None],
        *,
        sweep_seconds: float,
        wake_spacing: timedelta,
    ) -> None:
        self.database = database
        self._tick = tick
        self._sweep_seconds = sweep_seconds
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self.stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self._tick_began = -math.inf  # time.monotonic() when the last tick began
        self._wake_spacing = wake_spacing.total_seconds()

    def start(self) -> None:
        event.listen(self.database.sessionmaker, "after_commit", self._after_commit)
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self._sweep_seconds,
            id="sweep",
            next_run_time=datetime.now(UTC),
            max_instances=1000,
            coalesce=True,
        )
        self._scheduler.start()
        if self.database.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="wb-listen", daemon=True)
            self._listener.start()

    def every(self, name: str, interval: timedelta, work: Callable[[], None]) -> None:
        """Run ``work`` every ``interval`` from now on (once at a time), apart from the tick."""
        self._scheduler.add_job(
            work,
            "interval",
            seconds=interval.total_seconds(),
            id=name,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )

    def stop(self) -> None:
        self.stopping.set()
        if event.contains(self.database.sessionmaker, "after_commit", self._after_commit):
            event.remove(self.database.sessionmaker, "after_commit", self._after_commit)
        self._scheduler.shutdown(wait=True)

    def tick_begins(self) -> None:
        """A tick begins now (wake-ups are spaced from it)."""
        self._tick_began = time.monotonic()

    def _after_commit(self, session: Session) -> None:
        if wake.take(session):
            self.wake_soon()

    def wake_soon(self) -> None:
        """Work was made due: a tick now, or ``wake_spacing`` after the last one began."""
        wait = self._tick_began + self._wake_spacing - time.monotonic()
        self.wake(datetime.now(UTC) + timedelta(seconds=max(0.0, wait)))

    def wake(self, at: datetime | None = None) -> None:
        """Run a tick at ``at`` (default: now)."""
        if self.stopping.is_set():
            return
        run_at = at or datetime.now(UTC)
        try:
            job = self._scheduler.get_job("wake")
            if job is not None and job.next_run_time is not None and job.next_run_time <= run_at:
                return
            # Many instances allowed: a wake that fires during a running tick must reach
            # ``tick`` (which then asks the running one to go round again), not be skipped.
            self._scheduler.add_job(
                self._tick,
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
        while not self.stopping.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {wake.CHANNEL}")
                    # Anything committed while no connection listened is picked up now.
                    self.wake()
                    own = wake.origin(self.database.engine)
                    # One connection for good: a NOTIFY sent while none listens is lost, so
                    # the wait is resumed on it (each second, to notice stopping), never
                    # reconnected for it.
                    while not self.stopping.is_set():
                        for notify in connection.notifies(timeout=1.0):
                            # This process's own commits woke the engine already.
                            if notify.payload != own:
                                self.wake_soon()
                            if self.stopping.is_set():
                                return
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("LISTEN connection lost; reconnecting")
                self.stopping.wait(1.0)
