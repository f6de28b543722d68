"""Services: what incidents belong to, with their escalation policy and integration key."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.schemas.escalation import ServiceIn, ServiceOut, ServicePatch
from api.schemas.people import ListOut
from escalation import service as escalation
from escalation.models import Service
from paging.intake.trigger import change_policy
from people.access import can_see_team_secrets, team_secrets_visible

router = APIRouter(tags=["services"])


def service_out(service: Service, shows_key: bool) -> ServiceOut:
    """The service; its integration key only when ``shows_key`` (see :mod:`people.access`)."""
    return ServiceOut(
        id=service.id,
        name=service.name,
        team_id=service.team_id,
        escalation_policy_id=service.escalation_policy_id,
        integration_key=service.integration_key if shows_key else None,
        has_integration_key=bool(service.integration_key),
        acknowledgement_timeout_seconds=service.acknowledgement_timeout_seconds,
        auto_resolve_timeout_seconds=service.auto_resolve_timeout_seconds,
        created_at=service.created_at,
    )


@router.post("/services", status_code=201, summary="Create a service")
def create_service(body: ServiceIn, session: SessionDep, actor: CurrentActor) -> ServiceOut:
    """Admins, or the managers of `team_id`. The answer holds the integration key events are sent
    with."""
    service = escalation.create_service(
        session,
        actor,
        name=body.name,
        escalation_policy_id=body.escalation_policy_id,
        team_id=body.team_id,
        acknowledgement_timeout_seconds=body.acknowledgement_timeout_seconds,
        auto_resolve_timeout_seconds=body.auto_resolve_timeout_seconds,
    )
    return service_out(service, can_see_team_secrets(session, actor, service.team_id))


@router.get("/services", summary="List services")
def list_services(session: SessionDep, actor: CurrentActor, page: PageDep) -> ListOut[ServiceOut]:
    """Everyone signed in; `integration_key` is null except for admins and the owning team's
    managers."""
    result = escalation.list_services(session, cursor=page.cursor, limit=page.limit)
    shows = team_secrets_visible(session, actor)
    return ListOut(items=[service_out(s, shows(s.team_id)) for s in result.items], next=result.next)


@router.get("/services/{service_id}", summary="Get a service")
def get_service(service_id: str, session: SessionDep, actor: CurrentActor) -> ServiceOut:
    """Everyone signed in; `integration_key` is null except for admins and the owning team's
    managers."""
    service = escalation.get_service(session, service_id)
    return service_out(service, can_see_team_secrets(session, actor, service.team_id))


@router.patch("/services/{service_id}", summary="Edit a service")
def update_service(
    service_id: str, body: ServicePatch, session: SessionDep, actor: CurrentActor, now: NowDep
) -> ServiceOut:
    """Changing the escalation policy restarts its open incidents at tier 1 of the new one."""
    service, policy_changed = escalation.update_service(
        session, actor, service_id, body.model_dump(exclude_unset=True)
    )
    if policy_changed:
        change_policy(session, service, now)
    return service_out(service, can_see_team_secrets(session, actor, service.team_id))


@router.post("/services/{service_id}/rotate-key", summary="Replace the integration key")
def rotate_key(service_id: str, session: SessionDep, actor: CurrentActor) -> ServiceOut:
    """Admins and the service team's managers: the old key stops working at once."""
    service = escalation.rotate_integration_key(session, actor, service_id)
    return service_out(service, shows_key=True)  # only those who may see it may rotate it
