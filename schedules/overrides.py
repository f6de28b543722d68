"""Overrides: someone on call over ``[start, end)`` in a schedule, above every layer.

Who may: admins and the schedule team's managers for anyone; a team responder for themself
(an override that puts them on call). An override lasts at most :data:`MAX_OVERRIDE_DAYS`.
Deleting keeps the past: an override that has started is cut short at the deletion instant;
one still in the future is removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from people.access import can_respond
from schedules.models import Schedule, ScheduleOverride
from schedules.service import SKEW, can_edit, check_users, get_schedule
from store import audit
from store.audit import Actor
from store.errors import Conflict, Forbidden, Invalid, NotFound
from store.pagination import Page, paginate

__all__ = [
    "MAX_OVERRIDE_DAYS",
    "create_override",
    "delete_override",
    "get_override",
    "list_overrides",
    "may_override",
    "swap_shifts",
]

#: The longest override (a year): longer cover belongs in a layer.
MAX_OVERRIDE_DAYS = 366


def may_override(session: Session, actor: Actor, schedule: Schedule, user_id: str) -> bool:
    """Whether ``actor`` may put ``user_id`` on call in ``schedule`` (or cancel such an
    override): admins and the team's managers for anyone, a team responder for themself."""
    if can_edit(session, actor, schedule):
        return True
    return actor.user_id == user_id and can_respond(session, actor, schedule.team_id)


def _require_writer(
    session: Session, actor: Actor, schedule: Schedule, user_id: str, what: str
) -> None:
    if not may_override(session, actor, schedule, user_id):
        raise Forbidden(
            f"only an admin or a team manager may {what}; "
            "a team responder may only put themself on call"
        )


def get_override(session: Session, schedule_id: str, override_id: str) -> ScheduleOverride:
    found = session.get(ScheduleOverride, override_id)
    if found is None or found.schedule_id != schedule_id:
        raise NotFound(f"no override {override_id!r} in schedule {schedule_id!r}")
    return found


def list_overrides(
    session: Session,
    schedule_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: str | None = None,
    cursor: str | None,
    limit: int,
) -> Page[ScheduleOverride]:
    """Overrides meeting ``[since, until)`` (either bound optional), oldest created first."""
    get_schedule(session, schedule_id)
    if since is not None and until is not None and until < since:
        raise Invalid("until", "must not be before since")
    stmt = select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
    if since is not None:
        stmt = stmt.where(ScheduleOverride.end > since)
    if until is not None:
        stmt = stmt.where(ScheduleOverride.start < until)
    if user_id is not None:
        stmt = stmt.where(ScheduleOverride.user_id == user_id)
    return paginate(
        session,
        stmt,
        ScheduleOverride.created_at,
        ScheduleOverride.id,
        cursor=cursor,
        limit=limit,
    )


def create_override(
    session: Session,
    actor: Actor,
    schedule_id: str,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> ScheduleOverride:
    """Put ``user_id`` on call over ``[start, end)``; the newest override wins where they meet.

    An override never starts in the past (422 ``start``; :data:`SKEW` of grace for clock
    differences): the past is kept, as for edits. The same person may not have two
    overlapping overrides in one schedule (422 ``start``).
    """
    schedule = get_schedule(session, schedule_id, for_update=True)
    _require_writer(session, actor, schedule, user_id, "create overrides for others")
    check_users(session, {user_id: "user_id"})
    if start < now - SKEW:
        raise Invalid(
            "start",
            "must not be in the past (the past is kept); start an override now or later",
        )
    if end <= start:
        raise Invalid("end", "must be after start")
    if end - start > timedelta(days=MAX_OVERRIDE_DAYS):
        raise Invalid("end", f"an override lasts at most {MAX_OVERRIDE_DAYS} days")
    clash = session.scalar(
        select(ScheduleOverride)
        .where(
            ScheduleOverride.schedule_id == schedule_id,
            ScheduleOverride.user_id == user_id,
            ScheduleOverride.start < end,
            ScheduleOverride.end > start,
        )
        .limit(1)
    )
    if clash is not None:
        raise Invalid(
            "start",
            f"overlaps override {clash.id} of the same user "
            f"({clash.start.isoformat()} to {clash.end.isoformat()})",
        )
    override = ScheduleOverride(
        schedule_id=schedule_id, user_id=user_id, start=start, end=end, created_by=actor.label
    )
    session.add(override)
    session.flush()
    audit.record(session, actor, "create", override, None)
    return override


def delete_override(
    session: Session, actor: Actor, schedule_id: str, override_id: str, *, now: datetime
) -> ScheduleOverride | None:
    """Cancel an override. Returns the truncated row if it had started, None if it was removed.

    An override that is already over is history: 409.
    """
    schedule = get_schedule(session, schedule_id, for_update=True)
    override = get_override(session, schedule_id, override_id)
    _require_writer(session, actor, schedule, override.user_id, "cancel others' overrides")
    before = audit.snapshot(override)
    if override.end <= now:
        raise Conflict("this override is over; the past is kept")
    if override.start >= now:
        session.delete(override)
        audit.record(session, actor, "delete", override, before, after=None)
        return None
    override.end = now
    override.cancelled_at = now
    override.cancelled_by = actor.label
    session.flush()
    audit.record(session, actor, "truncate", override, before)
    return override


def swap_shifts(
    session: Session,
    actor: Actor,
    schedule_id: str,
    first: tuple[str, datetime, datetime],
    second: tuple[str, datetime, datetime],
    *,
    now: datetime,
) -> tuple[ScheduleOverride, ScheduleOverride]:
    """Two people trade shifts ``(user_id, start, end)``: two overrides, each checked like any
    other (so only an admin or a team manager may, as it puts someone else on call)."""
    (first_user, first_start, first_end), (second_user, second_start, second_end) = first, second
    if first_user == second_user:
        raise Invalid("second", "both shifts belong to the same person; pick two people's shifts")
    if first_start < second_end and second_start < first_end:
        raise Invalid("second", "the two shifts overlap; pick two separate shifts")
    one = create_override(
        session, actor, schedule_id, user_id=second_user, start=first_start, end=first_end, now=now
    )
    two = create_override(
        session, actor, schedule_id, user_id=first_user, start=second_start, end=second_end, now=now
    )
    return one, two
