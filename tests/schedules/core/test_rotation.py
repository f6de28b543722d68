from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.core.rotation import Grid
from schedules.core.timeline import on_call_user
from schedules.core.values import Rotation
from schedules.core.wallclock import to_wall, wall_kind
from tests.schedules.core.strategies import ZONES, instants_near, rotations
from tests.schedules.core.support import DAY, final, hours, local, single, summary

NY = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"


@pytest.mark.parametrize(
    ("zone", "spring_day", "fall_day"),
    [(NY, date(2024, 3, 10), date(2024, 11, 3)), (BERLIN, date(2024, 3, 31), date(2024, 10, 27))],
)
def test_daily_handoff_stays_at_nine_across_dst(
    zone: str, spring_day: date, fall_day: date
) -> None:
    sched = single(zone, local(zone, 2024, 1, 1, 9), 1, "days")
    for day, short_or_long in ((spring_day, 23), (fall_day, 25)):
        since = local(zone, day.year, day.month, day.day) - 3 * DAY
        shifts = final(sched, since, since + 6 * DAY)
        whole = shifts[1:-1]
        assert all(s.start.astimezone(ZoneInfo(zone)).hour == 9 for s in whole)
        assert [hours(s) for s in whole] == [24, 24, short_or_long, 24, 24]


def test_handoff_at_0230_on_spring_forward_day_happens_at_0300_edt() -> None:
    sched = single(NY, local(NY, 2024, 3, 1, 2, 30), 1, "days")
    shifts = final(sched, local(NY, 2024, 3, 9), local(NY, 2024, 3, 12))
    assert summary(shifts, NY) == [
        ("03-09 00:00", "03-09 02:30", "bob"),
        ("03-09 02:30", "03-10 03:00", "cat"),
        ("03-10 03:00", "03-11 02:30", "ann"),
        ("03-11 02:30", "03-12 00:00", "bob"),
    ]
    assert shifts[1].end == datetime.fromisoformat("2024-03-10T07:00:00+00:00")
    assert [hours(s) for s in shifts[1:3]] == [23.5, 23.5]


def test_hourly_rotation_across_spring_forward_drops_the_zero_length_shift() -> None:
    users = ("ann", "bob", "cat", "dan")
    sched = single(NY, local(NY, 2024, 3, 10, 0), 1, "hours", users)
    shifts = final(sched, local(NY, 2024, 3, 10, 0), local(NY, 2024, 3, 10, 5))
    # 02:00 does not exist: the 02:00 handoff and the 03:00 one are the same
    # instant, so cat's shift is empty and dropped; everybody else gets 1 h.
    assert summary(shifts, NY) == [
        ("03-10 00:00", "03-10 01:00", "ann"),
        ("03-10 01:00", "03-10 03:00", "bob"),
        ("03-10 03:00", "03-10 04:00", "dan"),
        ("03-10 04:00", "03-10 05:00", "ann"),
    ]
    assert all(hours(s) == 1 for s in shifts)


def test_hourly_rotation_across_fall_back_has_one_two_hour_shift() -> None:
    sched = single(NY, local(NY, 2024, 11, 3, 0), 1, "hours")
    shifts = final(sched, local(NY, 2024, 11, 3, 0), local(NY, 2024, 11, 3, 3))
    assert summary(shifts, NY) == [
        ("11-03 00:00", "11-03 01:00", "ann"),
        ("11-03 01:00", "11-03 02:00", "bob"),
        ("11-03 02:00", "11-03 03:00", "cat"),
    ]
    assert [hours(s) for s in shifts] == [1, 2, 1]


def test_twelve_hour_shifts_stay_at_nine_and_twenty_one_across_dst() -> None:
    sched = single(NY, local(NY, 2024, 3, 1, 9), 12, "hours")
    shifts = final(sched, local(NY, 2024, 3, 9, 9), local(NY, 2024, 3, 11, 9))
    assert [s[0][6:] for s in summary(shifts, NY)] == ["09:00", "21:00", "09:00", "21:00"]
    assert [hours(s) for s in shifts] == [12, 11, 12, 12]


def test_two_day_shifts() -> None:
    sched = single(BERLIN, local(BERLIN, 2024, 3, 25, 9), 2, "days")
    shifts = final(sched, local(BERLIN, 2024, 3, 25, 9), local(BERLIN, 2024, 4, 2, 9))
    assert summary(shifts, BERLIN) == [
        ("03-25 09:00", "03-27 09:00", "ann"),
        ("03-27 09:00", "03-29 09:00", "bob"),
        ("03-29 09:00", "03-31 09:00", "cat"),
        ("03-31 09:00", "04-02 09:00", "ann"),
    ]
    assert [hours(s) for s in shifts] == [48, 48, 47, 48]


