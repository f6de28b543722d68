"""Schedules in the database: load the pure form, query it, create and edit with history.

Functions take a session (and an :class:`~store.audit.Actor` for writes); they never commit.
Edits take effect from an instant (``effective_from``, default now, never in the past): each
touched layer gets a new version row in force from then, so the timeline before it is kept.
Overrides live in :mod:`schedules.overrides`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from people.access import can_manage_team, require_team_manager
from people.models import Team, User, new_feed_token
from people.service import require_active
from schedules import model, rows
from schedules.layering import apply_layers, new_layer
from schedules.model import ScheduleError, Shift, Timeline, WindowTooLargeError, load_zone
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer, ScheduleOverride
from schedules.specs import LayerSpec
from schedules.timeline import EXTENT_CAP, next_shift, on_call, on_call_user, timeline
from store import audit
from store.audit import Actor
from store.errors import Conflict, Invalid, NotFound
from store.pagination import Page, paginate

log = logging.getLogger("watchbill.schedules")

__all__ = [
    "LayerEdits",
    "can_edit",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "load_schedule",
    "next_shift_for_user",
    "on_call_in_every_schedule",
    "on_call_shift",
    "require_editor",
    "rotate_feed_token",
    "schedule_by_feed_token",
    "schedule_ids_for_user",
    "schedule_timeline",
    "snapshot",
    "update_schedule",
]

#: How far ``effective_from`` may lie before now (clock skew); it is then moved up to now.
SKEW = timedelta(minutes=1)
MAX_LAYERS = 50
#: Longest timeline window: a (leap) year.
LONGEST_WINDOW = timedelta(days=366)


@dataclass(frozen=True)
class UserShift:
    """A user's shift in one schedule (for "next shift" answers)."""

    schedule_id: str
    shift: Shift


# --- reading -----------------------------------------------------------------------------------


_WITH_LAYERS = selectinload(Schedule.layers).selectinload(ScheduleLayer.versions)


def get_schedule(session: Session, schedule_id: str, *, for_update: bool = False) -> Schedule:
    """The schedule row with its layers; ``for_update`` locks it (edits queue up behind it)."""
    schedule = session.get(
        Schedule, schedule_id, options=[_WITH_LAYERS], with_for_update=for_update or None
    )
    if schedule is None:
        raise NotFound(f"no schedule {schedule_id!r}")
    return schedule


def list_schedules(
    session: Session, *, cursor: str | None, limit: int, team_id: str | None = None
) -> Page[Schedule]:
    stmt = select(Schedule).options(_WITH_LAYERS)
    if team_id is not None:
        stmt = stmt.where(Schedule.team_id == team_id)
    return paginate(session, stmt, Schedule.created_at, Schedule.id, cursor=cursor, limit=limit)


def _overrides(
    session: Session, schedule_id: str, around: tuple[datetime, datetime] | None
) -> list[ScheduleOverride]:
    stmt = select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
    if around is not None:
        lo, hi = around
        stmt = stmt.where(ScheduleOverride.end > lo, ScheduleOverride.start <= hi)
    return list(session.scalars(stmt))


