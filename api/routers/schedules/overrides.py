"""Schedule overrides: someone on call over a span, over the layers (self-service for a team)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.openapi import problems
from api.schemas.people import ListOut
from api.schemas.schedule_conversions import override_out
from api.schemas.schedules import OverrideIn, OverrideOut
from api.types import At
from schedules import overrides

router = APIRouter(tags=["schedules"])


@router.post("/schedules/{schedule_id}/overrides", status_code=201, summary="Create an override")
def create_override(
    schedule_id: str, body: OverrideIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> OverrideOut:
    """Put `user_id` on call over [`start`, `end`). A team responder may put themself on call.
    A `start` in the past is 422 (a minute of grace for clock differences)."""
    override = overrides.create_override(
        session,
        actor,
        schedule_id,
        user_id=body.user_id,
        start=body.start,
        end=body.end,
        now=now,
    )
    return override_out(session, override)


@router.get("/schedules/{schedule_id}/overrides", summary="List overrides")
def list_overrides(
    schedule_id: str,
    session: SessionDep,
    _: CurrentActor,
    page: PageDep,
    since: At = None,
    until: At = None,
    user_id: str | None = None,
) -> ListOut[OverrideOut]:
    """Everyone signed in: overrides meeting [`since`, `until`), optionally of one user."""
    result = overrides.list_overrides(
        session,
        schedule_id,
        since=since,
        until=until,
        user_id=user_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    return ListOut(items=[override_out(session, o) for o in result.items], next=result.next)


@router.get("/schedules/{schedule_id}/overrides/{override_id}", summary="Get an override")
def get_override(
    schedule_id: str, override_id: str, session: SessionDep, _: CurrentActor
) -> OverrideOut:
    """Everyone signed in."""
    return override_out(session, overrides.get_override(session, schedule_id, override_id))


@router.delete(
    "/schedules/{schedule_id}/overrides/{override_id}",
    summary="Cancel an override (one that has started is cut short at now)",
    response_model=OverrideOut,
    responses={204: {"description": "removed (it had not started)"}, **problems(409)},
)
def delete_override(
    schedule_id: str, override_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> Any:
    """Admins and the team's managers, or the person the override puts on call. One that has not
    started is removed (204); one that has started is cut short at now (200); one that is over is
    history (409)."""
    truncated = overrides.delete_override(session, actor, schedule_id, override_id, now=now)
    if truncated is None:
        return Response(status_code=204)
    return override_out(session, truncated)
