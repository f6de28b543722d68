from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from schedules.core.values import (
    Layer,
    LayerVersion,
    Override,
    Restriction,
    Rotation,
    ScheduleError,
    SchedulePlan,
)

T0 = datetime(2024, 6, 3, 9, tzinfo=UTC)
NAIVE = datetime(2024, 6, 3, 9)


def good_version() -> LayerVersion:
    return LayerVersion(None, T0, None, ("ann",), Rotation(T0, 1, "days"))


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Rotation(T0, 0, "days"),
        lambda: Rotation(T0, -1, "hours"),
        lambda: Rotation(T0, True, "hours"),
        lambda: Rotation(T0, 1, "months"),  # type: ignore[arg-type]
        lambda: Rotation(NAIVE, 1, "days"),
        lambda: replace(good_version(), users=()),
        lambda: replace(good_version(), users=("",)),
        lambda: replace(good_version(), end=T0 - timedelta(seconds=1)),
        lambda: replace(good_version(), start=NAIVE),
        lambda: replace(good_version(), effective_from=NAIVE),
        lambda: Restriction(time(8, tzinfo=UTC), time(9)),
        lambda: Restriction(time(8), time(9), frozenset({7})),
        lambda: Layer("l", "L", ()),
        lambda: Layer("l", "L", (good_version(), good_version())),
        lambda: Layer("l", "L", (replace(good_version(), effective_from=T0), good_version())),
        lambda: Override("o", "ann", T0, T0, T0),
        lambda: Override("o", "ann", T0, T0 + timedelta(hours=1), NAIVE),
        lambda: SchedulePlan("Mars/Olympus_Mons"),
        lambda: SchedulePlan("../etc/passwd"),
    ],
)
def test_invalid_inputs_raise_schedule_error(build: object) -> None:
    assert callable(build)
    with pytest.raises(ScheduleError):
        build()


def test_valid_inputs_are_normalised_to_tuples() -> None:
    version = LayerVersion(None, T0, T0, ["ann", "bob"], Rotation(T0, 2, "weeks"), [])  # type: ignore[arg-type]
    assert version.users == ("ann", "bob") and version.restrictions == ()
    assert version.end == version.start  # an empty layer is allowed
    assert SchedulePlan("UTC", [Layer("l", "L", [version])]).layers[0].versions == (version,)  # type: ignore[arg-type]
