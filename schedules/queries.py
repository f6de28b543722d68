"""Who is on call: at an instant, over a window, next for a user, across every schedule.

Each question loads the pure form of the schedules it needs (:func:`schedules.service.load_schedule`
or plain rows) and asks the pure core (:mod:`schedules.core.timeline`). Functions take a session and
never write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from people.models import User
from schedules import rows
from schedules.core import values
from schedules.core.timeline import EXTENT_CAP, next_shift, on_call, on_call_user, timeline
from schedules.core.values import ScheduleError, Shift, Timeline, WindowTooLargeError
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer, ScheduleOverride
from schedules.service import get_schedule, load_schedule
from store.errors import Invalid, NotFound

log = logging.getLogger("watchbill.schedules")

__all__ = [
    "LONGEST_WINDOW",
    "OnCallNow",
    "UserShift",
    "next_shift_for_user",
    "on_call_in_every_schedule",
    "on_call_shift",
    "schedule_ids_for_user",
    "schedule_timeline",
]

#: Longest timeline window: a (leap) year.
LONGEST_WINDOW = timedelta(days=366)


@dataclass(frozen=True)
class UserShift:
    """A user's shift in one schedule (for "next shift" answers)."""

    schedule_id: str
    shift: Shift


def schedule_timeline(
    session: Session, schedule_id: str, since: datetime, until: datetime, *, overflow: bool = False
) -> Timeline:
    """Final shifts, gaps and per-layer shifts over ``[since, until)`` (at most ~a year)."""
    if until < since:
        raise Invalid("until", "must not be before since")
    if until - since > LONGEST_WINDOW:
        raise Invalid("until", f"the window may be at most {LONGEST_WINDOW.days} days long")
    reach = EXTENT_CAP if overflow else timedelta(0)
    pure = load_schedule(session, schedule_id, around=(since - reach, until + reach))
    try:
        return timeline(pure, since, until, overflow=overflow)
    except WindowTooLargeError as exc:
        raise Invalid("until", str(exc)) from exc
    except ScheduleError as exc:
        raise Invalid("since", str(exc)) from exc


def on_call_shift(
    session: Session, schedule_id: str, at: datetime, *, whole: bool = True
) -> Shift | None:
    """Who is on call at ``at``: the final shift running then, or None when nobody is.

    The one answer for ``/oncall`` (``whole``: the shift's full extent) and the engine's
    schedule targets (``whole=False``: just the person, and which layer or override), through
    the same layering as :func:`schedule_timeline` and the calendar feeds. 404 for an unknown
    schedule; 422 (``at``) for an instant outside the supported range.
    """
    reach = EXTENT_CAP if whole else timedelta(0)
    pure = load_schedule(session, schedule_id, around=(at - reach, at + reach))
    try:
        return on_call(pure, at, whole=whole)
    except ScheduleError as exc:
        raise Invalid("at", str(exc)) from exc


@dataclass(frozen=True)
class OnCallNow:
    """Who is on call in one schedule at an instant (None: nobody)."""

    schedule_id: str
    name: str
    time_zone: str
    team_id: str | None
    user_id: str | None


def on_call_in_every_schedule(session: Session, at: datetime) -> list[OnCallNow]:
    """Every schedule (by name) with who is on call in it at ``at``.

    Four queries whatever the number of schedules, read as plain rows (no ORM objects: the
    home page asks this of hundreds of schedules on every load), then the pure point look-up.
    """
    versions: dict[str, list[Any]] = {}
    for row in session.execute(select(*LayerVersionRow.__table__.columns)):
        versions.setdefault(row.layer_id, []).append(row)
    layers: dict[str, list[values.Layer]] = {}
    for layer in session.execute(
        select(ScheduleLayer.id, ScheduleLayer.schedule_id, ScheduleLayer.name).order_by(
            ScheduleLayer.position, ScheduleLayer.id
        )
    ):
        # Plain rows have the columns ``rows.version_of`` reads from a LayerVersionRow.
        found = rows.versions_in_order(versions.get(layer.id, []))
        pure = tuple(rows.version_of(v) for v in found)
        layers.setdefault(layer.schedule_id, []).append(
            values.Layer(id=layer.id, name=layer.name, versions=pure)
        )
    running: dict[str, list[values.Override]] = {}
    for override in session.scalars(
        select(ScheduleOverride).where(ScheduleOverride.end > at, ScheduleOverride.start <= at)
    ):
        running.setdefault(override.schedule_id, []).append(rows.override_of(override))
    found_now: list[OnCallNow] = []
    for schedule in session.execute(
        select(Schedule.id, Schedule.name, Schedule.time_zone, Schedule.team_id).order_by(
            Schedule.name, Schedule.id
        )
    ):
        user: str | None = None
        try:
            pure_schedule = values.SchedulePlan(
                time_zone=schedule.time_zone,
                layers=tuple(layers.get(schedule.id, ())),
                overrides=tuple(running.get(schedule.id, ())),
            )
            user = on_call_user(pure_schedule, at)
        except ScheduleError:
            log.exception("schedule %s cannot say who is on call at %s", schedule.id, at)
        found_now.append(
            OnCallNow(schedule.id, schedule.name, schedule.time_zone, schedule.team_id, user)
        )
    return found_now


def schedule_ids_for_user(session: Session, user_id: str) -> list[str]:
    """Schedules in which any layer version or override mentions the user."""
    needle = f'%"{user_id}"%'
    candidates = session.execute(
        select(ScheduleLayer.schedule_id, LayerVersionRow.users, LayerVersionRow.holdover_user_id)
        .join(LayerVersionRow, LayerVersionRow.layer_id == ScheduleLayer.id)
        .where(
            or_(
                cast(LayerVersionRow.users, String).like(needle),
                LayerVersionRow.holdover_user_id == user_id,
            )
        )
    )
    found = {sid for sid, users, hold in candidates if user_id in users or hold == user_id}
    found.update(
        session.scalars(
            select(ScheduleOverride.schedule_id).where(ScheduleOverride.user_id == user_id)
        )
    )
    return sorted(found)


def next_shift_for_user(
    session: Session,
    user_id: str,
    after: datetime,
    *,
    horizon: timedelta = timedelta(days=90),
    schedule_id: str | None = None,
) -> UserShift | None:
    """The user's first shift starting at or after ``after`` (in one or every schedule)."""
    if session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id!r}")
    if not timedelta(0) < horizon <= LONGEST_WINDOW:
        raise Invalid("horizon_days", f"must be between 1 and {LONGEST_WINDOW.days} days")
    ids = [schedule_id] if schedule_id is not None else schedule_ids_for_user(session, user_id)
    best: UserShift | None = None
    for sid in ids:
        get_schedule(session, sid)
        pure = load_schedule(
            session, sid, around=(after - EXTENT_CAP, after + horizon + EXTENT_CAP)
        )
        shift = next_shift(pure, user_id, after, horizon)
        if shift is not None and (best is None or shift.start < best.shift.start):
            best = UserShift(sid, shift)
    return best
