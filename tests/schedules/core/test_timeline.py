from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schedules.core.timeline import (
    coalesce_by_user,
    next_shift,
    on_call,
    on_call_user,
    timeline,
)
from schedules.core.values import (
    Gap,
    Override,
    Restriction,
    ScheduleError,
    SchedulePlan,
    Shift,
    WindowTooLargeError,
)
from tests.schedules.core.support import DAY, final, layer, local, schedule, summary, version

NY = "America/New_York"
MONDAY = local(NY, 2024, 6, 3)
TICK = timedelta(microseconds=1)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Local NY time in the week of Monday 2024-06-03 (day 3 = Monday)."""
    return local(NY, 2024, 6, day, hour, minute)


def primary() -> SchedulePlan:
    """Daily 09:00 handoffs ann -> bob -> cat; ann from Monday 09:00."""
    return schedule(NY, layer("primary", version(at(3, 9), 1, "days")))


def with_overrides(*overrides: Override, base: SchedulePlan | None = None) -> SchedulePlan:
    base = base or primary()
    return SchedulePlan(base.time_zone, base.layers, overrides)


def override(oid: str, user: str, start: datetime, end: datetime, created: int = 0) -> Override:
    return Override(oid, user, start, end, datetime(2024, 1, 1, tzinfo=UTC) + created * DAY)


def two_layers() -> SchedulePlan:
    office = Restriction.parse("09:00", "17:00", ["mon", "tue", "wed", "thu", "fri"])
    business = version(at(3, 9), 1, "days", ["dan", "eve"], restrictions=[office])
    return schedule(NY, layer("primary", version(at(3, 9), 1, "days")), layer("business", business))


def test_later_layer_wins_where_it_has_someone_and_earlier_layers_show_through() -> None:
    shifts = final(two_layers(), at(3), at(4))
    assert summary(shifts, NY) == [
        ("06-03 00:00", "06-03 09:00", "cat"),
        ("06-03 09:00", "06-03 17:00", "dan"),
        ("06-03 17:00", "06-04 00:00", "ann"),
    ]
    assert [s.layer for s in shifts] == [0, 1, 0]


def test_nobody_on_call_is_an_explicit_gap() -> None:
    office = Restriction.parse("09:00", "17:00")
    sched = schedule(NY, layer("office", version(at(3, 9), 1, "days", restrictions=[office])))
    tl = timeline(sched, at(3), at(4))
    assert [(g.start, g.end) for g in tl.gaps] == [(at(3), at(3, 9)), (at(3, 17), at(4))]
    assert [type(s) for s in tl.segments()] == [Gap, Shift, Gap]


def test_an_empty_schedule_is_one_gap_and_an_empty_window_is_empty() -> None:
    tl = timeline(SchedulePlan(NY), at(3), at(4))
    assert tl.final == () and tl.gaps == (Gap(at(3), at(4)),) and tl.layers == ()
    assert timeline(primary(), at(3), at(3)).segments() == ()


def test_override_inside_a_shift_splits_it() -> None:
    sched = with_overrides(override("o1", "eve", at(3, 12), at(3, 13)))
    shifts = final(sched, at(3, 9), at(4, 9))
    assert summary(shifts, NY) == [
        ("06-03 09:00", "06-03 12:00", "ann"),
        ("06-03 12:00", "06-03 13:00", "eve"),
        ("06-03 13:00", "06-04 09:00", "ann"),
    ]
    assert [(s.layer, s.override_id) for s in shifts] == [(0, None), (None, "o1"), (0, None)]


def test_override_across_a_handoff() -> None:
    sched = with_overrides(override("o1", "dan", at(3, 20), at(4, 10)))
    assert summary(final(sched, at(3, 9), at(5, 9)), NY) == [
        ("06-03 09:00", "06-03 20:00", "ann"),
        ("06-03 20:00", "06-04 10:00", "dan"),
        ("06-04 10:00", "06-05 09:00", "bob"),
    ]


def test_override_over_layer_boundaries_covers_where_no_layer_does() -> None:
    ending = schedule(NY, layer("primary", version(at(3, 9), 1, "days", end=at(5, 9))))
    sched = with_overrides(override("o1", "dan", at(5, 6), at(5, 12)), base=ending)
    tl = timeline(sched, at(4, 9), at(6))
    assert summary(tl.final, NY) == [
        ("06-04 09:00", "06-05 06:00", "bob"),
        ("06-05 06:00", "06-05 12:00", "dan"),
    ]
    assert tl.gaps == (Gap(at(5, 12), at(6)),)


def test_newest_override_wins_then_highest_id() -> None:
    sched = with_overrides(
        override("o1", "dan", at(3, 10), at(3, 14), created=1),
        override("o2", "eve", at(3, 12), at(3, 13), created=2),
        override("o3", "bob", at(3, 12, 30), at(3, 12, 45), created=2),
        override("o0", "cat", at(3, 10), at(3, 14), created=0),  # oldest: hidden
    )
    shifts = final(sched, at(3, 10), at(3, 14))
    assert [(s[0][6:], s[2]) for s in summary(shifts, NY)] == [
        ("10:00", "dan"),
        ("12:00", "eve"),
        ("12:30", "bob"),
        ("12:45", "eve"),
        ("13:00", "dan"),
    ]


def test_final_merges_equal_attributions_and_coalesce_merges_by_user() -> None:
    solo = schedule(NY, layer("solo", version(at(3, 9), 1, "days", ["ann"])))
    assert summary(final(solo, at(3), at(6)), NY) == [("06-03 00:00", "06-06 00:00", "ann")]
    sched = with_overrides(override("o1", "ann", at(3, 6), at(3, 9)))
    shifts = final(sched, at(3, 6), at(4, 9))
    assert [(s.user_id, s.override_id) for s in shifts] == [("ann", "o1"), ("ann", None)]
    merged = coalesce_by_user(shifts)
    assert merged == (Shift(at(3, 6), at(4, 9), "ann", None, "o1"),)


def test_overflow_mode_returns_whole_shifts_and_gaps() -> None:
    tl = timeline(primary(), at(3, 12), at(3, 13), overflow=True)
    assert summary(tl.final, NY) == [("06-03 09:00", "06-04 09:00", "ann")]
    assert tl.layers[0] == tl.final
    office = Restriction.parse("09:00", "17:00")
    sched = schedule(NY, layer("office", version(at(3, 9), 1, "days", restrictions=[office])))
    tl = timeline(sched, at(3, 20), at(3, 21), overflow=True)
    assert tl.final == () and tl.gaps == (Gap(at(3, 17), at(4, 9)),)


def test_outputs_are_utc() -> None:
    for shift in final(primary(), at(3), at(5)):
        assert shift.start.tzinfo is UTC and shift.end.tzinfo is UTC


def test_on_call_agrees_with_the_timeline_at_boundaries() -> None:
    sched = with_overrides(override("o1", "eve", at(3, 12), at(3, 13)))
    assert on_call(sched, at(3, 12)) == Shift(at(3, 12), at(3, 13), "eve", None, "o1")
    assert on_call(sched, at(3, 12) - TICK) == Shift(at(3, 9), at(3, 12), "ann", 0, None)
    assert on_call(sched, at(3, 13)) == Shift(at(3, 13), at(4, 9), "ann", 0, None)
    assert on_call(sched, at(4, 9)) == Shift(at(4, 9), at(5, 9), "bob", 0, None)
    assert on_call_user(sched, at(4, 9) - TICK) == "ann"
    office = Restriction.parse("09:00", "17:00")
    gappy = schedule(NY, layer("office", version(at(3, 9), 1, "days", restrictions=[office])))
    assert on_call(gappy, at(3, 17)) is None and on_call_user(gappy, at(3, 17)) is None


def test_next_shift_skips_the_running_shift_and_returns_whole_shifts() -> None:
    sched = primary()
    found = next_shift(sched, "bob", at(3, 12), timedelta(days=7))
    assert found == Shift(at(4, 9), at(5, 9), "bob", 0, None)
    found = next_shift(sched, "ann", at(3, 12), timedelta(days=7))
    assert found == Shift(at(6, 9), at(7, 9), "ann", 0, None)
    assert next_shift(sched, "ann", at(3, 9), timedelta(days=7)) == Shift(
        at(3, 9), at(4, 9), "ann", 0, None
    )
    assert next_shift(sched, "bob", at(3, 12), timedelta(hours=20)) is None
    whole = next_shift(sched, "bob", at(3, 12), timedelta(hours=22))
    assert whole is not None and whole.end == at(5, 9)


def test_next_shift_treats_touching_pieces_of_a_person_as_one_shift() -> None:
    sched = with_overrides(override("o1", "ann", at(3, 6), at(3, 9)))
    found = next_shift(sched, "ann", at(3, 7), timedelta(days=7))
    assert found is not None and found.start == at(6, 9)
    found = next_shift(sched, "ann", at(3, 5), timedelta(days=7))
    assert found == Shift(at(3, 6), at(4, 9), "ann", None, "o1")


def test_invalid_windows_are_rejected() -> None:
    with pytest.raises(WindowTooLargeError):
        timeline(primary(), at(3), at(3) + timedelta(days=400))
    with pytest.raises(ScheduleError):
        timeline(primary(), at(4), at(3))
    with pytest.raises(ScheduleError):
        timeline(primary(), datetime(2024, 6, 3), at(4))  # naive
    with pytest.raises(ScheduleError):
        on_call(primary(), datetime(2024, 6, 3))
    with pytest.raises(WindowTooLargeError):
        next_shift(primary(), "ann", at(3), timedelta(days=400))
    assert issubclass(WindowTooLargeError, ScheduleError)
    assert issubclass(ScheduleError, ValueError)


def test_a_full_year_is_accepted() -> None:
    tl = timeline(primary(), local(NY, 2024, 1, 1), local(NY, 2025, 1, 1))
    # 00:00-09:00 on Jan 1, then one shift per day of the leap year (the last clipped).
    assert len(tl.final) == 1 + 366
