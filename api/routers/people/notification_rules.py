"""A person's notification rules: which contact method, how long after being notified, for
which urgency, repeated how often."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentActor, SessionDep
from api.openapi import problems
from api.schemas.people import (
    ListOut,
    RuleIn,
    RuleOut,
    RulePatch,
)
from people import contacts

router = APIRouter()


@router.post(
    "/users/{user_id}/notification-rules",
    status_code=201,
    tags=["notification rules"],
    summary="Add a notification rule (the person or an admin)",
    responses=problems(409),
)
def create_rule(user_id: str, body: RuleIn, session: SessionDep, actor: CurrentActor) -> RuleOut:
    """The person themself or an admin (never a team manager): page this contact method
    `delay_seconds` after the person is notified, for incidents of this urgency."""
    rule = contacts.create_rule(
        session,
        actor,
        user_id,
        contact_method_id=body.contact_method_id,
        delay_seconds=body.delay_seconds,
        urgency=body.urgency,
        repeat_every_seconds=body.repeat_every_seconds,
        repeat_times=body.repeat_times,
    )
    return RuleOut.model_validate(rule)


@router.get(
    "/users/{user_id}/notification-rules",
    tags=["notification rules"],
    summary="A user's notification rules",
)
def list_rules(user_id: str, session: SessionDep, _: CurrentActor) -> ListOut[RuleOut]:
    """Everyone signed in."""
    rules = contacts.list_rules(session, user_id)
    return ListOut(items=[RuleOut.model_validate(r) for r in rules], next=None)


@router.patch(
    "/notification-rules/{rule_id}",
    tags=["notification rules"],
    summary="Change a notification rule (the person or an admin)",
)
def update_rule(rule_id: str, body: RulePatch, session: SessionDep, actor: CurrentActor) -> RuleOut:
    """The person themself or an admin (never a team manager): a rule's delay or urgency."""
    rule = contacts.update_rule(
        session, actor, rule_id, delay_seconds=body.delay_seconds, urgency=body.urgency
    )
    return RuleOut.model_validate(rule)


@router.delete(
    "/notification-rules/{rule_id}",
    status_code=204,
    tags=["notification rules"],
    summary="Delete a notification rule (the person or an admin)",
)
def delete_rule(rule_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """The person themself or an admin (never a team manager)."""
    contacts.delete_rule(session, actor, rule_id)
    return Response(status_code=204)
