"""Waking the engine for work just made due: at once when quiet, spaced in a burst."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from paging.engine.loop import Engine
from store.db import Database
from store.settings import Settings
from tests.waiting import wait_until

SPACING = 1.5  # seconds: long, so that "at once" and "spaced" differ beyond any CI delay


def _passes() -> float:
    return REGISTRY.get_sample_value("watchbill_engine_passes_total") or 0.0


@pytest.fixture
def engine(database: Database, settings: Settings) -> Iterator[Engine]:
    quiet = settings.model_copy(update={"engine_sweep_seconds": 600.0})  # no sweep meanwhile
    engine = Engine(database, quiet, wake_spacing=timedelta(seconds=SPACING))
    engine.start()
    wait_until(lambda: _passes() > 0, timeout=10)  # the first sweep, at start
    try:
        yield engine
    finally:
        engine.stop()


def test_work_made_due_after_a_quiet_spell_is_taken_at_once(engine: Engine) -> None:
    time.sleep(SPACING)
    before = _passes()
    woken = time.monotonic()
    engine.wake_soon()
    wait_until(lambda: _passes() > before, timeout=5)
    assert time.monotonic() - woken < SPACING / 2


def test_a_burst_of_commits_is_a_few_passes_a_second_not_one_each(engine: Engine) -> None:
    before = _passes()
    began = time.monotonic()
    for _ in range(80):  # a commit every 50 ms for 4 s
        engine.wake_soon()
        time.sleep(0.05)
    time.sleep(SPACING + 0.5)  # the last wake's pass
    elapsed = time.monotonic() - began
    passes = _passes() - before
    # One pass at once, then one per spacing at most (the old 40 ms coalescing made ~80).
    assert 2 <= passes <= elapsed / SPACING + 1, f"{passes} passes in {elapsed:.2f} s"
