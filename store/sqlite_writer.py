"""One SQLite writer at a time within a process, first come first served.

Every transaction on SQLite here writes (``BEGIN IMMEDIATE``), and SQLite lets one writer in
at a time. Left to SQLite, threads waiting for its lock poll it with sleeps of up to 100 ms,
and under sustained load a thread can lose that race for as long as the load lasts: engine
steps fell behind and a calendar refresh gave up with "database is locked". A queue of the
process's own in front of it hands the database to the next thread in arrival order the
moment the last one is done. (Other processes on the same file still meet SQLite's lock.)
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

#: Longest a transaction waits for its turn before failing (SQLite's own wait, per statement,
#: is ``busy_timeout``).
WAIT_SECONDS = 30.0
_HOLDS = "watchbill.sqlite_writer.holds"


class FairLock:
    """A lock that goes to its waiters in arrival order (no barging)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release(): the lock stays held, now by us
        with self._mutex:
            try:
                self._waiters.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ran out
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def serialise_writers(engine: Engine, wait_seconds: float = WAIT_SECONDS) -> FairLock:
    """Queue ``engine``'s transactions: taken at BEGIN, given back when the connection
    returns to the pool (committed or rolled back, or thrown away)."""
    lock = FairLock()

    @event.listens_for(engine, "begin")
    def _take(connection: Any) -> None:
        info = connection.connection.info
        if info.get(_HOLDS):
            return  # a second transaction on a connection that already has its turn
        if not lock.acquire(wait_seconds):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                Exception(f"waited {wait_seconds:g} s for the SQLite database"),
            )
        info[_HOLDS] = True

    @event.listens_for(engine, "checkin")
    def _give_back(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_HOLDS, False):
            lock.release()

    return lock
