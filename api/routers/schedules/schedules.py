"""Schedules: layers with history, overrides, who is on call, timelines, next shifts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import CurrentActor, NowDep, PageDep, SessionDep, SettingsDep
from api.openapi import problems
from api.routers.schedules import layers, overrides
from api.schemas.people import ListOut, UserRef
from api.schemas.schedule_conversions import layer_ids, layer_spec, schedule_out, shift_out
from api.schemas.schedules import (
    GapOut,
    NextShiftOut,
    OnCallOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ScheduleReplace,
    TimelineOut,
    UserShiftOut,
)
from api.types import At, Instant
from escalation import service as escalation
from people import service as people
from schedules import queries, rows
from schedules import service as schedules
from schedules.models import Schedule
from store.audit import Actor

router = APIRouter(tags=["schedules"])
router.include_router(layers.router)
router.include_router(overrides.router)

# --- schedules ---------------------------------------------------------------------------------


@router.post("/schedules", status_code=201, summary="Create a schedule")
def create_schedule(
    body: ScheduleIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep, now: NowDep
) -> ScheduleOut:
    """Admins, or the managers of `team_id` (a schedule of no team is for admins). Layers are in
    precedence order: a later layer wins where it has someone on call."""
    schedule = schedules.create_schedule(
        session,
        actor,
        name=body.name,
        time_zone=body.time_zone,
        team_id=body.team_id,
        layers=[layer_spec(layer) for layer in body.layers],
    )
    return schedule_out(settings, schedule, now)


@router.get("/schedules", summary="List schedules")
def list_schedules(
    session: SessionDep,
    _: CurrentActor,
    settings: SettingsDep,
    page: PageDep,
    now: NowDep,
    team_id: str | None = None,
) -> ListOut[ScheduleOut]:
    """Everyone signed in; `team_id` filters."""
    result = schedules.list_schedules(
        session, cursor=page.cursor, limit=page.limit, team_id=team_id
    )
    return ListOut(items=[schedule_out(settings, s, now) for s in result.items], next=result.next)


@router.get("/schedules/{schedule_id}", summary="Get a schedule (its layers as they are at `at`)")
def get_schedule(
    schedule_id: str,
    session: SessionDep,
    _: CurrentActor,
    settings: SettingsDep,
    now: NowDep,
    at: At = None,
) -> ScheduleOut:
    """Everyone signed in."""
    return schedule_out(settings, schedules.get_schedule(session, schedule_id), at or now)


def _edit(
    schedule_id: str,
    body: ScheduleReplace | SchedulePatch,
    session: Session,
    actor: Actor,
    now: datetime,
) -> Schedule:
    team: dict[str, str | None] = {}
    if isinstance(body, ScheduleReplace) or "team_id" in body.model_fields_set:
        team["team_id"] = body.team_id
    return schedules.update_schedule(
        session,
        actor,
        schedule_id,
        now=now,
        name=body.name,
        time_zone=body.time_zone,
        **team,
        edits=schedules.LayerEdits(
            layers=None if body.layers is None else [layer_spec(layer) for layer in body.layers],
            effective_from=body.effective_from,
            keep_current=body.keep_current,
        ),
    )


@router.put("/schedules/{schedule_id}", summary="Replace a schedule from `effective_from`")
def replace_schedule(
    schedule_id: str,
    body: ScheduleReplace,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    now: NowDep,
) -> ScheduleOut:
    """Layers with an `id` are edited, layers without one added, existing layers left out
    ended; everything from `effective_from` (default now): the timeline before stays."""
    return schedule_out(settings, _edit(schedule_id, body, session, actor, now), now)


@router.patch("/schedules/{schedule_id}", summary="Edit a schedule from `effective_from`")
def patch_schedule(
    schedule_id: str,
    body: SchedulePatch,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    now: NowDep,
) -> ScheduleOut:
    """Admins and the schedule team's managers. Fields left out are kept; layer changes take
    effect from `effective_from` (default now) and never rewrite the past."""
    return schedule_out(settings, _edit(schedule_id, body, session, actor, now), now)


@router.delete(
    "/schedules/{schedule_id}",
    status_code=204,
    summary="Delete a schedule",
    responses=problems(409),
)
def delete_schedule(schedule_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """Admins and the schedule team's managers; 409 while an escalation policy targets it."""
    schedules.delete_schedule(session, actor, schedule_id, used_by=escalation.policy_using_schedule)
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/rotate-ical", summary="Replace the calendar feed URL")
def rotate_ical(
    schedule_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep, now: NowDep
) -> ScheduleOut:
    """Admins and the schedule team's managers: the old feed URL stops working at once."""
    return schedule_out(settings, schedules.rotate_feed_token(session, actor, schedule_id), now)


