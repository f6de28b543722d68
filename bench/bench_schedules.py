"""Benchmarks of the pure schedule core.  Run: ``python -m bench.bench_schedules``.

Prints median and p95 (milliseconds) next to the targets.  The "yesterday vs.
ten years ago" pairs must cost the same: nothing walks from a rotation's anchor.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.core.timeline import next_shift, on_call, on_call_user, timeline
from schedules.core.values import Layer, LayerVersion, Override, Restriction, Rotation, SchedulePlan

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)
NOW = datetime(2025, 6, 15, 15, 0, tzinfo=UTC)  # fixed (11:00 EDT); never reads the clock
YEAR = timedelta(days=365)
WEEK = timedelta(days=7)
USERS = tuple(f"user{i}" for i in range(6))


def _samples(fns: list[Callable[[], object]], repeats: int) -> list[list[float]]:
    """Interleaved timings (ms) of ``fns``; GC paused while timing."""
    for fn in fns:
        fn()  # warm up caches (zoneinfo, imports)
    out: list[list[float]] = [[] for _ in fns]
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for fn, samples in zip(fns, out, strict=True):
                started = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        gc.enable()
    return out


def _stats(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _line(label: str, samples: list[float], target: str) -> float:
    median, p95 = _stats(samples)
    print(f"{label:<48} median {median:8.3f} ms   p95 {p95:8.3f} ms   target {target}")
    return median


def report(label: str, fn: Callable[[], object], repeats: int, target: str) -> float:
    return _line(label, _samples([fn], repeats)[0], target)


def compare(
    label: str, young: Callable[[], object], old: Callable[[], object], repeats: int
) -> None:
    """Same query on a rotation started yesterday and ten years ago, interleaved."""
    a, b = _samples([young, old], repeats)
    ma = _line(f"{label}, started yesterday", a, "same as ten years ago")
    mb = _line(f"{label}, started ten years ago", b, "same as yesterday")
    print(f"{'':<48} ratio ten-years/yesterday {mb / ma:.2f} (target ~1.00)")


def layer(
    name: str,
    handoff: datetime,
    length: int,
    unit: str,
    restrictions: tuple[Restriction, ...] = (),
    users: tuple[str, ...] = USERS,
) -> Layer:
    rotation = Rotation(handoff, length, unit)  # type: ignore[arg-type]
    start = handoff - timedelta(days=1)
    version = LayerVersion(None, start, None, users, rotation, restrictions)
    return Layer(name, name, (version,))


def daily_schedule(anchor: datetime) -> SchedulePlan:
    return SchedulePlan(ZONE, (layer("daily", anchor, 1, "days"),))


def five_layer_schedule(overrides: int) -> SchedulePlan:
    anchor = datetime(2019, 1, 7, 9, 0, tzinfo=TZ)
    layers = (
        layer("primary-weekly", anchor, 1, "weeks"),
        layer("business-hours", anchor, 1, "days", (Restriction.parse("09:00", "17:00"),)),
        layer("twelve-hour", anchor, 12, "hours"),
        layer(
            "weeknights",
            anchor,
            2,
            "days",
            (Restriction.parse("20:00", "08:00", ["mon", "tue", "wed", "thu", "fri"]),),
        ),
        layer(
            "weekends", anchor, 1, "weeks", (Restriction.parse("08:00", "08:00", ["sat", "sun"]),)
        ),
    )
    rng = random.Random(7)
    rows = []
    for n in range(overrides):
        start = NOW + timedelta(minutes=15 * rng.randrange(4 * 24 * 365))
        length = timedelta(minutes=15 * rng.randrange(4, 4 * 24 * 3))
        created = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(100_000))
        rows.append(Override(f"o{n}", rng.choice(USERS), start, start + length, created))
    return SchedulePlan(ZONE, layers, tuple(rows))


def main() -> None:
    print(f"schedule core benchmarks (zone {ZONE}, query instant {NOW.isoformat()})")
    yesterday = (NOW - timedelta(days=1)).astimezone(TZ).replace(hour=9, minute=0)
    decade = yesterday.replace(year=yesterday.year - 10)
    young, old = daily_schedule(yesterday), daily_schedule(decade)
    print("-- cost independence: daily rotation started yesterday vs. ten years ago")
    compare("on_call", lambda: on_call(young, NOW), lambda: on_call(old, NOW), 500)
    compare("on_call_user", lambda: on_call_user(young, NOW), lambda: on_call_user(old, NOW), 500)
    compare(
        "one-year timeline",
        lambda: timeline(young, NOW, NOW + YEAR),
        lambda: timeline(old, NOW, NOW + YEAR),
        40,
    )

    print("-- 5 layers (weekly, business hours, 12 h, weeknights, weekends) + 200 overrides")
    big = five_layer_schedule(200)
    report("one-year final timeline", lambda: timeline(big, NOW, NOW + YEAR), 30, "<= 50 ms")
    report(
        "one-year timeline, overflow mode",
        lambda: timeline(big, NOW, NOW + YEAR, overflow=True),
        30,
        "(info)",
    )
    report("one-week timeline", lambda: timeline(big, NOW, NOW + WEEK), 200, "<= 5 ms")
    report("on_call (whole shift extent)", lambda: on_call(big, NOW), 200, "(info)")
    report("on_call_user (point lookup)", lambda: on_call_user(big, NOW), 500, "(info)")
    report(
        "next_shift, 30-day horizon",
        lambda: next_shift(big, "user3", NOW, timedelta(days=30)),
        100,
        "(info)",
    )


if __name__ == "__main__":
    main()
