"""Escalation policies."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentActor, PageDep, SessionDep
from api.openapi import problems
from api.schemas.escalation import PolicyIn, PolicyOut, TargetIO, TierIO
from api.schemas.people import ListOut
from escalation import service as escalation
from escalation.models import EscalationPolicy

router = APIRouter(tags=["escalation policies"])


def policy_out(policy: EscalationPolicy) -> PolicyOut:
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        team_id=policy.team_id,
        repeat=policy.repeat,
        created_at=policy.created_at,
        tiers=[
            TierIO(
                delay_seconds=tier.delay_seconds,
                targets=[TargetIO(type=t.type, id=t.target_id) for t in tier.targets],
            )
            for tier in policy.tiers
        ],
    )


def _tiers(body: PolicyIn) -> list[escalation.TierInput]:
    return [
        escalation.TierInput(t.delay_seconds, [(x.type, x.id) for x in t.targets])
        for t in body.tiers
    ]


@router.post("/escalation-policies", status_code=201, summary="Create an escalation policy")
def create_policy(body: PolicyIn, session: SessionDep, actor: CurrentActor) -> PolicyOut:
    """Admins, or the managers of `team_id`. Tier 1 is notified at once, tier 2 after tier 1's
    `delay_seconds`, and so on; then the policy starts again `repeat` more times."""
    policy = escalation.create_policy(
        session, actor, name=body.name, team_id=body.team_id, repeat=body.repeat, tiers=_tiers(body)
    )
    return policy_out(policy)


@router.get("/escalation-policies", summary="List escalation policies")
def list_policies(session: SessionDep, _: CurrentActor, page: PageDep) -> ListOut[PolicyOut]:
    """Everyone signed in."""
    result = escalation.list_policies(session, cursor=page.cursor, limit=page.limit)
    return ListOut(items=[policy_out(p) for p in result.items], next=result.next)


@router.get("/escalation-policies/{policy_id}", summary="Get an escalation policy")
def get_policy(policy_id: str, session: SessionDep, _: CurrentActor) -> PolicyOut:
    """Everyone signed in."""
    return policy_out(escalation.get_policy(session, policy_id))


@router.put("/escalation-policies/{policy_id}", summary="Replace a policy's name and tiers")
def replace_policy(
    policy_id: str, body: PolicyIn, session: SessionDep, actor: CurrentActor
) -> PolicyOut:
    """Admins and the policy team's managers. Open incidents keep their place (clamped to the new
    tiers)."""
    policy = escalation.replace_policy(
        session, actor, policy_id, name=body.name, repeat=body.repeat, tiers=_tiers(body)
    )
    return policy_out(policy)


@router.delete(
    "/escalation-policies/{policy_id}",
    status_code=204,
    summary="Delete a policy",
    responses=problems(409),
)
def delete_policy(policy_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """Admins and the policy team's managers; 409 while a service uses it."""
    escalation.delete_policy(session, actor, policy_id)
    return Response(status_code=204)
