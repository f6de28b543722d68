from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.core.wallclock import to_instant, to_wall, wall_kind
from tests.schedules.core.strategies import ZONES, transitions
from tests.schedules.core.support import utc

TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("zone", "wall", "expected"),
    [
        # Nonexistent wall times happen at the transition instant.
        ("America/New_York", datetime(2024, 3, 10, 2, 30), utc(2024, 3, 10, 7)),
        ("America/New_York", datetime(2024, 3, 10, 2, 0), utc(2024, 3, 10, 7)),
        ("Europe/Berlin", datetime(2024, 3, 31, 2, 59), utc(2024, 3, 31, 1)),
        ("Australia/Lord_Howe", datetime(2024, 10, 6, 2, 15), utc(2024, 10, 5, 15, 30)),
        ("Pacific/Chatham", datetime(2024, 9, 29, 3, 0), utc(2024, 9, 28, 14)),
        ("America/Sao_Paulo", datetime(2018, 11, 4, 0, 0), utc(2018, 11, 4, 3)),
        # Ambiguous wall times take their first occurrence.
        ("America/New_York", datetime(2024, 11, 3, 1, 30), utc(2024, 11, 3, 5, 30)),
        ("Europe/Berlin", datetime(2024, 10, 27, 2, 0), utc(2024, 10, 27, 0)),
        ("Australia/Lord_Howe", datetime(2024, 4, 7, 1, 45), utc(2024, 4, 6, 14, 45)),
        ("Pacific/Chatham", datetime(2024, 4, 7, 3, 0), utc(2024, 4, 6, 13, 15)),
        ("America/Sao_Paulo", datetime(2018, 2, 17, 23, 30), utc(2018, 2, 18, 1, 30)),
        # Plain wall times.
        ("Asia/Kolkata", datetime(2024, 3, 10, 9, 0), utc(2024, 3, 10, 3, 30)),
        ("UTC", datetime(2024, 3, 10, 2, 30), utc(2024, 3, 10, 2, 30)),
    ],
)
def test_wall_times_resolve_by_the_contract(zone: str, wall: datetime, expected: datetime) -> None:
    assert to_instant(wall, ZoneInfo(zone)) == expected


def test_fold_zero_would_be_wrong_for_nonexistent_times() -> None:
    tz = ZoneInfo("America/New_York")
    wall = datetime(2024, 3, 10, 2, 30)
    assert wall_kind(wall, tz) == "nonexistent"
    assert wall.replace(tzinfo=tz).astimezone(ZoneInfo("UTC")) == utc(2024, 3, 10, 7, 30)
    assert to_instant(wall, tz) == utc(2024, 3, 10, 7)


def test_wall_kinds() -> None:
    tz = ZoneInfo("Australia/Lord_Howe")
    assert wall_kind(datetime(2024, 10, 6, 2, 0), tz) == "nonexistent"
    assert wall_kind(datetime(2024, 10, 6, 2, 30), tz) == "unique"
    assert wall_kind(datetime(2024, 4, 7, 1, 30), tz) == "ambiguous"
    assert wall_kind(datetime(2024, 4, 7, 2, 0), tz) == "unique"


def test_to_instant_rejects_aware_input() -> None:
    with pytest.raises(ValueError):
        to_instant(utc(2024, 1, 1), ZoneInfo("UTC"))


@st.composite
def zone_and_wall(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    zone = draw(st.sampled_from(ZONES))
    changes = transitions(zone) or (utc(2024, 1, 1),)
    base = draw(st.sampled_from(changes)).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    wall = base + timedelta(minutes=draw(st.integers(-180, 180)), seconds=draw(st.integers(0, 59)))
    return ZoneInfo(zone), wall


@settings(max_examples=300, deadline=None)
@given(zone_and_wall())
def test_resolution_rules_hold_around_every_transition(case: tuple[ZoneInfo, datetime]) -> None:
    tz, wall = case
    instant = to_instant(wall, tz)
    kind = wall_kind(wall, tz)
    if kind == "nonexistent":
        # The first valid instant after the skipped wall time.
        assert to_wall(instant, tz) > wall
        assert to_wall(instant - TICK, tz) < wall
    else:
        assert to_wall(instant, tz) == wall
    if kind == "ambiguous":
        second = wall.replace(tzinfo=tz, fold=1).astimezone(instant.tzinfo)
        assert instant < second


@settings(max_examples=300, deadline=None)
@given(zone_and_wall(), st.integers(0, 240))
def test_resolution_is_monotone(case: tuple[ZoneInfo, datetime], minutes: int) -> None:
    tz, wall = case
    assert to_instant(wall, tz) <= to_instant(wall + timedelta(minutes=minutes), tz)
