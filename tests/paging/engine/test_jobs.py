"""The engine's jobs: a registered job runs when its earliest due time comes, in batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from paging.engine import registry
from paging.engine.jobs import Job
from paging.engine.loop import BUSY_RETRY, Engine
from store.base import UtcDateTime
from store.db import Database
from store.settings import Settings

DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Probe:
    """A job's work: records when it ran, and does ``results`` (then nothing) each time."""

    results: list[int] = field(default_factory=list)
    ran: list[datetime] = field(default_factory=list)

    def __call__(self, session: Session, now: datetime) -> int:
        self.ran.append(now)
        return self.results.pop(0) if self.results else 0


def _job(name: str, due: datetime, run: Callable[[Session, datetime], int], batch: int) -> Job:
    """A job whose earliest-due query answers ``due`` (a constant, as a due column would)."""
    return Job(
        name=name,
        earliest=(select(literal(due, UtcDateTime())).scalar_subquery(),),
        run=run,
        batch=batch,
    )


def _engine(database: Database, settings: Settings, clock: Clock, *jobs: Job) -> Engine:
    return Engine(database, settings, clock=clock, jobs=jobs)


def test_a_registered_jobs_earliest_due_time_is_when_the_engine_runs_it(
    database: Database, settings: Settings
) -> None:
    probe = Probe()
    clock = Clock(DUE - timedelta(minutes=5))
    engine = _engine(database, settings, clock, _job("probe", DUE, probe, batch=10))
    assert engine.next_due() == DUE
    assert engine.run_once() == DUE  # nothing else is due: the tick is scheduled for it
    assert probe.ran == []
    clock.now = DUE
    engine.run_once()
    assert probe.ran == [DUE]


def test_a_job_due_is_drained_in_batches_until_a_batch_is_short(
    database: Database, settings: Settings
) -> None:
    probe = Probe(results=[3, 3, 1])
    clock = Clock(DUE)
    engine = _engine(database, settings, clock, _job("probe", DUE, probe, batch=3))
    # Still due (the constant never moves) but nothing done: looked at again shortly.
    assert engine.run_once() == DUE + BUSY_RETRY
    assert len(probe.ran) == 4  # 3, 3, 1 (short: drained), then a round that did nothing


def test_jobs_run_in_the_order_they_are_registered(database: Database, settings: Settings) -> None:
    order: list[str] = []

    def step(name: str) -> Callable[[Session, datetime], int]:
        def run(session: Session, now: datetime) -> int:
            order.append(name)
            return 0

        return run

    clock = Clock(DUE)
    jobs = [_job(n, DUE - timedelta(seconds=i), step(n), 5) for i, n in enumerate("bca")]
    _engine(database, settings, clock, *jobs).run_once()
    assert order == ["b", "c", "a"]


def test_a_job_not_registered_is_never_run(database: Database, settings: Settings) -> None:
    probe = Probe()
    engine = _engine(database, settings, Clock(DUE))
    assert engine.run_once() is None and engine.next_due() is None  # an empty database
    assert probe.ran == []


def test_two_jobs_may_not_share_a_name(database: Database, settings: Settings) -> None:
    probe = Probe()
    with pytest.raises(ValueError, match="share a name"):
        _engine(database, settings, Clock(DUE), _job("x", DUE, probe, 1), _job("x", DUE, probe, 1))


def test_the_registry_names_each_timer_of_the_service_once() -> None:
    names = [job.name for job in registry.JOBS] + [registry.SENDS.name]
    assert names == [
        "escalations",
        "ack_timeouts",
        "auto_resolves",
        "heartbeats",
        "window_ends",
        "holds",
        "outbox",
    ]


@dataclass(frozen=True)
class Periodic:
    calls: list[datetime]
    fail: bool = False
    name: str = "probe"
    every: timedelta = timedelta(minutes=1)

    def __call__(self, database: Database, now: datetime, should_stop: Callable[[], bool]) -> int:
        self.calls.append(now)
        if self.fail:
            raise RuntimeError("the calendar server is down")
        return 1


def test_periodic_jobs_run_with_the_engines_clock_and_a_failure_is_logged_not_raised(
    database: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[datetime] = []
    jobs = [Periodic(calls, fail=True, name="broken"), Periodic(calls)]
    engine = Engine(database, settings, clock=Clock(DUE), periodic=jobs)
    with caplog.at_level(logging.ERROR, logger="watchbill.engine"):
        engine.run_periodic()
    assert calls == [DUE, DUE]  # the second ran although the first failed
    assert "periodic job broken failed" in caplog.text
