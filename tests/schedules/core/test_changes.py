"""What an edit changes: who is on call before and after, stretch by stretch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schedules.core.changes import ShiftChange, changed, compare
from schedules.core.values import Shift

T = datetime(2025, 12, 8, tzinfo=UTC)
H = timedelta(hours=1)


def _shift(start: int, end: int, user: str, layer: int | None = 0) -> Shift:
    return Shift(T + start * H, T + end * H, user, layer)


def test_the_same_people_from_other_sources_is_no_change() -> None:
    before = [_shift(0, 10, "ada", 0), _shift(10, 20, "bob", 0)]
    after = [_shift(0, 5, "ada", 0), _shift(5, 10, "ada", 1), _shift(10, 20, "bob", None)]
    assert compare(before, after, T, T + 20 * H) == ()


def test_changes_name_who_was_and_who_will_be_on_call_including_nobody() -> None:
    before = [_shift(0, 10, "ada"), _shift(10, 20, "bob")]
    after = [_shift(0, 4, "ada"), _shift(4, 8, "cy"), _shift(8, 12, "cy"), _shift(14, 20, "bob")]
    found = compare(before, after, T, T + 20 * H)
    assert found == (
        ShiftChange(T + 4 * H, T + 10 * H, "ada", "cy"),
        ShiftChange(T + 10 * H, T + 12 * H, "bob", "cy"),
        ShiftChange(T + 12 * H, T + 14 * H, "bob", None),
    )
    assert changed(_shift(8, 12, "cy"), found)
    assert not changed(_shift(0, 4, "ada"), found)


def test_only_the_window_counts() -> None:
    before = [_shift(0, 30, "ada")]
    after = [_shift(0, 30, "bob")]
    assert compare(before, after, T + 2 * H, T + 3 * H) == (
        ShiftChange(T + 2 * H, T + 3 * H, "ada", "bob"),
    )
    assert compare(before, after, T, T) == ()
