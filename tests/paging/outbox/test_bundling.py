from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paging.outbox.bundling import PendingPage, Plan, Sent, plan_delivery

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)
WINDOW = 30 * S
INTERVAL = 60 * S


def pages(n: int, start: int = 1) -> list[PendingPage]:
    return [PendingPage(id=f"p{i}", incident_number=100 + i) for i in range(start, start + n)]


def ids(group: tuple[PendingPage, ...]) -> list[str | int]:
    return [p.id for p in group]


def test_lone_page_on_quiet_contact_is_sent_immediately() -> None:
    plan = plan_delivery([], pages(1), NOW)
    assert plan == Plan(send_now=tuple(pages(1)), bundle=(), deferred=(), defer_until=None)


def test_pages_within_burst_allowance_all_go_individually() -> None:
    plan = plan_delivery([NOW - 40 * S], pages(3), NOW)
    assert ids(plan.send_now) == ["p1", "p2", "p3"]
    assert plan.messages_now == 3


def test_overflow_sends_first_pages_individually_and_bundles_the_rest_now() -> None:
    plan = plan_delivery([], pages(5), NOW)
    assert ids(plan.send_now) == ["p1", "p2"]
    assert ids(plan.bundle) == ["p3", "p4", "p5"]
    assert plan.deferred == ()
    assert plan.messages_now == 3


def test_last_slot_in_window_bundles_everything_pending() -> None:
    plan = plan_delivery([NOW - 5 * S, NOW - 4 * S], pages(4), NOW)
    assert plan.send_now == ()
    assert ids(plan.bundle) == ["p1", "p2", "p3", "p4"]


def test_exhausted_burst_defers_until_bundle_interval_after_last_send() -> None:
    recent = [NOW - 10 * S, NOW - 5 * S, NOW - 2 * S]
    plan = plan_delivery(recent, pages(2), NOW)
    assert ids(plan.deferred) == ["p1", "p2"]
    assert plan.defer_until == NOW - 2 * S + INTERVAL
    assert plan.messages_now == 0


def test_defer_waits_for_free_slot_when_interval_is_short() -> None:
    recent = [NOW - 10 * S, NOW - 5 * S, NOW - 2 * S]
    plan = plan_delivery(recent, pages(1), NOW, bundle_interval=5 * S)
    assert plan.defer_until == NOW - 10 * S + WINDOW


def test_sends_outside_window_do_not_count() -> None:
    recent = [NOW - WINDOW, NOW - 31 * S, NOW - 100 * S]
    assert ids(plan_delivery(recent, pages(3), NOW).send_now) == ["p1", "p2", "p3"]


def test_no_pending_pages_gives_empty_plan() -> None:
    assert plan_delivery([NOW], [], NOW) == Plan((), (), (), None)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError):
        plan_delivery([], [PendingPage("x", 1), PendingPage("x", 2)], NOW)


def test_invalid_burst_is_rejected() -> None:
    with pytest.raises(ValueError):
        plan_delivery([], pages(1), NOW, burst=0)


# --- properties ---------------------------------------------------------------

offsets = st.lists(st.integers(min_value=-120, max_value=10), max_size=8)


@given(
    recent=offsets,
    n=st.integers(min_value=0, max_value=12),
    burst=st.integers(min_value=1, max_value=5),
)
def test_every_pending_page_is_in_exactly_one_group(recent: list[int], n: int, burst: int) -> None:
    pending = pages(n)
    plan = plan_delivery([NOW + k * S for k in recent], pending, NOW, burst=burst)
    groups = ids(plan.send_now) + ids(plan.bundle) + ids(plan.deferred)
    assert sorted(groups, key=str) == sorted(ids(tuple(pending)), key=str)
    assert (plan.defer_until is not None) == bool(plan.deferred)
    assert len(plan.bundle) != 1
    if plan.defer_until is not None:
        assert plan.defer_until > NOW


@given(
    recent=st.lists(st.integers(min_value=-120, max_value=0), max_size=8),
    burst=st.integers(min_value=1, max_value=5),
)
def test_lone_page_is_immediate_unless_burst_is_used_up(recent: list[int], burst: int) -> None:
    times = [NOW + k * S for k in recent]
    in_window = sum(1 for t in times if t > NOW - WINDOW)
    plan = plan_delivery(times, pages(1), NOW, burst=burst)
    if in_window < burst:
        assert ids(plan.send_now) == ["p1"]
    else:
        assert plan.defer_until is not None
        assert plan.defer_until - NOW <= max(WINDOW, INTERVAL)


