"""Schedule layers: add, edit from an instant, end, read the history (edits keep the past)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response

from api.deps import CurrentActor, NowDep, SessionDep
from api.schemas.people import ListOut
from api.schemas.schedule_conversions import (
    layer_out,
    layer_spec,
    restriction_specs,
    version_fields,
)
from api.schemas.schedules import (
    HoldoverOut,
    LayerCreate,
    LayerOut,
    LayerPatch,
    LayerVersionOut,
)
from api.types import At
from schedules import layers, rows
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
