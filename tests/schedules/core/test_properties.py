"""Property tests over random schedules in random zones (mostly near DST changes)."""

from __future__ import annotations

import bisect
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.core.edits import add_version, change_users
from schedules.core.rotation import Grid
from schedules.core.timeline import coalesce_by_user, next_shift, on_call, on_call_user, timeline
from schedules.core.values import Gap, SchedulePlan, Shift, Timeline
from tests.schedules.core.strategies import USERS, Case, cases, edits

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TICK = timedelta(microseconds=1)
Key = tuple[str, int | None, str | None] | None


def key(segment: Shift | Gap | None) -> Key:
    if segment is None or isinstance(segment, Gap):
        return None
    return (segment.user_id, segment.layer, segment.override_id)


def window(case: Case) -> tuple[datetime, datetime]:
    return case.since.astimezone(UTC), case.until.astimezone(UTC)


def containing(segments: tuple[Shift | Gap, ...], at: datetime) -> Shift | Gap:
    i = bisect.bisect_right([s.start for s in segments], at) - 1
    assert i >= 0 and segments[i].start <= at < segments[i].end
    return segments[i]


def probes(case: Case, tl: Timeline, limit: int = 40) -> list[datetime]:
    """Every boundary in the window (and the instant before it), capped."""
    since, until = window(case)
    points = {since, until - TICK}
    for seg in tl.segments():
        points.update((seg.start, seg.end - TICK))
    for shifts in tl.layers:
        for s in shifts:
            points.update((s.start, s.end - TICK))
    for o in case.schedule.overrides:
        points.update((o.start, o.start - TICK, o.end, o.end - TICK))
    inside = sorted(p.astimezone(UTC) for p in points if since <= p < until)
    step = max(1, len(inside) // limit)
    return inside[::step]


def brute_force(schedule: SchedulePlan, tl: Timeline, at: datetime) -> Key:
    """Precedence straight from the definition, using the per-layer pieces."""
    newest_first = sorted(schedule.overrides, key=lambda o: (o.created_at, o.id), reverse=True)
    for o in newest_first:
        if o.start <= at < o.end:
            return (o.user_id, None, o.id)
    for i in reversed(range(len(tl.layers))):
        for s in tl.layers[i]:
            if s.start <= at < s.end:
                return (s.user_id, i, None)
    return None


@SETTINGS
@given(cases())
def test_final_and_gaps_cover_the_window_exactly_without_overlap(case: Case) -> None:
    since, until = window(case)
    tl = timeline(case.schedule, case.since, case.until)
    segments = tl.segments()
    assert segments[0].start == since and segments[-1].end == until
    for a, b in pairwise(segments):
        assert a.end == b.start
    for seg in segments:
        assert seg.start < seg.end
        assert seg.start.tzinfo is UTC and seg.end.tzinfo is UTC
    for a, b in pairwise(tl.final):
        assert a.end <= b.start
        assert a.end < b.start or key(a) != key(b), "equal attributions must be merged"
    for a, b in pairwise(tl.gaps):
        assert a.end < b.start
    for i, shifts in enumerate(tl.layers):
        for s in shifts:
            assert since <= s.start < s.end <= until and s.layer == i
        for a, b in pairwise(shifts):
            assert a.end < b.start or (a.end == b.start and a.user_id != b.user_id)


@SETTINGS
@given(cases())
def test_final_follows_override_and_layer_precedence(case: Case) -> None:
    tl = timeline(case.schedule, case.since, case.until)
    segments = tl.segments()
    for at in probes(case, tl, limit=200):
        assert key(containing(segments, at)) == brute_force(case.schedule, tl, at)


@SETTINGS
@given(cases(), st.lists(st.floats(0, 1, exclude_max=True), max_size=5))
def test_point_lookups_agree_with_the_timeline_at_boundaries_and_random_instants(
    case: Case, fractions: list[float]
) -> None:
    since, until = window(case)
    schedule = case.schedule
    tl = timeline(schedule, case.since, case.until)
    segments = tl.segments()
    randoms = [since + (until - since) * f for f in fractions]
    for at in probes(case, tl) + [t for t in randoms if t < until]:
        here = containing(segments, at)
        assert on_call_user(schedule, at) == (None if isinstance(here, Gap) else here.user_id)
        assert key(on_call(schedule, at, whole=False)) == key(here)
        found = on_call(schedule, at)
        assert key(found) == key(here)
        if found is not None:
            assert found.start <= here.start and found.end >= here.end
            assert found.start == here.start or here.start == since
            assert found.end == here.end or here.end == until


@SETTINGS
@given(cases())
def test_overflow_mode_returns_whole_pieces_that_clip_to_the_window(case: Case) -> None:
    since, until = window(case)
    clipped = timeline(case.schedule, case.since, case.until)
    whole = timeline(case.schedule, case.since, case.until, overflow=True)
    segments = whole.segments()
    for a, b in pairwise(segments):
        assert a.end == b.start
    recut = tuple(replace(s, start=max(s.start, since), end=min(s.end, until)) for s in segments)
    assert recut == clipped.segments()
    first, last = segments[0], segments[-1]
    if first.start < since:
        assert key(on_call(case.schedule, first.start)) == key(first)
        before = on_call(case.schedule, first.start - TICK)
        assert key(before) != key(first) or first.start <= since - timedelta(days=366)
    if last.end > until:
        assert key(on_call(case.schedule, last.end - TICK)) == key(last)
        assert key(on_call(case.schedule, last.end)) != key(last) or last.end >= until + timedelta(
            days=366
        )
    for shifts, whole_shifts in zip(clipped.layers, whole.layers, strict=True):
        recut_layer = tuple(
            replace(s, start=max(s.start, since), end=min(s.end, until)) for s in whole_shifts
        )
        assert recut_layer == shifts


@SETTINGS
@given(cases(max_layers=3), st.data())
def test_an_edit_never_changes_the_timeline_before_it_takes_effect(
    case: Case, data: st.DataObject
) -> None:
    schedule = case.schedule
    since, until = window(case)
    index = data.draw(st.integers(0, len(schedule.layers) - 1))
    layer = schedule.layers[index]
    current = layer.versions[-1]
    at = since + (until - since) * data.draw(st.floats(0, 1))
    if current.effective_from is not None:
        at = max(at, current.effective_from.astimezone(UTC) + TICK)
    new_layer = add_version(layer, data.draw(edits(current, at, schedule.time_zone)))
    layers = list(schedule.layers)
    layers[index] = new_layer
    edited = replace(schedule, layers=tuple(layers))
    assert timeline(edited, since, at) == timeline(schedule, since, at)


@SETTINGS
@given(cases(max_layers=2), st.data())
def test_keep_current_edit_keeps_the_on_call_person_until_their_shift_ends(
    case: Case, data: st.DataObject
) -> None:
    schedule = case.schedule
    since, until = window(case)
    layer = schedule.layers[-1]
    current = layer.versions[-1]
    at = since + (until - since) * data.draw(st.floats(0, 1))
    if current.effective_from is not None:
        at = max(at, current.effective_from.astimezone(UTC) + TICK)
    users = data.draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=5))
    version = change_users(current, users, at, schedule.time_zone, keep_current=True)
    edited = replace(schedule, layers=(*schedule.layers[:-1], add_version(layer, version)))
    running = current.start <= at and (current.end is None or at < current.end)
    if not running:
        assert version.holdover is None
        return
    # The end of the running shift, worked out independently of the edit.
    if current.holdover is not None and at < current.holdover.until:
        end = current.holdover.until.astimezone(UTC)
    else:
        grid = Grid(current.rotation, ZoneInfo(schedule.time_zone))
        end = grid.handoff(grid.slot_at(at) + 1)
    end = min(end, at + timedelta(days=300))
    assert timeline(edited, at, end).layers[-1] == timeline(schedule, at, end).layers[-1]
    later = timeline(edited, end, end + timedelta(days=3)).layers[-1]
    assert all(s.user_id in users for s in later)


@SETTINGS
@given(cases(max_layers=3), st.sampled_from(USERS))
def test_next_shift_is_the_first_shift_of_the_user_starting_in_the_horizon(
    case: Case, user: str
) -> None:
    since, until = window(case)
    found = next_shift(case.schedule, user, since, until - since)
    runs = coalesce_by_user(timeline(case.schedule, since, until).final)
    candidates = [s for s in runs if s.user_id == user]
    if (
        candidates
        and candidates[0].start == since
        and on_call_user(case.schedule, since - TICK) == user
    ):
        candidates.pop(0)
    if not candidates:
        assert found is None
        return
    expected = candidates[0]
    assert found is not None
    assert (found.start, found.user_id) == (expected.start, expected.user_id)
    assert (found.layer, found.override_id) == (expected.layer, expected.override_id)
    assert found.end == expected.end or (expected.end == until and found.end >= until)