# --- who is on call ----------------------------------------------------------------------------


@router.get("/schedules/{schedule_id}/oncall", summary="Who is on call at `at` (default now)")
def on_call(
    schedule_id: str, session: SessionDep, _: CurrentActor, now: NowDep, at: At = None
) -> OnCallOut:
    """Everyone signed in: the person on call at `at` and their whole final shift."""
    when = at or now
    shift = queries.on_call_shift(session, schedule_id, when)
    users: list[UserRef] = []
    names = people.user_names(session, [] if shift is None else [shift.user_id])
    if shift is not None:
        users.append(UserRef(id=shift.user_id, name=names.get(shift.user_id, "(deleted user)")))
    ids = layer_ids(session, schedule_id)
    return OnCallOut(
        at=when, users=users, shift=None if shift is None else shift_out(shift, ids, names)
    )


@router.get("/schedules/{schedule_id}/timeline", summary="Final shifts, layers and gaps")
def timeline(
    schedule_id: str,
    session: SessionDep,
    _: CurrentActor,
    now: NowDep,
    since: At = None,
    until: Annotated[Instant | None, Query(description="default: `since` + 7 days")] = None,
    overflow: Annotated[bool, Query(description="whole shifts at the edges")] = False,
) -> TimelineOut:
    """Everyone signed in: final shifts (overrides applied), each layer's shifts and the gaps
    over [`since`, `until`) (at most a year)."""
    lo = since or now
    hi = until or lo + timedelta(days=7)
    result = queries.schedule_timeline(session, schedule_id, lo, hi, overflow=overflow)
    ids = layer_ids(session, schedule_id)
    everyone = [s.user_id for s in result.final] + [s.user_id for x in result.layers for s in x]
    names = people.user_names(session, everyone)
    return TimelineOut(
        since=lo,
        until=hi,
        final=[shift_out(s, ids, names) for s in result.final],
        layers=[[shift_out(s, ids, names) for s in layer] for layer in result.layers],
        gaps=[GapOut(start=g.start, end=g.end) for g in result.gaps],
    )


Horizon = Annotated[int, Query(ge=1, le=365, description="how far ahead to look, in days")]


def _next_shift(
    session: Session, user_id: str, after: datetime, days: int, schedule_id: str | None
) -> NextShiftOut:
    found = queries.next_shift_for_user(
        session, user_id, after, horizon=timedelta(days=days), schedule_id=schedule_id
    )
    shift = None
    if found is not None:
        schedule = schedules.get_schedule(session, found.schedule_id)
        ids = [layer.id for layer in rows.ordered_layers(schedule)]
        s = found.shift
        shift = UserShiftOut(
            schedule_id=schedule.id,
            schedule_name=schedule.name,
            start=s.start,
            end=s.end,
            layer_id=None if s.layer is None else ids[s.layer],
            override_id=s.override_id,
        )
    return NextShiftOut(user_id=user_id, after=after, shift=shift)


@router.get("/users/{user_id}/next-shift", summary="The user's next shift in any schedule")
def user_next_shift(
    user_id: str,
    session: SessionDep,
    _: CurrentActor,
    now: NowDep,
    after: At = None,
    horizon_days: Horizon = 90,
) -> NextShiftOut:
    """Everyone signed in: the next final shift of the user in any schedule within
    `horizon_days`."""
    return _next_shift(session, user_id, after or now, horizon_days, None)


@router.get("/schedules/{schedule_id}/next-shift", summary="A user's next shift in this schedule")
def schedule_next_shift(
    schedule_id: str,
    user_id: str,
    session: SessionDep,
    _: CurrentActor,
    now: NowDep,
    after: At = None,
    horizon_days: Horizon = 90,
) -> NextShiftOut:
    """Everyone signed in: the user's next final shift in this schedule within `horizon_days`."""
    schedules.get_schedule(session, schedule_id)
    return _next_shift(session, user_id, after or now, horizon_days, schedule_id)