def test_three_week_shifts() -> None:
    sched = single(NY, local(NY, 2024, 1, 1, 9), 3, "weeks")
    shifts = final(sched, local(NY, 2024, 1, 1, 9), local(NY, 2024, 4, 15, 9))
    assert summary(shifts, NY) == [
        ("01-01 09:00", "01-22 09:00", "ann"),
        ("01-22 09:00", "02-12 09:00", "bob"),
        ("02-12 09:00", "03-04 09:00", "cat"),
        ("03-04 09:00", "03-25 09:00", "ann"),
        ("03-25 09:00", "04-15 09:00", "bob"),
    ]
    assert hours(shifts[3]) == 21 * 24 - 1


def test_lord_howe_daily_handoff_keeps_local_time_with_half_hour_dst() -> None:
    sched = single(LORD_HOWE, local(LORD_HOWE, 2024, 1, 1, 9), 1, "days")
    spring = final(sched, local(LORD_HOWE, 2024, 10, 5, 9), local(LORD_HOWE, 2024, 10, 7, 9))
    fall = final(sched, local(LORD_HOWE, 2024, 4, 6, 9), local(LORD_HOWE, 2024, 4, 8, 9))
    assert [hours(s) for s in spring] == [23.5, 24]
    assert [hours(s) for s in fall] == [24.5, 24]


def test_lord_howe_handoff_in_the_half_hour_gap_happens_at_0230() -> None:
    sched = single(LORD_HOWE, local(LORD_HOWE, 2024, 9, 1, 2, 15), 1, "days")
    shifts = final(sched, local(LORD_HOWE, 2024, 10, 5, 12), local(LORD_HOWE, 2024, 10, 7, 12))
    assert [s[0] for s in summary(shifts, LORD_HOWE)] == [
        "10-05 12:00",
        "10-06 02:30",
        "10-07 02:15",
    ]


def test_lord_howe_hourly_rotation_has_a_half_hour_shift_on_spring_forward() -> None:
    sched = single(LORD_HOWE, local(LORD_HOWE, 2024, 10, 6, 0), 1, "hours")
    shifts = final(sched, local(LORD_HOWE, 2024, 10, 6, 0), local(LORD_HOWE, 2024, 10, 6, 4))
    assert [s[0][6:] for s in summary(shifts, LORD_HOWE)] == ["00:00", "01:00", "02:30", "03:00"]
    assert [hours(s) for s in shifts] == [1, 1, 0.5, 1]


def test_turn_order_is_computed_from_the_anchor_without_walking() -> None:
    users = ("ann", "bob", "cat", "dan", "eve")
    anchor = local(NY, 2014, 6, 2, 9)  # a Monday, ten years back
    sched = single(NY, anchor, 1, "weeks", users)
    at = local(NY, 2024, 6, 5, 12)
    weeks = (date(2024, 6, 3) - date(2014, 6, 2)).days // 7
    assert on_call_user(sched, at) == users[weeks % 5]


def test_slots_before_the_anchor_use_negative_turns() -> None:
    sched = single(NY, local(NY, 2024, 6, 10, 9), 1, "days")
    assert on_call_user(sched, local(NY, 2024, 6, 5, 12)) == "bob"  # slot -5
    assert on_call_user(sched, local(NY, 2024, 6, 10, 8, 59)) == "cat"  # slot -1


def test_start_index_shifts_the_turn_order() -> None:
    sched = single(NY, local(NY, 2024, 6, 10, 9), 1, "days", start_index=1)
    assert on_call_user(sched, local(NY, 2024, 6, 10, 9)) == "bob"


def test_layer_covers_only_its_start_to_end() -> None:
    sched = single(
        NY,
        local(NY, 2024, 6, 1, 9),
        1,
        "days",
        start=local(NY, 2024, 6, 3, 12),
        end=local(NY, 2024, 6, 5, 12),
    )
    tl_final = final(sched, local(NY, 2024, 6, 1), local(NY, 2024, 6, 8))
    assert summary(tl_final, NY) == [
        ("06-03 12:00", "06-04 09:00", "cat"),
        ("06-04 09:00", "06-05 09:00", "ann"),
        ("06-05 09:00", "06-05 12:00", "bob"),
    ]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_slot_lookup_brackets_the_instant_and_keeps_wall_clock(data: st.DataObject) -> None:
    zone = data.draw(st.sampled_from(ZONES))
    at = data.draw(instants_near(zone))
    rotation: Rotation = data.draw(rotations(zone, at))
    tz = ZoneInfo(zone)
    grid = Grid(rotation, tz)
    k = grid.slot_at(at)
    assert grid.handoff(k) <= at < grid.handoff(k + 1)
    assert grid.handoff(k - 1) <= grid.handoff(k)
    for j in (k - 1, k, k + 1, k + 2):
        expected = grid.anchor_wall + j * grid.step
        if wall_kind(expected, tz) != "nonexistent":
            assert to_wall(grid.handoff(j), tz) == expected
    assert next(grid.slots(at, at + timedelta(microseconds=1)))[0] == k