@given(
    arrivals=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=40),
    burst=st.integers(min_value=1, max_value=4),
    window_s=st.integers(min_value=1, max_value=60),
    interval_s=st.integers(min_value=0, max_value=90),
    calls=st.booleans(),
)
@settings(max_examples=200)
def test_simulated_storm_respects_burst_and_interval_and_delivers_everything(
    arrivals: list[int], burst: int, window_s: int, interval_s: int, calls: bool
) -> None:
    window, interval = window_s * S, interval_s * S
    arrive_at: dict[str | int, datetime] = {
        f"p{i}": NOW + t * S for i, t in enumerate(sorted(arrivals))
    }
    sent: list[Sent] = []
    delivered: dict[str | int, datetime] = {}
    individual = 0
    queue: list[PendingPage] = []
    wake: datetime | None = None
    upcoming = sorted(arrive_at.items(), key=lambda kv: kv[1])
    while upcoming or queue:
        candidates = [t for t in (upcoming[0][1] if upcoming else None, wake) if t is not None]
        now = min(candidates)
        while upcoming and upcoming[0][1] <= now:
            arrived, _ = upcoming.pop(0)
            queue.append(PendingPage(arrived, int(str(arrived)[1:])))
        plan = plan_delivery(sent, queue, now, burst, window, interval, one_at_a_time=calls)
        if any(p.held for p in queue):
            assert plan.messages_now <= 1, "the end of a deferral is one message"
        if calls:
            assert plan.messages_now <= 1, "one call at a time"
        for p in plan.send_now:
            sent.append(Sent(now, storm=plan.storm and not plan.bundle))
            delivered[p.id] = now
            individual += 1
        if plan.bundle:
            sent.append(Sent(now, storm=plan.storm))
            for p in plan.bundle:
                delivered[p.id] = now
        queue = [replace(p, held=p.held or plan.storm) for p in plan.deferred]
        wake = plan.defer_until
    assert set(delivered) == set(arrive_at)
    for page_id, at in delivered.items():
        assert at - arrive_at[page_id] <= max(window, interval)
    times = [m.at for m in sent]
    for t in times:
        assert sum(1 for u in times if t - window < u <= t) <= burst
    # After a storm message, the next message comes a bundle interval later at the earliest.
    for before, after in itertools.pairwise(sent):
        if before.storm:
            assert after.at - before.at >= interval
    assert individual <= len(arrive_at)


def test_the_end_of_a_deferral_is_one_message_then_one_per_interval() -> None:
    """Three singles, then a held page: at its release the window is empty again, yet the
    held pages go as one message, and the storm goes on at one message per interval."""
    first = [Sent(NOW - 62 * S), Sent(NOW - 61 * S), Sent(NOW - 60 * S)]
    held = [replace(p, held=True) for p in pages(3)]
    plan = plan_delivery(first, held, NOW)
    assert ids(plan.bundle) == ["p1", "p2", "p3"] and plan.send_now == () and plan.storm
    after = [*first, Sent(NOW, storm=True)]
    later = plan_delivery(after, pages(1, start=4), NOW + 5 * S)
    assert ids(later.deferred) == ["p4"] and later.defer_until == NOW + INTERVAL
    assert later.storm
    # A quiet bundle interval after the last storm message ends the storm.
    quiet = plan_delivery(after, pages(2, start=5), NOW + INTERVAL + S)
    assert ids(quiet.send_now) == ["p5", "p6"] and not quiet.storm


def test_calls_go_one_at_a_time_and_wait_for_the_call_in_progress() -> None:
    plan = plan_delivery([], pages(3), NOW, one_at_a_time=True)
    assert ids(plan.bundle) == ["p1", "p2", "p3"] and plan.send_now == ()
    assert not plan.storm  # within the burst: just one call at a time
    busy = plan_delivery([], pages(2), NOW, one_at_a_time=True, busy_until=NOW + 90 * S)
    assert ids(busy.deferred) == ["p1", "p2"] and busy.defer_until == NOW + 90 * S
    assert not busy.storm  # waiting for a line, not held by a storm
