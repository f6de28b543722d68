"""When a service pages: maintenance windows and support hours (severity → urgency)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.openapi import problems
from api.schemas.events import (
    MaintenanceEnd,
    MaintenanceIn,
    MaintenanceOut,
    SupportHoursIn,
    SupportHoursOut,
    WindowIO,
)
from api.schemas.people import ListOut
from escalation import hours
from paging.intake import maintenance, support_hours
from paging.intake.models import MaintenanceWindow, SupportHoursRow

router = APIRouter(tags=["maintenance and support hours"])

WINDOWS = "/services/{service_id}/maintenance-windows"
SUPPORT = "/services/{service_id}/support-hours"


def window_out(window: MaintenanceWindow, now: datetime) -> MaintenanceOut:
    return MaintenanceOut(
        id=window.id,
        service_id=window.service_id,
        start=window.starts_at,
        end=window.ends_at,
        page_on_end=window.page_on_end,
        description=window.description,
        active=window.closed_at is None and maintenance.is_active(window, now),
        created_by=window.created_by,
        ended_by=window.ended_by,
        closed_at=window.closed_at,
        created_at=window.created_at,
    )


@router.post(WINDOWS, status_code=201, summary="Start or schedule a maintenance window")
def create_window(
    service_id: str, body: MaintenanceIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> MaintenanceOut:
    """Events during the window open incidents (logged) but page no one. Without ``end`` the
    window lasts until it is ended."""
    window = maintenance.create_window(
        session,
        actor,
        service_id,
        starts_at=body.start,
        ends_at=body.end,
        page_on_end=body.page_on_end,
        description=body.description,
        now=now,
    )
    return window_out(window, now)


@router.get(WINDOWS, summary="List a service's maintenance windows, newest first")
def list_windows(
    service_id: str, session: SessionDep, _: CurrentActor, page: PageDep, now: NowDep
) -> ListOut[MaintenanceOut]:
    """Everyone signed in."""
    result = maintenance.list_windows(session, service_id, cursor=page.cursor, limit=page.limit)
    return ListOut(items=[window_out(w, now) for w in result.items], next=result.next)


@router.get(WINDOWS + "/{window_id}", summary="Get a maintenance window")
def get_window(
    service_id: str, window_id: str, session: SessionDep, _: CurrentActor, now: NowDep
) -> MaintenanceOut:
    """Everyone signed in."""
    return window_out(maintenance.get_window(session, service_id, window_id), now)


@router.post(
    WINDOWS + "/{window_id}/end", summary="End a maintenance window now", responses=problems(409)
)
def end_window(
    service_id: str,
    window_id: str,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
    body: MaintenanceEnd | None = None,
) -> MaintenanceOut:
    """Incidents opened during it stay unpaged unless ``page_on_end`` (here or on the window)."""
    window = maintenance.end_window(
        session,
        actor,
        service_id,
        window_id,
        now,
        page_on_end=body.page_on_end if body else None,
    )
    return window_out(window, now)


@router.delete(
    WINDOWS + "/{window_id}",
    status_code=204,
    summary="Delete a future window",
    responses=problems(409),
)
def delete_window(
    service_id: str, window_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> Response:
    """Admins and the service team's managers: a window that has not started (a started one is
    ended, 409)."""
    maintenance.delete_window(session, actor, service_id, window_id, now)
    return Response(status_code=204)


# --- support hours -------------------------------------------------------------------------


def support_out(row: SupportHoursRow, now: datetime) -> SupportHoursOut:
    spec = support_hours.spec_of(row)
    return SupportHoursOut(
        service_id=row.service_id,
        time_zone=row.time_zone,
        windows=[WindowIO.model_validate(w) for w in row.windows],
        urgency_during=row.urgency_during,
        urgency_outside=row.urgency_outside,
        in_support_hours=hours.inside(spec, now),
        next_start=hours.next_start(spec, now),
        updated_at=row.updated_at,
    )


@router.put(SUPPORT, summary="Set a service's support hours and urgency by severity")
def put_support_hours(
    service_id: str, body: SupportHoursIn, session: SessionDep, actor: CurrentActor, now: NowDep
) -> SupportHoursOut:
    """Low-urgency incidents opened outside support hours are paged when they next begin."""
    row = support_hours.put(
        session,
        actor,
        service_id,
        time_zone=body.time_zone,
        windows=[support_hours.WindowInput(w.days, w.start, w.end) for w in body.windows],
        urgency_during=body.urgency_during,
        urgency_outside=body.urgency_outside,
        now=now,
    )
    return support_out(row, now)


@router.get(SUPPORT, summary="A service's support hours")
def get_support_hours(
    service_id: str, session: SessionDep, _: CurrentActor, now: NowDep
) -> SupportHoursOut:
    """Everyone signed in; 404 when the service has none."""
    return support_out(support_hours.get(session, service_id), now)


@router.delete(SUPPORT, status_code=204, summary="Remove a service's support hours")
def delete_support_hours(service_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """Admins and the service team's managers: back to the default urgency of each severity."""
    support_hours.delete(session, actor, service_id)
    return Response(status_code=204)
