"""Escalation policies: the list, a policy with "who would be paged right now", the editor."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import service as escalation
from escalation import step
from escalation.models import EscalationPolicy
from paging.response import reach
from people import directory
from people.models import User
from schedules.coverage import HORIZON
from schedules.models import Schedule
from store.errors import Forbidden
from web.deps import Fields, Form, Page, SessionDep, SignedIn
from web.desk import policy_form as pf
from web.desk.forms import Problems, button, refused
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SHOWN = 200


def team_choices(session: Session, page: Page, current: str | None = None) -> list[tuple[str, str]]:
    """Teams whose policies the person may create or move to (``""``: no team, admins)."""
    actor = page.actor
    out = [("", "No team")] if escalation.can_manage(session, actor, None) else []
    for team in directory.teams(session):
        if team.id == current or escalation.can_manage(session, actor, team.id):
            out.append((team.id, team.name))
    return out


def _targets(session: Session) -> tuple[list[User], list[Schedule]]:
    schedules = list(session.scalars(select(Schedule).order_by(Schedule.name)))
    return directory.everyone(session), schedules


def _labels(people: Sequence[User], schedules: Sequence[Schedule]) -> dict[str, str]:
    labels = {f"user:{u.id}": u.name for u in people}
    labels.update({f"schedule:{s.id}": f"{s.name} (schedule)" for s in schedules})
    return labels


@router.get("/policies")
def policy_list(page: SignedIn, session: SessionDep) -> Response:
    found = escalation.list_policies(session, cursor=None, limit=SHOWN)
    people, schedules = _targets(session)
    return page.render(
        "policies/list.html",
        policies=found.items,
        more=found.next is not None,
        labels=_labels(people, schedules),
        teams=directory.team_names(session, [p.team_id for p in found.items]),
        may_create=bool(team_choices(session, page)),
    )


def _now(session: Session, page: Page, policy: step.Policy | None) -> list[reach.TierNow]:
    return [] if policy is None else reach.paged_now(session, policy, page.now)


@router.get("/policies/new")
def new_policy(page: SignedIn, session: SessionDep) -> Response:
    choices = team_choices(session, page)
    if not choices:
        raise Forbidden("only an admin or a team manager may create escalation policies")
    draft = pf.PolicyDraft(name="", team_id=choices[0][0])
    return _render(session, page, draft, None)


@router.post("/policies/new")
def new_policy_post(page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _handle(session, page, form, None)


@router.get("/policies/{policy_id}")
def policy_page(policy_id: str, page: SignedIn, session: SessionDep) -> Response:
    policy = escalation.get_policy(session, policy_id)
    spec = escalation.policy_spec(policy)
    people, schedules = _targets(session)
    return page.render(
        "policies/policy.html",
        policy=policy,
        team=directory.team_names(session, [policy.team_id]).get(policy.team_id or ""),
        labels=_labels(people, schedules),
        paged=_now(session, page, spec),
        gaps=reach.tiers_reaching_nobody(session, spec, page.now, page.now + HORIZON),
        services=escalation.services_using(session, policy_id),
        may_edit=escalation.can_manage(session, page.actor, policy.team_id),
    )


def _render(
    session: Session,
    page: Page,
    draft: pf.PolicyDraft,
    policy: EscalationPolicy | None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    people, schedules = _targets(session)
    problems = Problems()
    repeat, tiers = pf.tier_inputs(draft, problems)
    return page.render(
        "policies/editor.html",
        status=status,
        draft=draft,
        policy=policy,
        people=people,
        schedules=schedules,
        labels=_labels(people, schedules),
        teams=team_choices(session, page, policy.team_id if policy else None),
        paged=_now(session, page, pf.step_policy(repeat, tiers)),
        problem=problem,
        action=f"/policies/{policy.id}/edit" if policy else "/policies/new",
    )


def _handle(
    session: Session, page: Page, form: Fields, policy: EscalationPolicy | None
) -> Response:
    draft = pf.parse(form)
    op, args = button(form)
    if op != "save":
        return _render(session, page, draft, policy, pf.apply(draft, op, args, form))
    problems = Problems()
    repeat, tiers = pf.tier_inputs(draft, problems)
    if problems:
        return _render(session, page, draft, policy, problems.text, 422)
    saved: list[EscalationPolicy] = []

    def save() -> None:
        if policy is None:
            saved.append(
                escalation.create_policy(
                    session, page.actor, name=draft.name, team_id=draft.team_id or None,
                    repeat=repeat, tiers=tiers,
                )
            )  # fmt: skip
        else:
            saved.append(
                escalation.replace_policy(
                    session, page.actor, policy.id, name=draft.name, repeat=repeat, tiers=tiers
                )
            )

    problem = refused(session, save)
    if problem is not None:
        return _render(session, page, draft, policy, pf.humane(problem), 422)
    return page.redirect(f"/policies/{saved[0].id}", f"Policy {draft.name} saved.")


@router.get("/policies/{policy_id}/edit")
def edit_policy(policy_id: str, page: SignedIn, session: SessionDep) -> Response:
    policy = escalation.get_policy(session, policy_id)
    if not escalation.can_manage(session, page.actor, policy.team_id):  # saving checks again
        raise Forbidden("only an admin or a team manager may edit this escalation policy")
    return _render(session, page, pf.of_policy(policy), policy)


@router.post("/policies/{policy_id}/edit")
def edit_policy_post(policy_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    return _handle(session, page, form, escalation.get_policy(session, policy_id))


@router.post("/policies/{policy_id}/delete")
def delete_policy(policy_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    policy = escalation.get_policy(session, policy_id)
    name = policy.name
    if form.text("confirm") != "yes":
        return page.redirect(f"/policies/{policy_id}", "Not deleted: tick the box to confirm.")
    problem = refused(session, lambda: escalation.delete_policy(session, page.actor, policy_id))
    if problem is not None:
        return page.redirect(f"/policies/{policy_id}", f"Not deleted: {problem}.")
    return page.redirect("/policies", f"Policy {name} deleted.")
