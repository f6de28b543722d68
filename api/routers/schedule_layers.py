"""Schedule layers and overrides: edits with history, self-service overrides."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.openapi import problems
from api.routers.schedule_views import (
    At,
    layer_out,
    layer_spec,
    override_out,
    restriction_specs,
    version_fields,
)
from api.schemas.people import ListOut
from api.schemas.schedules import (
    HoldoverOut,
    LayerCreate,
    LayerOut,
    LayerPatch,
    LayerVersionOut,
    OverrideIn,
    OverrideOut,
)
from schedules import layers, overrides, rows
from schedules import service as schedules

router = APIRouter(tags=["schedules"])

# --- layers ------------------------------------------------------------------------------------


@router.post("/schedules/{schedule_id}/layers", status_code=201, summary="Add a top layer")
def add_layer(
    schedule_id: str, body: LayerCreate, session: SessionDep, actor: CurrentActor, now: NowDep
) -> LayerOut:
    """Admins and the schedule team's managers. The new layer goes on top (it wins where it has
    someone on call) from `effective_from` (default now)."""
    layer = layers.add_layer(
        session, actor, schedule_id, layer_spec(body), now=now, effective_from=body.effective_from
    )
    tz = ZoneInfo(layer.schedule.time_zone)
    return layer_out(layer, body.effective_from or now, tz)


@router.patch("/schedules/{schedule_id}/layers/{layer_id}", summary="Edit a layer from an instant")
def patch_layer(
    schedule_id: str,
    layer_id: str,
    body: LayerPatch,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
) -> LayerOut:
    """Admins and the schedule team's managers. The change takes effect from `effective_from`
    (default now, never in the past); the timeline before stays as it was. Whoever is on call
    keeps their shift unless `keep_current` is false."""
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True,
        exclude={"effective_from", "keep_current", "rotation", "restrictions", "users"},
    )
    for required in ("name", "start"):  # null means "unchanged" for these
        if changes.get(required, ...) is None:
            del changes[required]
    if body.users is not None:
        changes["users"] = tuple(body.users)
    if body.rotation is not None:
        changes.update(
            handoff=body.rotation.handoff,
            shift_length=body.rotation.shift_length,
            shift_unit=body.rotation.shift_unit,
        )
    if body.restrictions is not None:
        changes["restrictions"] = restriction_specs(body.restrictions)
    layer = layers.update_layer(
        session,
        actor,
        schedule_id,
        layer_id,
        changes,
        now=now,
        effective_from=body.effective_from,
        keep_current=body.keep_current,
    )
    return layer_out(layer, body.effective_from or now, ZoneInfo(layer.schedule.time_zone))


@router.delete(
    "/schedules/{schedule_id}/layers/{layer_id}", status_code=204, summary="End a layer from `at`"
)
def end_layer(
    schedule_id: str,
    layer_id: str,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
    at: At = None,
) -> Response:
    """Admins and the schedule team's managers. The layer covers nobody from `at` (default now);
    its history stays."""
    layers.end_layer(session, actor, schedule_id, layer_id, now=now, at=at)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/layers/{layer_id}/versions", summary="A layer's history")
def layer_versions(
    schedule_id: str, layer_id: str, session: SessionDep, _: CurrentActor
) -> ListOut[LayerVersionOut]:
    """Everyone signed in: each version of the layer and when it took effect."""
    tz = ZoneInfo(schedules.get_schedule(session, schedule_id).time_zone)
    items = []
    for row in layers.layer_history(session, schedule_id, layer_id):
        version = rows.version_of(row)
        hold = version.holdover
        items.append(
            LayerVersionOut(
                id=row.id,
                effective_from=row.effective_from,
                created_at=row.created_at,
                created_by=row.created_by,
                holdover=None
                if hold is None
                else HoldoverOut(user_id=hold.user_id, until=hold.until),
                **version_fields(version, tz),
            )
        )
    return ListOut(items=items, next=None)


# --- overrides ---------------------------------------------------------------------------------


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