def load_schedule(
    session: Session, schedule_id: str, *, around: tuple[datetime, datetime] | None = None
) -> model.Schedule:
    """The pure form of the schedule (every layer with its history, its overrides).

    ``around=(lo, hi)`` loads only the overrides meeting ``[lo, hi]`` (enough for queries
    inside that span); by default every override is loaded.
    """
    schedule = get_schedule(session, schedule_id)
    return rows.schedule_of(schedule, _overrides(session, schedule_id, around))


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
    layers: dict[str, list[model.Layer]] = {}
    for layer in session.execute(
        select(ScheduleLayer.id, ScheduleLayer.schedule_id, ScheduleLayer.name).order_by(
            ScheduleLayer.position, ScheduleLayer.id
        )
    ):
        # Plain rows have the columns ``rows.version_of`` reads from a LayerVersionRow.
        found = rows.versions_in_order(versions.get(layer.id, []))
        pure = tuple(rows.version_of(v) for v in found)
        layers.setdefault(layer.schedule_id, []).append(
            model.Layer(id=layer.id, name=layer.name, versions=pure)
        )
    running: dict[str, list[model.Override]] = {}
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
            pure_schedule = model.Schedule(
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


def schedule_by_feed_token(session: Session, token: str) -> Schedule | None:
    if not token:
        return None
    return session.scalar(select(Schedule).where(Schedule.ical_token == token))


# --- permissions -------------------------------------------------------------------------------


def can_edit(session: Session, actor: Actor, schedule: Schedule) -> bool:
    return can_manage_team(session, actor, schedule.team_id)


def require_editor(session: Session, actor: Actor, schedule: Schedule, what: str) -> None:
    require_team_manager(session, actor, schedule.team_id, what)


# --- writing -----------------------------------------------------------------------------------


def snapshot(schedule: Schedule) -> dict[str, Any]:
    """The schedule, its layers and their version history, for the audit log."""
    data = audit.snapshot(schedule)
    data["layers"] = [
        {
            "id": layer.id,
            "name": layer.name,
            "position": layer.position,
            "versions": [audit.snapshot(v) for v in rows.versions_in_order(layer.versions)],
        }
        for layer in sorted(schedule.layers, key=lambda r: r.position)
    ]
    return data


def _check_team(session: Session, team_id: str | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise Invalid("team_id", f"no team {team_id!r}")


def _check_zone(time_zone: str) -> None:
    try:
        load_zone(time_zone)
    except ScheduleError as exc:
        raise Invalid("time_zone", str(exc)) from exc


def check_users(session: Session, user_ids: dict[str, str]) -> None:
    """``user_ids`` maps user id → field naming it; unknown or deactivated ones are 422."""
    require_active(session, user_ids)


def _spec_users(specs: Sequence[LayerSpec]) -> dict[str, str]:
    named: dict[str, str] = {}
    for i, spec in enumerate(specs):
        for user_id in spec.users:
            named.setdefault(user_id, f"layers.{i}.users")
    return named


def create_schedule(
    session: Session,
    actor: Actor,
    *,
    name: str,
    time_zone: str,
    team_id: str | None,
    layers: Sequence[LayerSpec],
) -> Schedule:
    """A new schedule; later layers win where they have someone on call."""
    _check_team(session, team_id)
    require_team_manager(session, actor, team_id, "create schedules")
    _check_zone(time_zone)
    if len(layers) > MAX_LAYERS:
        raise Invalid("layers", f"at most {MAX_LAYERS} layers")
    check_users(session, _spec_users(layers))
    schedule = Schedule(name=name, time_zone=time_zone, team_id=team_id)
    for i, spec in enumerate(layers):
        if spec.id is not None:
            raise Invalid(f"layers.{i}.id", "layer ids are only given when editing")
        schedule.layers.append(new_layer(spec, f"layers.{i}", i, None, actor))
    session.add(schedule)
    session.flush()
    audit.record(session, actor, "create", schedule, None, after=snapshot(schedule))
    return schedule


@dataclass(frozen=True)
class LayerEdits:
    """New layer specs for an edit, in force from ``effective_from`` (default: now)."""

    layers: Sequence[LayerSpec] | None = None
    effective_from: datetime | None = None
    keep_current: bool = True


def edit_instant(
    effective_from: datetime | None, now: datetime, field: str = "effective_from"
) -> datetime:
    """When an edit takes effect: ``effective_from`` or now; never in the past."""
    if effective_from is None:
        return now.astimezone(UTC)
    if effective_from < now - SKEW:
        raise Invalid(field, "must not be in the past (edits never rewrite history)")
    return max(effective_from, now).astimezone(UTC)


def _has_history_before(schedule: Schedule, at: datetime) -> bool:
    return any(
        (v.effective_from is None or v.effective_from < at) and v.start < at
        for layer in schedule.layers
        for v in layer.versions
    )


_UNSET: Any = object()


def update_schedule(
    session: Session,
    actor: Actor,
    schedule_id: str,
    *,
    now: datetime,
    name: str | None = None,
    time_zone: str | None = None,
    team_id: str | None = _UNSET,
    edits: LayerEdits | None = None,
) -> Schedule:
    """Edit name/team/zone and (with ``edits.layers``) replace the layers from an instant.

    Layers with an ``id`` get a new version if they changed; layers without one are added;
    existing layers left out are ended at that instant. Existing layers keep their order.
    When no layer names an ``id``, the ``i``-th one edits the ``i``-th layer still running.
    """
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "edit this schedule")
    edits = edits or LayerEdits()
    at = edit_instant(edits.effective_from, now)
    if team_id is not _UNSET and team_id != schedule.team_id:
        _check_team(session, team_id)
        require_team_manager(session, actor, team_id, "move a schedule to this team")
    before = snapshot(schedule)
    if name is not None:
        schedule.name = name
    if team_id is not _UNSET:
        schedule.team_id = team_id
    if time_zone is not None and time_zone != schedule.time_zone:
        _check_zone(time_zone)
        if _has_history_before(schedule, at):
            raise Invalid(
                "time_zone",
                "cannot change once the schedule has shifts (it would move past handoffs); "
                "create a new schedule instead",
            )
        schedule.time_zone = time_zone
    if edits.layers is not None:
        if len(edits.layers) > MAX_LAYERS:
            raise Invalid("layers", f"at most {MAX_LAYERS} layers")
        check_users(session, _spec_users(edits.layers))
        apply_layers(session, actor, schedule, edits.layers, at, keep_current=edits.keep_current)
    session.flush()
    after = snapshot(schedule)
    if after != before:
        audit.record(session, actor, "update", schedule, before, after=after)
    return schedule


def delete_schedule(
    session: Session,
    actor: Actor,
    schedule_id: str,
    *,
    used_by: Callable[[Session, str], str | None] | None = None,
) -> None:
    """Delete a schedule with its history; 409 when ``used_by`` names something using it."""
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "delete this schedule")
    user = used_by(session, schedule_id) if used_by is not None else None
    if user is not None:
        raise Conflict(f"the schedule is used by {user}; remove it there first")
    before = snapshot(schedule)
    session.delete(schedule)
    audit.record(session, actor, "delete", schedule, before, after=None)


def rotate_feed_token(session: Session, actor: Actor, schedule_id: str) -> Schedule:
    """Replace the schedule's calendar feed token (the old URL stops working)."""
    schedule = get_schedule(session, schedule_id, for_update=True)
    require_editor(session, actor, schedule, "rotate this schedule's calendar URL")
    schedule.ical_token = new_feed_token()
    session.flush()
    audit.record(session, actor, "rotate_ical", schedule, None, after={"rotated": True})
    return schedule
