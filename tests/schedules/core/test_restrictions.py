from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from schedules.core.restrictions import windows
from schedules.core.timeline import timeline
from schedules.core.values import Restriction, ScheduleError
from tests.schedules.core.support import (
    DAY,
    final,
    hours,
    layer,
    local,
    schedule,
    single,
    summary,
    version,
)

NY = "America/New_York"
BERLIN = "Europe/Berlin"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def test_overnight_restriction_20_to_08_on_weekdays() -> None:
    nights = Restriction.parse("20:00", "08:00", WEEKDAYS)
    sched = single(NY, local(NY, 2024, 6, 3, 8), 1, "weeks", ["ann"], restrictions=[nights])
    shifts = final(sched, local(NY, 2024, 6, 3), local(NY, 2024, 6, 10))  # Mon..Mon
    assert summary(shifts, NY) == [
        ("06-03 20:00", "06-04 08:00", "ann"),
        ("06-04 20:00", "06-05 08:00", "ann"),
        ("06-05 20:00", "06-06 08:00", "ann"),
        ("06-06 20:00", "06-07 08:00", "ann"),
        ("06-07 20:00", "06-08 08:00", "ann"),  # starts Friday, ends Saturday
    ]


def test_weekday_only_0800_0800_window_covers_monday_to_saturday_morning() -> None:
    full_days = Restriction.parse("08:00", "08:00", WEEKDAYS)
    sched = single(NY, local(NY, 2024, 6, 3, 8), 1, "days", restrictions=[full_days])
    tl = timeline(sched, local(NY, 2024, 6, 3), local(NY, 2024, 6, 10))
    assert summary(tl.final, NY) == [
        ("06-03 08:00", "06-04 08:00", "ann"),
        ("06-04 08:00", "06-05 08:00", "bob"),
        ("06-05 08:00", "06-06 08:00", "cat"),
        ("06-06 08:00", "06-07 08:00", "ann"),
        ("06-07 08:00", "06-08 08:00", "bob"),
    ]
    assert [(g.start, g.end) for g in tl.gaps] == [
        (local(NY, 2024, 6, 3), local(NY, 2024, 6, 3, 8)),
        (local(NY, 2024, 6, 8, 8), local(NY, 2024, 6, 10)),
    ]


def test_a_shift_is_cut_into_the_pieces_inside_the_windows() -> None:
    office = Restriction.parse("09:00", "17:00", WEEKDAYS)
    sched = single(NY, local(NY, 2024, 6, 3, 9), 1, "weeks", restrictions=[office])
    shifts = final(sched, local(NY, 2024, 6, 3), local(NY, 2024, 6, 10))
    assert [s[0] for s in summary(shifts, NY)] == [f"06-0{d} 09:00" for d in range(3, 8)]
    assert all(hours(s) == 8 and s.user_id == "ann" for s in shifts)


def test_several_windows_per_layer() -> None:
    split = [Restriction.parse("08:00", "12:00"), Restriction.parse("13:00", "17:00")]
    sched = single(NY, local(NY, 2024, 6, 3, 0), 1, "weeks", restrictions=split)
    shifts = final(sched, local(NY, 2024, 6, 3), local(NY, 2024, 6, 4))
    assert [(s[0][6:], s[1][6:]) for s in summary(shifts, NY)] == [
        ("08:00", "12:00"),
        ("13:00", "17:00"),
    ]


def test_window_edges_resolve_like_handoffs_across_dst() -> None:
    tz = ZoneInfo(NY)
    early = Restriction(time(2, 30), time(4, 0))
    spring = windows([early], tz, local(NY, 2024, 3, 10), local(NY, 2024, 3, 11))
    assert [(s.astimezone(tz).hour, hours_between(s, e)) for s, e in spring] == [(3, 1)]
    repeated = Restriction(time(1, 30), time(2, 30))
    fall = windows([repeated], tz, local(NY, 2024, 11, 3), local(NY, 2024, 11, 4))
    assert [hours_between(s, e) for s, e in fall] == [2]  # from the first 01:30
    nights = Restriction(time(20, 0), time(8, 0))
    across = windows([nights], tz, local(NY, 2024, 3, 9, 12), local(NY, 2024, 3, 10, 12))
    assert [hours_between(s, e) for s, e in across] == [11]


def test_weekly_follow_the_sun_with_three_eight_hour_layers() -> None:
    monday = local(BERLIN, 2024, 3, 25)  # the week of the spring-forward Sunday
    teams = {
        "apac": (["a1", "a2"], "00:00", "08:00"),
        "emea": (["e1", "e2"], "08:00", "16:00"),
        "amer": (["m1", "m2"], "16:00", "00:00"),
    }
    layers = [
        layer(
            name,
            version(
                monday - 7 * DAY,
                1,
                "weeks",
                users,
                restrictions=[Restriction.parse(start, end)],
            ),
        )
        for name, (users, start, end) in teams.items()
    ]
    sched = schedule(BERLIN, *layers)
    tl = timeline(sched, monday, monday + 14 * DAY)
    assert tl.gaps == ()
    tz = ZoneInfo(BERLIN)
    by_layer = {0: "a", 1: "e", 2: "m"}
    for shift in tl.final:
        assert shift.layer is not None and shift.user_id[0] == by_layer[shift.layer]
        assert shift.start.astimezone(tz).strftime("%M") == "00"
        assert shift.start.astimezone(tz).hour in (0, 8, 16)
    week1 = {s.user_id for s in tl.final if s.start < monday + 7 * DAY}
    week2 = {s.user_id for s in tl.final if s.start >= monday + 7 * DAY}
    assert week1 == {"a2", "e2", "m2"} and week2 == {"a1", "e1", "m1"}
    sunday_night = [s for s in tl.final if s.start.astimezone(tz).day == 31 and s.layer == 0]
    assert [hours(s) for s in sunday_night] == [7]  # 00:00-08:00 on the 23-hour day


def test_restriction_parse() -> None:
    r = Restriction.parse("20:00", "08:00", ["Mon", "tue"])
    assert (r.start, r.end, r.days, r.overnight) == (time(20), time(8), frozenset({0, 1}), True)
    assert Restriction.parse("08:00", "08:00").overnight
    with pytest.raises(ScheduleError):
        Restriction.parse("25:00", "08:00")
    with pytest.raises(ScheduleError):
        Restriction.parse("08:00", "09:00", ["funday"])
    with pytest.raises(ScheduleError):
        Restriction(time(8), time(9), frozenset())
