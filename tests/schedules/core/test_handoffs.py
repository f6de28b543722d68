"""A layer's start and handoffs in local words, and back (the editor's translation)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.core import handoffs
from schedules.core.timeline import on_call_user
from schedules.core.values import Layer, LayerVersion, Rotation, SchedulePlan

BERLIN = ZoneInfo("Europe/Berlin")


def _version(start: datetime, rotation: Rotation, users: tuple[str, ...]) -> LayerVersion:
    return LayerVersion(None, start, None, users, rotation)


def _on_call(version: LayerVersion, at: datetime) -> str | None:
    schedule = SchedulePlan("Europe/Berlin", (Layer("l", "L", (version,)),))
    return on_call_user(schedule, at)


def test_weekly_anchor_is_the_handoff_before_the_start_so_the_first_person_holds_it() -> None:
    local = handoffs.LocalLayer(
        start=datetime(2025, 12, 10, 10, 0),  # a Wednesday
        shift_length=1,
        shift_unit="weeks",
        handoff_time=time(9, 0),
        handoff_weekday=0,
    )
    start, rotation = handoffs.resolve(local, BERLIN)
    assert rotation.handoff == datetime(2025, 12, 8, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
    assert start == datetime(2025, 12, 10, 9, 0, tzinfo=UTC)
    version = _version(start, rotation, ("ada", "bob"))
    assert _on_call(version, start) == "ada"
    assert _on_call(version, datetime(2025, 12, 15, 8, 0, tzinfo=UTC)) == "bob"


def test_a_start_before_the_handoff_time_goes_back_one_step() -> None:
    local = handoffs.LocalLayer(datetime(2025, 12, 10, 7, 0), 1, "days", time(9, 0))
    _, rotation = handoffs.resolve(local, BERLIN)
    assert rotation.handoff == datetime(2025, 12, 9, 8, 0, tzinfo=UTC)


def test_hourly_shifts_take_the_slot_containing_the_start() -> None:
    local = handoffs.LocalLayer(datetime(2025, 12, 10, 23, 0), 8, "hours", time(6, 0))
    _, rotation = handoffs.resolve(local, BERLIN)
    assert rotation.handoff == datetime(2025, 12, 10, 21, 0, tzinfo=UTC)  # 22:00 local


def test_handoffs_stay_on_the_wall_clock_across_a_dst_change() -> None:
    local = handoffs.LocalLayer(datetime(2025, 3, 27, 12, 0), 1, "days", time(9, 0))
    start, rotation = handoffs.resolve(local, BERLIN)
    version = _version(start, rotation, ("ada", "bob"))
    after = datetime(2025, 3, 31, 7, 30, tzinfo=UTC)  # 09:30 CEST, four handoffs later
    assert _on_call(version, after) == "ada"
    assert _on_call(version, after - timedelta(minutes=40)) == "bob"  # 08:50 CEST


def test_describing_a_version_and_resolving_it_unchanged_keeps_its_exact_instants() -> None:
    odd = datetime(2023, 1, 4, 13, 17, 42, tzinfo=UTC)  # made by the API, not the editor
    rotation = Rotation(datetime(2022, 11, 2, 6, 30, tzinfo=UTC), 2, "weeks")
    version = _version(odd, rotation, ("ada", "bob"))
    local = handoffs.describe(version, BERLIN)
    assert local.handoff_weekday == 2 and local.handoff_time == time(7, 30)
    assert handoffs.resolve(local, BERLIN, version) == (odd.replace(second=42), rotation)


def test_changing_only_the_shift_length_makes_a_new_grid_from_the_start() -> None:
    rotation = Rotation(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), 1, "weeks")
    version = _version(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), rotation, ("ada", "bob"))
    local = handoffs.describe(version, BERLIN)
    changed = handoffs.LocalLayer(local.start, 2, "weeks", local.handoff_time, 0)
    start, new = handoffs.resolve(changed, BERLIN, version)
    assert start == version.start
    assert new == Rotation(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), 2, "weeks")
