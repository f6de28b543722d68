"""Benchmark calendar feed rendering: ``python -m bench.bench_calendars`` (from the repo root).

Renders a one-year feed of 8-hour shifts (1,095 events, with descriptions,
URLs and alarms), reports median/p95 against the 100 ms target, and times the
ETag of that body.  Importing the rendered feed back is timed for information.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from calendars.ics_import import parse_ics
from calendars.render import (
    FeedEvent,
    FeedMeta,
    etag_for,
    render_feed,
    shift_fingerprint,
    shift_uid,
    summary_for,
)

RENDER_TARGET_MS = 100.0
ETAG_TARGET_MS = 5.0
PEOPLE = ["Alice Smith", "Bjørn Ødegård", "Chloé Dubois", "Dmitri Ivanov", "渡辺 健"]


def one_year_events(start: datetime, shift: timedelta = timedelta(hours=8)) -> list[FeedEvent]:
    events: list[FeedEvent] = []
    at = start
    index = 0
    while at < start + timedelta(days=365):
        person = PEOPLE[index % len(PEOPLE)]
        description = (
            f"Schedule: Platform primary, layer 1; escalation: Default.\n"
            f"Hand-off with {PEOPLE[(index + 1) % len(PEOPLE)]}, see the runbook."
        )
        events.append(
            FeedEvent(
                uid=shift_uid("watchbill.example.org", "sched-1", f"user-{index % 5}", at),
                start=at,
                end=at + shift,
                summary=summary_for(person, "Platform primary"),
                description=description,
                sequence=index % 3,
                last_modified=start,
                url=f"https://watchbill.example.org/schedules/1/shifts/{index}",
            )
        )
        at += shift
        index += 1
    return events


def measure(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and p95 wall time in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def report(label: str, median: float, p95: float, target: float | None) -> bool:
    verdict = "" if target is None else ("  OK" if p95 <= target else "  OVER TARGET")
    goal = "" if target is None else f" (target <= {target:.0f} ms)"
    print(f"{label:<44} median {median:7.2f} ms   p95 {p95:7.2f} ms{goal}{verdict}")
    return target is None or p95 <= target


def main() -> int:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    now = start + timedelta(days=1)
    meta = FeedMeta(
        name="Platform primary",
        time_zone="Europe/Berlin",
        url="https://watchbill.example.org/schedules/1",
        description="On-call shifts of the platform rotation",
    )
    events = one_year_events(start)
    body = render_feed(meta, events, now, alarm_minutes=15)
    print(f"one-year feed: {len(events)} events, {len(body) / 1024:.0f} KiB")

    ok = report(
        "render_feed (1 year, alarms)",
        *measure(lambda: render_feed(meta, events, now, alarm_minutes=15), 50),
        RENDER_TARGET_MS,
    )
    ok &= report("etag_for (same body)", *measure(lambda: etag_for(body), 200), ETAG_TARGET_MS)
    ok &= report(
        "render_feed + etag_for",
        *measure(lambda: etag_for(render_feed(meta, events, now, alarm_minutes=15)), 50),
        RENDER_TARGET_MS,
    )
    first = events[0]
    report(
        f"shift_uid + shift_fingerprint x{len(events)}",
        *measure(
            lambda: [
                (
                    shift_uid("n", "s", "u", e.start),
                    shift_fingerprint(
                        start=e.start, end=e.end, summary=e.summary, description=e.description
                    ),
                )
                for e in events
            ],
            20,
        ),
        None,
    )
    report(
        "parse_ics of that feed (information)",
        *measure(lambda: parse_ics(body, start, start + timedelta(days=366)), 5),
        None,
    )
    assert first.uid in body.decode()
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
