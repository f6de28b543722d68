"""Schedules in the database: load the pure form, create and edit with history.

Functions take a session (and an :class:`~store.audit.Actor` for writes); they never commit.
Edits take effect from an instant (``effective_from``, default now, never in the past): each
touched layer gets a new version row in force from then, so the timeline before it is kept.
Overrides live in :mod:`schedules.overrides`, one layer at a time in :mod:`schedules.layers`,
who is on call (now, next, over a window) in :mod:`schedules.queries`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from people.access import can_manage_team, require_team_manager
from people.models import Team, new_feed_token
from people.service import require_active
from schedules import rows
from schedules.core import values
from schedules.core.values import ScheduleError, load_zone
from schedules.layer_rows import apply_layers, new_layer
from schedules.models import Schedule, ScheduleLayer, ScheduleOverride
from schedules.specs import LayerSpec
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
    "require_editor",
    "rotate_feed_token",
    "schedule_by_feed_token",
    "snapshot",
    "update_schedule",
]

#: How far ``effective_from`` may lie before now (clock skew); it is then moved up to now.
SKEW = timedelta(minutes=1)
MAX_LAYERS = 50


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
) -> values.SchedulePlan:
    """The pure form of the schedule (every layer with its history, its overrides).

    ``around=(lo, hi)`` loads only the overrides meeting ``[lo, hi]`` (enough for queries
    inside that span); by default every override is loaded.
    """
    schedule = get_schedule(session, schedule_id)
    return rows.schedule_of(schedule, _overrides(session, schedule_id, around))


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
