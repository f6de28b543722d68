"""Support hours and quiet hours: pure wall-clock rules, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation import hours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def office(zone: str = "Europe/Berlin") -> hours.SupportHours:
    return hours.SupportHours(zone, (hours.window(WEEKDAYS, "09:00", "17:00"),))


def test_inside_and_outside_office_hours() -> None:
    spec = office()
    assert hours.inside(spec, local(BERLIN, 2024, 5, 6, 9, 0))  # Monday 09:00
    assert hours.inside(spec, local(BERLIN, 2024, 5, 6, 16, 59))
    assert not hours.inside(spec, local(BERLIN, 2024, 5, 6, 17, 0))  # end is exclusive
    assert not hours.inside(spec, local(BERLIN, 2024, 5, 4, 12, 0))  # Saturday


def test_next_start_from_friday_evening_is_monday_morning() -> None:
    friday_evening = local(BERLIN, 2024, 5, 3, 18, 30)
    assert hours.next_start(office(), friday_evening) == local(BERLIN, 2024, 5, 6, 9, 0)
    assert hours.release_at(office(), friday_evening) == local(BERLIN, 2024, 5, 6, 9, 0)
    assert hours.release_at(office(), local(BERLIN, 2024, 5, 6, 10, 0)) is None


def test_support_hours_follow_the_wall_clock_across_dst() -> None:
    # Berlin springs forward on Sunday 31 March 2024: Friday 09:00 is 08:00 UTC, Monday 07:00.
    friday = local(BERLIN, 2024, 3, 29, 18, 0)
    monday = hours.next_start(office(), friday)
    assert monday == datetime(2024, 4, 1, 7, 0, tzinfo=UTC)
    # New York falls back on Sunday 3 November 2024.
    spec = office("America/New_York")
    assert hours.next_start(spec, local(NEW_YORK, 2024, 11, 1, 20, 0)) == datetime(
        2024, 11, 4, 14, 0, tzinfo=UTC
    )
    assert hours.inside(spec, datetime(2024, 11, 4, 14, 0, tzinfo=UTC))
    assert not hours.inside(spec, datetime(2024, 11, 4, 13, 59, tzinfo=UTC))


def test_window_starting_in_a_dst_gap_opens_at_the_transition() -> None:
    spec = hours.SupportHours("America/New_York", (hours.window(["sun"], "02:30", "05:00"),))
    start = hours.next_start(spec, datetime(2024, 3, 10, 0, 0, tzinfo=UTC))
    assert start == local(NEW_YORK, 2024, 3, 10, 3, 0)  # 02:30 does not exist that night
    assert hours.inside(spec, start)


def test_overnight_window_runs_past_midnight() -> None:
    spec = hours.SupportHours("UTC", (hours.window(["fri"], "22:00", "06:00"),))
    assert hours.inside(spec, datetime(2024, 5, 4, 5, 59, tzinfo=UTC))  # Saturday morning
    assert not hours.inside(spec, datetime(2024, 5, 4, 22, 30, tzinfo=UTC))  # Saturday night
    whole = hours.SupportHours("UTC", (hours.window(None, "00:00", "00:00"),))
    assert hours.inside(whole, datetime(2024, 5, 4, 12, tzinfo=UTC))


def test_lord_howe_half_hour_shift() -> None:
    spec = office("Australia/Lord_Howe")
    # Clocks go back 30 minutes on Sunday 7 April 2024 (+11:00 -> +10:30).
    before = hours.next_start(spec, datetime(2024, 4, 4, 12, 0, tzinfo=UTC))
    after = hours.next_start(spec, datetime(2024, 4, 7, 12, 0, tzinfo=UTC))
    assert before == datetime(2024, 4, 4, 22, 0, tzinfo=UTC)  # Friday 09:00 +11:00
    assert after == datetime(2024, 4, 7, 22, 30, tzinfo=UTC)  # Monday 09:00 +10:30


@pytest.mark.parametrize(("value"), ["9:00", "24:00", "12:60", "noon", "12-00", ""])
def test_bad_times_and_days_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        hours.window(None, value, "17:00")
    with pytest.raises(ValueError, match="unknown day"):
        hours.window(["someday"], "09:00", "17:00")


zones = st.sampled_from(
    ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30]))


@settings(max_examples=300, deadline=None)
@given(
    zone=zones,
    days=st.lists(st.sampled_from(hours.DAY_NAMES), min_size=1, unique=True),
    start=hhmm,
    end=hhmm,
    at=instants,
)
def test_next_start_is_inside_and_nothing_opens_before_it(
    zone: str, days: list[str], start: str, end: str, at: datetime
) -> None:
    spec = hours.SupportHours(zone, (hours.window(days, start, end),))
    nxt = hours.next_start(spec, at)
    assert nxt is not None and nxt >= at
    assert nxt - at <= timedelta(days=8)
    assert hours.inside(spec, nxt)
    if nxt > at:
        assert not hours.inside(spec, nxt - timedelta(seconds=1)) or hours.inside(spec, at)


# --- quiet hours ---------------------------------------------------------------------------


def test_quiet_hours_hold_until_morning_in_the_persons_zone() -> None:
    quiet = hours.quiet_hours("Europe/Berlin", "22:00", "07:00")
    assert quiet is not None
    night = local(BERLIN, 2024, 5, 6, 23, 30)
    assert hours.quiet_until(quiet, night) == local(BERLIN, 2024, 5, 7, 7, 0)
    early = local(BERLIN, 2024, 5, 7, 6, 0)
    assert hours.quiet_until(quiet, early) == local(BERLIN, 2024, 5, 7, 7, 0)
    assert hours.quiet_until(quiet, local(BERLIN, 2024, 5, 7, 7, 0)) is None
    assert hours.quiet_until(quiet, local(BERLIN, 2024, 5, 7, 12, 0)) is None


def test_quiet_send_at_keeps_rule_delays_after_quiet_hours() -> None:
    quiet = hours.quiet_hours("Europe/Berlin", "22:00", "07:00")
    night = local(BERLIN, 2024, 5, 6, 23, 30)
    morning = local(BERLIN, 2024, 5, 7, 7, 0)
    assert hours.quiet_send_at(quiet, night, 0) == morning
    assert hours.quiet_send_at(quiet, night, 300) == morning + timedelta(minutes=5)
    evening = local(BERLIN, 2024, 5, 6, 21, 55)  # a 10-minute rule would land at 22:05
    assert hours.quiet_send_at(quiet, evening, 600) == morning
    noon = local(BERLIN, 2024, 5, 6, 12, 0)
    assert hours.quiet_send_at(quiet, noon, 60) == noon + timedelta(minutes=1)
    assert hours.quiet_send_at(None, night, 0) == night


def test_quiet_hours_end_on_the_wall_clock_across_dst() -> None:
    quiet = hours.quiet_hours("Europe/Berlin", "22:00", "07:00")
    assert quiet is not None
    # The night of 30/31 March 2024 is an hour shorter: 07:00 CEST is 05:00 UTC.
    assert hours.quiet_until(quiet, datetime(2024, 3, 30, 23, 0, tzinfo=UTC)) == datetime(
        2024, 3, 31, 5, 0, tzinfo=UTC
    )
    # The night of 26/27 October 2024 is an hour longer: 07:00 CET is 06:00 UTC.
    assert hours.quiet_until(quiet, datetime(2024, 10, 26, 23, 0, tzinfo=UTC)) == datetime(
        2024, 10, 27, 6, 0, tzinfo=UTC
    )


def test_unset_or_empty_quiet_hours_are_none() -> None:
    assert hours.quiet_hours("UTC", None, None) is None
    assert hours.quiet_hours("UTC", "08:00", "08:00") is None


@settings(max_examples=300, deadline=None)
@given(zone=zones, start=hhmm, end=hhmm, at=instants, delay=st.integers(0, 7200))
def test_quiet_send_at_is_never_early_and_never_inside_quiet_hours(
    zone: str, start: str, end: str, at: datetime, delay: int
) -> None:
    quiet = hours.quiet_hours(zone, start, end)
    send_at = hours.quiet_send_at(quiet, at, delay)
    assert send_at >= at + timedelta(seconds=delay)
    if quiet is not None and hours.quiet_until(quiet, at) is None:
        assert hours.quiet_until(quiet, send_at) is None
    assert send_at - at <= timedelta(days=1, seconds=delay + 3600)
