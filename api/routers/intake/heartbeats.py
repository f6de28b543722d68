"""Heartbeat monitors: CRUD under a service, and the ping URL (no bearer token)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from api.deps import CurrentActor, NowDep, PageDep, SessionDep, SettingsDep
from api.openapi import problems
from api.schemas.events import HeartbeatIn, HeartbeatOut, HeartbeatPatch, PingOut
from api.schemas.people import ListOut
from escalation.service import get_service
from paging.intake import heartbeats
from paging.intake.models import Heartbeat
from people.access import can_see_team_secrets
from store.audit import Actor
from store.settings import Settings

#: Under ``/api/v1`` (bearer token).
router = APIRouter(tags=["heartbeats"])
#: At the root: what a cron job or a script calls.
ping_router = APIRouter(tags=["heartbeats"])


def _shows_url(session: Session, actor: Actor, service_id: str) -> bool:
    service = get_service(session, service_id)
    return can_see_team_secrets(session, actor, service.team_id)


def heartbeat_out(settings: Settings, heartbeat: Heartbeat, shows_url: bool) -> HeartbeatOut:
    """The monitor; its ping URL only when ``shows_url`` (see :mod:`people.access`)."""
    return HeartbeatOut(
        id=heartbeat.id,
        service_id=heartbeat.service_id,
        name=heartbeat.name,
        interval_seconds=heartbeat.interval_seconds,
        grace_seconds=heartbeat.grace_seconds,
        state=heartbeats.state(heartbeat),
        ping_url=f"{settings.public_url}/heartbeats/{heartbeat.token}" if shows_url else None,
        last_ping_at=heartbeat.last_ping_at,
        next_due_at=heartbeat.next_due_at,
        created_at=heartbeat.created_at,
    )


BASE = "/services/{service_id}/heartbeats"


@router.post(BASE, status_code=201, summary="Create a heartbeat monitor", responses=problems(409))
def create_heartbeat(
    service_id: str,
    body: HeartbeatIn,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    now: NowDep,
) -> HeartbeatOut:
    """The monitor arms at its first ping; after that, a missed interval opens an incident."""
    heartbeat = heartbeats.create(
        session,
        actor,
        service_id,
        name=body.name,
        interval_seconds=body.interval_seconds,
        grace_seconds=body.grace_seconds,
        now=now,
    )
    return heartbeat_out(settings, heartbeat, shows_url=True)  # its creator manages the service


@router.get(BASE, summary="List a service's heartbeat monitors")
def list_heartbeats(
    service_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep, page: PageDep
) -> ListOut[HeartbeatOut]:
    """Everyone signed in; `ping_url` is null except for admins and the owning team's managers."""
    result = heartbeats.list_for(session, service_id, cursor=page.cursor, limit=page.limit)
    shows = _shows_url(session, actor, service_id)
    return ListOut(
        items=[heartbeat_out(settings, h, shows) for h in result.items], next=result.next
    )


@router.get(BASE + "/{heartbeat_id}", summary="Get a heartbeat monitor")
def get_heartbeat(
    service_id: str,
    heartbeat_id: str,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
) -> HeartbeatOut:
    """Everyone signed in; `ping_url` is null except for admins and the owning team's managers."""
    heartbeat = heartbeats.get(session, service_id, heartbeat_id)
    return heartbeat_out(settings, heartbeat, _shows_url(session, actor, service_id))


@router.patch(BASE + "/{heartbeat_id}", summary="Edit a heartbeat monitor", responses=problems(409))
def update_heartbeat(
    service_id: str,
    heartbeat_id: str,
    body: HeartbeatPatch,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
) -> HeartbeatOut:
    """Admins and the service team's managers."""
    changes = body.model_dump(exclude_unset=True)
    heartbeat = heartbeats.update(session, actor, service_id, heartbeat_id, changes)
    return heartbeat_out(settings, heartbeat, shows_url=True)


@router.post(BASE + "/{heartbeat_id}/rotate-token", summary="Replace the ping URL")
def rotate_heartbeat_token(
    service_id: str,
    heartbeat_id: str,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
) -> HeartbeatOut:
    """Admins and the service team's managers: the old ping URL stops working at once."""
    heartbeat = heartbeats.rotate_token(session, actor, service_id, heartbeat_id)
    return heartbeat_out(settings, heartbeat, shows_url=True)


@router.delete(BASE + "/{heartbeat_id}", status_code=204, summary="Delete a heartbeat monitor")
def delete_heartbeat(
    service_id: str, heartbeat_id: str, session: SessionDep, actor: CurrentActor
) -> Response:
    """Admins and the service team's managers."""
    heartbeats.delete(session, actor, service_id, heartbeat_id)
    return Response(status_code=204)


@ping_router.post(
    "/heartbeats/{token}",
    summary="Ping a heartbeat monitor (the URL is the credential)",
    responses={404: {"description": "no monitor has this URL"}},
)
def ping(token: str, session: SessionDep, now: NowDep) -> PingOut:
    """Records the ping; a monitor that had missed is up again and its incident resolved."""
    heartbeat = heartbeats.ping(session, token, now)
    return PingOut(heartbeat=heartbeat.name, next_due_at=heartbeat.next_due_at)
