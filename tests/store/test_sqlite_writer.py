"""SQLite's writers queue in arrival order within a process (store.sqlite_writer)."""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from store.db import Database
from store.sqlite_writer import FairLock, serialise_writers
from tests.waiting import wait_until


def test_the_lock_goes_to_waiters_in_arrival_order_not_to_whoever_asks_last() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=1)
    order: list[int] = []
    threads = []

    def waiter(n: int) -> None:
        if lock.acquire(10):
            order.append(n)

    for n in range(5):
        thread = threading.Thread(target=waiter, args=(n,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each is waiting before the next one comes
    for handed in range(1, 6):
        lock.release()  # the holder hands over; a newcomer could not jump the queue
        wait_until(partial(_has_length, order, handed), timeout=2)
        assert not lock.acquire(timeout=0.01), "still held by the waiter it went to"
    lock.release()
    for thread in threads:
        thread.join(2)
    assert order == [0, 1, 2, 3, 4]
    assert lock.acquire(timeout=0.01)


def _has_length(items: list[int], length: int) -> bool:
    return len(items) == length


def test_a_wait_that_runs_out_leaves_the_queue_and_fails() -> None:
    lock = FairLock()
    assert lock.acquire(timeout=1)
    began = time.monotonic()
    assert not lock.acquire(timeout=0.2)
    assert time.monotonic() - began >= 0.2
    lock.release()
    assert lock.acquire(timeout=0.01), "a waiter that gave up is not handed the lock"


def test_transactions_of_one_process_take_turns_and_a_stuck_one_fails_clearly(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (n INTEGER)"))
        holding = database.engine.connect()
        holding.execute(text("INSERT INTO t VALUES (1)"))  # its turn, until it returns
        done: list[int] = []

        def writer() -> None:
            with database.transaction() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
            done.append(2)

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.3)
        assert done == [], "waits for the transaction in progress"
        holding.commit()
        holding.close()  # back in the pool: the next in line goes at once
        thread.join(5)
        assert done == [2]

    finally:
        database.dispose()


def test_a_transaction_waiting_too_long_is_an_operational_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    serialise_writers(engine, wait_seconds=0.2)
    holder = engine.connect()
    holder.execute(text("SELECT 1"))
    try:
        with (
            pytest.raises(OperationalError, match=r"waited 0\.2 s for the SQLite database"),
            engine.connect() as connection,
        ):
            connection.execute(text("SELECT 1"))
    finally:
        holder.close()
        engine.dispose()
