from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from schedules.core.edits import (
    add_version,
    change_users,
    end_layer,
    revise,
    superseded,
    version_at,
    with_layer_version,
)
from schedules.core.timeline import on_call_user, timeline
from schedules.core.values import Holdover, Layer, Rotation, ScheduleError, SchedulePlan
from tests.schedules.core.support import final, layer, local, schedule, summary, version

NY = "America/New_York"


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Local NY time in the week of Monday 2024-06-03 (day 3 = Monday)."""
    return local(NY, 2024, 6, day, hour, minute)


def primary() -> SchedulePlan:
    """Daily 09:00 handoffs ann (Mon) -> bob (Tue) -> cat (Wed) -> ann ..."""
    return schedule(NY, layer("primary", version(at(3, 9), 1, "days")))


def edit(sched: SchedulePlan, users: list[str], when: datetime, keep_current: bool) -> SchedulePlan:
    return with_layer_version(
        sched,
        "primary",
        lambda v: change_users(v, users, when, NY, keep_current=keep_current),
        when,
    )


def week(sched: SchedulePlan) -> list[tuple[str, str, str]]:
    return summary(final(sched, at(3, 9), at(9, 9)), NY)


def test_adding_a_user_mid_shift_does_not_move_the_current_on_call_person() -> None:
    edited = edit(primary(), ["dan", "ann", "bob", "cat"], at(4, 15), keep_current=True)
    assert week(edited) == [
        ("06-03 09:00", "06-04 09:00", "ann"),
        ("06-04 09:00", "06-05 09:00", "bob"),  # bob stays on call through the edit
        ("06-05 09:00", "06-06 09:00", "cat"),
        ("06-06 09:00", "06-07 09:00", "dan"),
        ("06-07 09:00", "06-08 09:00", "ann"),
        ("06-08 09:00", "06-09 09:00", "bob"),
    ]


def test_adding_a_user_without_keep_current_applies_the_new_grid_at_once() -> None:
    edited = edit(primary(), ["dan", "ann", "bob", "cat"], at(4, 15), keep_current=False)
    assert week(edited)[:3] == [
        ("06-03 09:00", "06-04 09:00", "ann"),
        ("06-04 09:00", "06-04 15:00", "bob"),
        ("06-04 15:00", "06-05 09:00", "ann"),  # slot 1 of the new list
    ]


def test_removing_the_current_on_call_person_keeps_them_until_their_shift_ends() -> None:
    edited = edit(primary(), ["ann", "cat"], at(4, 15), keep_current=True)
    assert week(edited) == [
        ("06-03 09:00", "06-04 09:00", "ann"),
        ("06-04 09:00", "06-05 09:00", "bob"),
        ("06-05 09:00", "06-06 09:00", "cat"),  # bob's successor in the old order
        ("06-06 09:00", "06-07 09:00", "ann"),
        ("06-07 09:00", "06-08 09:00", "cat"),
        ("06-08 09:00", "06-09 09:00", "ann"),
    ]


def test_removing_the_current_on_call_person_immediately() -> None:
    edited = edit(primary(), ["ann", "cat"], at(4, 15), keep_current=False)
    assert on_call_user(edited, at(4, 15)) == "cat"
    assert on_call_user(edited, at(4, 14, 59)) == "bob"


def test_reordering_keeps_the_current_person_and_continues_in_the_new_order() -> None:
    edited = edit(primary(), ["cat", "bob", "ann"], at(4, 15), keep_current=True)
    assert [user for _, _, user in week(edited)] == ["ann", "bob", "ann", "cat", "bob", "ann"]


def test_an_edit_never_changes_the_timeline_before_its_effective_instant() -> None:
    original = primary()
    for keep_current in (True, False):
        edited = edit(original, ["eve"], at(5, 3), keep_current)
        assert timeline(edited, at(1), at(5, 3)) == timeline(original, at(1), at(5, 3))
        assert timeline(edited, at(5, 3), at(8)) != timeline(original, at(5, 3), at(8))


def test_editing_during_a_holdover_keeps_the_holdover() -> None:
    first = edit(primary(), ["ann", "cat"], at(4, 15), keep_current=True)
    second = edit(first, ["ann", "cat", "dan"], at(4, 18), keep_current=True)
    current = second.layers[0].versions[-1]
    assert current.holdover == Holdover("bob", at(5, 9))
    assert [user for _, _, user in week(second)] == ["ann", "bob", "cat", "dan", "ann", "cat"]


def test_keep_current_has_no_effect_when_the_layer_is_not_running() -> None:
    future = version(at(3, 9), 1, "days", start=at(10))
    edited = change_users(future, ["dan"], at(4, 15), NY, keep_current=True)
    assert edited.holdover is None and edited.start_index == future.start_index


def test_ending_a_layer_lets_earlier_layers_show_through_from_then_on() -> None:
    backup = layer("backup", version(at(3, 9), 1, "weeks", ["zed"]))
    top = layer("primary", version(at(3, 9), 1, "days"))
    sched = schedule(NY, backup, top)
    edited = with_layer_version(sched, "primary", lambda v: end_layer(v, at(4, 15)), at(4, 15))
    assert summary(final(edited, at(4, 9), at(5, 9)), NY) == [
        ("06-04 09:00", "06-04 15:00", "bob"),
        ("06-04 15:00", "06-05 09:00", "zed"),
    ]
    assert end_layer(version(at(3, 9), 1, "days", start=at(10)), at(4)).end == at(10)
    ended = version(at(3, 9), 1, "days", end=at(5))
    assert end_layer(ended, at(6)).end == at(5)


def test_revise_applies_a_new_rotation_as_is_from_the_edit() -> None:
    weekly = Rotation(at(5, 12), 1, "weeks")
    edited = with_layer_version(
        primary(), "primary", lambda v: revise(v, at(5, 12), rotation=weekly), at(5, 12)
    )
    assert summary(final(edited, at(5, 9), at(13)), NY) == [
        ("06-05 09:00", "06-05 12:00", "cat"),
        ("06-05 12:00", "06-12 12:00", "ann"),
        ("06-12 12:00", "06-13 00:00", "bob"),
    ]


def test_add_version_supersedes_versions_not_yet_in_force() -> None:
    base = primary().layers[0]
    later = change_users(base.versions[0], ["dan"], at(8), NY, keep_current=False)
    pending = add_version(base, later)
    sooner = change_users(base.versions[0], ["eve"], at(6), NY, keep_current=False)
    result = add_version(pending, sooner)
    assert [v.users for v in result.versions] == [("ann", "bob", "cat"), ("eve",)]
    assert version_at(result, at(9)) == sooner
    assert version_at(replace(result, versions=(sooner,)), at(5)) is None


def test_invalid_edits_are_rejected() -> None:
    current = replace(version(at(3, 9), 1, "days"), effective_from=at(4))
    with pytest.raises(ScheduleError):
        change_users(current, ["dan"], at(3), NY)  # before the version took effect
    with pytest.raises(ScheduleError):
        change_users(current, [], at(5), NY)
    with pytest.raises(ScheduleError):
        change_users(current, ["dan"], datetime(2024, 6, 5), NY)  # naive
    with pytest.raises(ScheduleError):
        add_version(Layer("l", "L", (current,)), replace(current, effective_from=None))
    with pytest.raises(ScheduleError):
        with_layer_version(primary(), "nope", lambda v: v, at(5))


def test_superseded_names_only_versions_not_yet_in_force_at_the_edit() -> None:
    # The one rule both the pure layers (add_version) and the layer rows follow.
    assert superseded(at(9), at(9))
    assert superseded(at(10), at(9))
    assert not superseded(at(8), at(9))
    assert not superseded(None, at(9))
