"""Hypothesis strategies: random schedules in random zones, near DST changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from schedules.core.edits import add_version, change_users, end_layer, revise
from schedules.core.values import (
    Layer,
    LayerVersion,
    Override,
    Restriction,
    Rotation,
    SchedulePlan,
    ShiftUnit,
)

ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "UTC",
)
USERS = ("ann", "bob", "cat", "dan", "eve")
FIRST_YEAR, LAST_YEAR = 2017, 2026


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """UTC-offset changes of ``zone`` (to within six hours), for picking windows."""
    tz = ZoneInfo(zone)
    t = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    previous = t.astimezone(tz).utcoffset()
    found = []
    while t.year <= LAST_YEAR:
        t += timedelta(hours=6)
        offset = t.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(t)
            previous = offset
    return tuple(found)


@dataclass(frozen=True)
class Case:
    """A random schedule plus a query window."""

    schedule: SchedulePlan
    since: datetime
    until: datetime


@st.composite
def instants_near(draw: st.DrawFn, zone: str) -> datetime:
    """An instant, usually within a few days of one of the zone's DST changes."""
    changes = transitions(zone)
    if changes and draw(st.integers(0, 9)) < 8:
        base = draw(st.sampled_from(changes))
    else:
        base = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC) + timedelta(
            days=draw(st.integers(0, 365 * (LAST_YEAR - FIRST_YEAR)))
        )
    return base + timedelta(minutes=15 * draw(st.integers(-4 * 72, 4 * 24)))


@st.composite
def wall_instants(draw: st.DrawFn, zone: str, near: datetime, days: int) -> datetime:
    """An aware datetime at a "round" local wall time within ``days`` of ``near``.

    The wall time may be nonexistent or ambiguous; ``fold`` is random.
    """
    tz = ZoneInfo(zone)
    local = near.astimezone(tz).replace(tzinfo=None) + timedelta(
        days=draw(st.integers(-days, days))
    )
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from((0, 15, 30, 45)))
    wall = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return wall.replace(tzinfo=tz, fold=draw(st.integers(0, 1)))


@st.composite
def rotations(draw: st.DrawFn, zone: str, near: datetime) -> Rotation:
    units: tuple[ShiftUnit, ...] = ("hours", "days", "weeks")
    unit = draw(st.sampled_from(units))
    length = draw(st.integers(1, {"hours": 30, "days": 4, "weeks": 3}[unit]))
    # Anchors from the same week up to ~3 years away (either side).
    days = draw(st.sampled_from((3, 40, 1100)))
    return Rotation(draw(wall_instants(zone, near, days)), length, unit)


@st.composite
def restrictions(draw: st.DrawFn) -> Restriction:
    def clock() -> time:
        return time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45))))

    days = draw(st.none() | st.frozensets(st.integers(0, 6), min_size=1))
    return Restriction(clock(), clock(), days)


@st.composite
def layers(draw: st.DrawFn, zone: str, since: datetime, until: datetime, n: int) -> Layer:
    span = until - since
    start = since - timedelta(hours=draw(st.integers(0, 96)))
    if draw(st.booleans()):
        start = since + span * draw(st.floats(0, 0.5))
    end = None
    if draw(st.integers(0, 3)) == 0:
        end = start + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 10)))
    version = LayerVersion(
        effective_from=None,
        start=start,
        end=end,
        users=tuple(draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=4))),
        rotation=draw(rotations(zone, since)),
        restrictions=tuple(draw(st.lists(restrictions(), max_size=2))),
        start_index=draw(st.integers(-3, 3)),
    )
    layer = Layer(f"layer{n}", f"Layer {n}", (version,))
    for _ in range(draw(st.integers(0, 2))):
        at = since + span * draw(st.floats(0, 1))
        if layer.versions[-1].effective_from is not None:
            at = max(at, layer.versions[-1].effective_from + timedelta(minutes=1))
        layer = add_version(layer, draw(edits(layer.versions[-1], at, zone)))
    return layer


@st.composite
def edits(draw: st.DrawFn, version: LayerVersion, at: datetime, zone: str) -> LayerVersion:
    """A random history-preserving edit of ``version`` effective at ``at``."""
    kind = draw(st.sampled_from(("users", "users", "end", "revise")))
    if kind == "users":
        users = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=5))
        return change_users(version, users, at, zone, keep_current=draw(st.booleans()))
    if kind == "end":
        return end_layer(version, at)
    return revise(
        version,
        at,
        rotation=draw(st.none() | rotations(zone, at)),
        restrictions=draw(st.none() | st.lists(restrictions(), max_size=2)),
        start_index=draw(st.none() | st.integers(0, 4)),
    )


@st.composite
def overrides(draw: st.DrawFn, since: datetime, until: datetime) -> tuple[Override, ...]:
    out = []
    for n in range(draw(st.integers(0, 4))):
        start = since + (until - since) * draw(st.floats(-0.2, 1.1))
        start = start.replace(second=0, microsecond=0)
        length = timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 3)))
        created = datetime(2016, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 30)))
        out.append(Override(f"o{n}", draw(st.sampled_from(USERS)), start, start + length, created))
    return tuple(out)


@st.composite
def cases(draw: st.DrawFn, max_layers: int = 4) -> Case:
    zone = draw(st.sampled_from(ZONES))
    since = draw(instants_near(zone))
    until = since + timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 12)))
    if draw(st.booleans()):  # odd, non-round window edges
        since -= timedelta(seconds=draw(st.integers(0, 3599)))
    count = draw(st.integers(1, max_layers))
    schedule = SchedulePlan(
        zone,
        tuple(draw(layers(zone, since, until, n)) for n in range(count)),
        draw(overrides(since, until)),
    )
    return Case(schedule, since, until)
