"""Services: what incidents belong to, with their escalation policy and integration key."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.schemas.escalation import ServiceIn, ServiceOut, ServicePatch
from api.schemas.people import ListOut
from escalation import service as escalation
from paging import intake

router = APIRouter(tags=["services"])


@router.post("/services", status_code=201, summary="Create a service")
def create_service(body: ServiceIn, session: SessionDep, actor: CurrentActor) -> ServiceOut:
    service = escalation.create_service(
        session,
        actor,
        name=body.name,
        escalation_policy_id=body.escalation_policy_id,
        team_id=body.team_id,
        acknowledgement_timeout_seconds=body.acknowledgement_timeout_seconds,
        auto_resolve_timeout_seconds=body.auto_resolve_timeout_seconds,
    )
    return ServiceOut.model_validate(service)


@router.get("/services", summary="List services")
def list_services(session: SessionDep, _: CurrentActor, page: PageDep) -> ListOut[ServiceOut]:
    result = escalation.list_services(session, cursor=page.cursor, limit=page.limit)
    return ListOut(items=[ServiceOut.model_validate(s) for s in result.items], next=result.next)


@router.get("/services/{service_id}", summary="Get a service")
def get_service(service_id: str, session: SessionDep, _: CurrentActor) -> ServiceOut:
    return ServiceOut.model_validate(escalation.get_service(session, service_id))


@router.patch("/services/{service_id}", summary="Edit a service")
def update_service(
    service_id: str, body: ServicePatch, session: SessionDep, actor: CurrentActor, now: NowDep
) -> ServiceOut:
    """Changing the escalation policy restarts its open incidents at tier 1 of the new one."""
    service, policy_changed = escalation.update_service(
        session, actor, service_id, body.model_dump(exclude_unset=True)
    )
    if policy_changed:
        intake.change_policy(session, service, now)
    return ServiceOut.model_validate(service)


@router.post("/services/{service_id}/rotate-key", summary="Replace the integration key")
def rotate_key(service_id: str, session: SessionDep, actor: CurrentActor) -> ServiceOut:
    return ServiceOut.model_validate(escalation.rotate_integration_key(session, actor, service_id))
