"""Schedules: layers with history, overrides, who is on call, timelines, next shifts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from api.deps import CurrentActor, NowDep, PageDep, SessionDep, SettingsDep
from api.routers import schedule_layers
from api.routers.schedule_views import At, layer_ids, layer_spec, schedule_out, shift_out
from api.schemas.people import ListOut, UserRef
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
from escalation import service as escalation
from people.models import User
from schedules import rows
from schedules import service as schedules
from schedules.models import Schedule
from store.audit import Actor

router = APIRouter(tags=["schedules"])
router.include_router(schedule_layers.router)

# --- schedules ---------------------------------------------------------------------------------


@router.post("/schedules", status_code=201, summary="Create a schedule")
def create_schedule(
    body: ScheduleIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep, now: NowDep
) -> ScheduleOut:
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
    return schedule_out(settings, _edit(schedule_id, body, session, actor, now), now)


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Delete a schedule")
def delete_schedule(schedule_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    schedules.delete_schedule(session, actor, schedule_id, used_by=escalation.policy_using_schedule)
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/rotate-ical", summary="Replace the calendar feed URL")
def rotate_ical(
    schedule_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep, now: NowDep
) -> ScheduleOut:
    return schedule_out(settings, schedules.rotate_feed_token(session, actor, schedule_id), now)


# --- who is on call ----------------------------------------------------------------------------


@router.get("/schedules/{schedule_id}/oncall", summary="Who is on call at `at` (default now)")
def on_call(
    schedule_id: str, session: SessionDep, _: CurrentActor, now: NowDep, at: At = None
) -> OnCallOut:
    when = at or now
    shift = schedules.on_call_shift(session, schedule_id, when)
    users: list[UserRef] = []
    if shift is not None:
        user = session.get(User, shift.user_id)
        users.append(UserRef(id=shift.user_id, name=user.name if user else "(deleted user)"))
    ids = layer_ids(session, schedule_id)
    return OnCallOut(at=when, users=users, shift=None if shift is None else shift_out(shift, ids))


@router.get("/schedules/{schedule_id}/timeline", summary="Final shifts, layers and gaps")
def timeline(
    schedule_id: str,
    session: SessionDep,
    _: CurrentActor,
    now: NowDep,
    since: At = None,
    until: Annotated[AwareDatetime | None, Query(description="default: `since` + 7 days")] = None,
    overflow: Annotated[bool, Query(description="whole shifts at the edges")] = False,
) -> TimelineOut:
    lo = since or now
    hi = until or lo + timedelta(days=7)
    result = schedules.schedule_timeline(session, schedule_id, lo, hi, overflow=overflow)
    ids = layer_ids(session, schedule_id)
    return TimelineOut(
        since=lo,
        until=hi,
        final=[shift_out(s, ids) for s in result.final],
        layers=[[shift_out(s, ids) for s in layer] for layer in result.layers],
        gaps=[GapOut(start=g.start, end=g.end) for g in result.gaps],
    )


Horizon = Annotated[int, Query(ge=1, le=365, description="how far ahead to look, in days")]


def _next_shift(
    session: Session, user_id: str, after: datetime, days: int, schedule_id: str | None
) -> NextShiftOut:
    found = schedules.next_shift_for_user(
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
    schedules.get_schedule(session, schedule_id)
    return _next_shift(session, user_id, after or now, horizon_days, schedule_id)
