"""The pure escalation step: positions, loops, due times, late steps (plain data, explicit now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from escalation.step import (
    CATCH_UP_LIMIT,
    START,
    Policy,
    Position,
    Target,
    Tier,
    clamp,
    due_after,
    next_position,
    step_base,
)

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def policy(*delays: int, repeat: int = 0) -> Policy:
    return Policy(
        tiers=tuple(Tier(d, (Target("user", f"u{i}"),)) for i, d in enumerate(delays)),
        repeat=repeat,
    )


def walk(p: Policy) -> list[Position]:
    """Every position a policy goes through, from the start until it is exhausted."""
    seen = [START]
    while (after := next_position(p, seen[-1])) is not None:
        seen.append(after)
    return seen


def test_a_new_incident_starts_at_the_first_tier_of_the_first_loop() -> None:
    assert Position(loop=0, tier=0) == START


def test_tiers_follow_each_other_then_escalation_is_exhausted() -> None:
    assert walk(policy(300, 600, 900)) == [Position(0, 0), Position(0, 1), Position(0, 2)]


def test_repeat_runs_the_tiers_again_from_the_first_for_each_loop() -> None:
    assert walk(policy(300, 600, repeat=2)) == [
        Position(0, 0),
        Position(0, 1),
        Position(1, 0),
        Position(1, 1),
        Position(2, 0),
        Position(2, 1),
    ]


def test_a_single_tier_without_repeat_has_no_next_step() -> None:
    assert next_position(policy(300), START) is None


def test_a_single_tier_with_repeat_notifies_it_again() -> None:
    assert walk(policy(300, repeat=1)) == [Position(0, 0), Position(1, 0)]


def test_positions_order_by_loop_then_tier() -> None:
    assert Position(0, 2) < Position(1, 0) < Position(1, 1)


def test_the_next_step_is_due_the_tiers_delay_after_it_was_notified() -> None:
    p = policy(300, 600)
    assert due_after(p, Position(0, 0), NOW) == NOW + timedelta(seconds=300)
    assert due_after(p, Position(3, 1), NOW) == NOW + timedelta(seconds=600)


def test_a_tier_with_no_delay_is_due_at_once() -> None:
    assert due_after(policy(0, 60), START, NOW) == NOW


def test_a_step_on_time_or_a_little_late_counts_from_when_it_was_due() -> None:
    due = NOW - timedelta(seconds=30)
    assert step_base(due, NOW) == due
    assert step_base(NOW, NOW) == NOW
    assert step_base(NOW - CATCH_UP_LIMIT, NOW) == NOW - CATCH_UP_LIMIT


def test_a_step_far_too_late_counts_from_now_so_tiers_do_not_fire_back_to_back() -> None:
    late = NOW - CATCH_UP_LIMIT - timedelta(seconds=1)
    assert step_base(late, NOW) == NOW


def test_a_step_with_no_due_time_or_run_early_counts_from_now() -> None:
    assert step_base(None, NOW) == NOW
    assert step_base(NOW + timedelta(seconds=5), NOW) == NOW


def test_clamp_keeps_a_valid_position() -> None:
    assert clamp(policy(60, 60, repeat=1), Position(1, 1)) == Position(1, 1)


def test_clamp_moves_a_position_into_a_policy_edited_to_fewer_tiers_and_loops() -> None:
    assert clamp(policy(60, repeat=0), Position(2, 3)) == Position(0, 0)
    assert clamp(policy(60, 60, 60, repeat=1), Position(4, 1)) == Position(1, 1)


@pytest.mark.parametrize(
    ("tiers", "repeat", "message"),
    [((), 0, "at least one tier"), ((Tier(60, ()),), -1, "repeat must be 0 or more")],
)
def test_a_policy_needs_a_tier_and_a_repeat_count_of_zero_or_more(
    tiers: tuple[Tier, ...], repeat: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Policy(tiers=tiers, repeat=repeat)


def test_the_number_of_notified_positions_is_tiers_times_loops() -> None:
    for tiers in range(1, 5):
        for repeat in range(4):
            assert len(walk(policy(*([60] * tiers), repeat=repeat))) == tiers * (repeat + 1)
