"""Teams and people: members and roles, inviting a person, deactivating one.

Who may is the people service's business: admins create teams, invite and deactivate people;
a team's managers change its members and their roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import commitments
from escalation.models import EscalationPolicy, Service
from paging.outbox import contact_notices
from people import directory, passwords, validation
from people import service as people
from people.access import can_manage_team
from people.models import TeamMembership, TeamRole, User, UserRole
from schedules.models import Schedule
from web import security
from web.deps import Form, Page, SessionDep, SignedIn
from web.desk.forms import Problems, name, refused
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ROLES = tuple(r.value for r in TeamRole)
Owned = TypeVar("Owned", Schedule, EscalationPolicy, Service)


def _memberships(session: Session) -> dict[str, list[tuple[str, TeamRole]]]:
    """``{user id: [(team name, role), ...]}`` for everyone."""
    rows = session.execute(
        select(TeamMembership.user_id, TeamMembership.team_id, TeamMembership.role)
    ).all()
    names = directory.team_names(session, {team_id for _, team_id, _ in rows})
    out: dict[str, list[tuple[str, TeamRole]]] = {}
    for user_id, team_id, role in rows:
        out.setdefault(user_id, []).append((names.get(team_id, "?"), role))
    return out


@router.get("/teams")
def team_list(page: SignedIn, session: SessionDep) -> Response:
    teams = directory.teams(session)
    counts: dict[str, int] = {}
    mine: dict[str, str] = {}
    assert page.user is not None
    for user_id, team_id, role in session.execute(
        select(TeamMembership.user_id, TeamMembership.team_id, TeamMembership.role)
    ):
        counts[team_id] = counts.get(team_id, 0) + 1
        if user_id == page.user.id:
            mine[team_id] = role.value
    return page.render("teams/list.html", teams=teams, counts=counts, mine=mine)


@router.post("/teams")
def create_team(page: SignedIn, form: Form, session: SessionDep) -> Response:
    problems = Problems()
    label = name(form.text("name"), "Team name", problems)
    if problems:
        return page.redirect("/teams", "Team not created. " + problems.text)
    created: list[str] = []
    problem = refused(
        session, lambda: created.append(people.create_team(session, page.actor, name=label).id)
    )
    if problem is not None:
        return page.redirect("/teams", f"Team not created: {problem}.")
    return page.redirect(f"/teams/{created[0]}", f"Team {label} created.")


def _owned(session: Session, model: type[Owned], team_id: str) -> list[Owned]:
    stmt = select(model).where(model.team_id == team_id).order_by(model.name)
    return list(session.scalars(stmt))


@router.get("/teams/{team_id}")
def team_page(team_id: str, page: SignedIn, session: SessionDep) -> Response:
    team = people.get_team(session, team_id)
    members = people.list_members(session, team_id)
    users = {u.id: u for u in directory.everyone(session, active_only=False)}
    member_ids = {m.user_id for m in members}
    return page.render(
        "teams/team.html",
        team=team,
        members=sorted(members, key=lambda m: users[m.user_id].name if m.user_id in users else ""),
        users=users,
        others=[u for u in users.values() if u.id not in member_ids],
        roles=ROLES,
        may_manage=can_manage_team(session, page.actor, team_id),
        schedules=list(
            session.scalars(
                select(Schedule).where(Schedule.team_id == team_id).order_by(Schedule.name)
            )
        ),
        policies=list(
            session.scalars(
                select(EscalationPolicy)
                .where(EscalationPolicy.team_id == team_id)
                .order_by(EscalationPolicy.name)
            )
        ),
        services=list(
            session.scalars(
                select(Service).where(Service.team_id == team_id).order_by(Service.name)
            )
        ),
    )


@router.post("/teams/{team_id}/members")
def set_member(team_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    """Add someone to the team, or change a member's role."""
    user_id, role = form.text("user_id"), form.text("role")
    back = f"/teams/{team_id}"
    if role not in ROLES or not user_id:
        return page.redirect(back, "Not changed: pick a person and a role.")
    problem = refused(
        session,
        lambda: people.add_member(
            session, page.actor, team_id, user_id=user_id, role=TeamRole(role)
        ),
    )
    if problem is not None:
        return page.redirect(back, f"Not changed: {problem}.")
    who = directory.names(session, [user_id]).get(user_id, "?")
    return page.redirect(back, f"{who} is a {role} of the team.")


@router.post("/teams/{team_id}/members/{user_id}/remove")
def remove_member(
    team_id: str, user_id: str, page: SignedIn, form: Form, session: SessionDep
) -> Response:
    people.remove_member(session, page.actor, team_id, user_id)
    who = directory.names(session, [user_id]).get(user_id, "?")
    return page.redirect(f"/teams/{team_id}", f"{who} is no longer in the team.")


# --- people ------------------------------------------------------------------------------------


def _people_page(
    session: Session, page: Page, problem: str | None = None, invite_link: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    return page.render(
        "teams/people.html",
        status=status,
        everyone=directory.everyone(session, active_only=False),
        memberships=_memberships(session),
        problem=problem,
        invite_link=invite_link,
        may_invite=page.is_admin,
        mail_on=page.settings.smtp_enabled,
    )


@router.get("/people")
def people_page(page: SignedIn, session: SessionDep) -> Response:
    return _people_page(session, page)


def invite_link(request: Request, page: Page, user: User, now: datetime) -> str:
    """The link that lets a new person choose their password (the reset-link mechanism, valid
    for a week)."""
    key = security.key(request.app.state, now, "password-reset")
    token = passwords.reset_token(key, user, now, passwords.INVITE_VALID_FOR)
    return f"{page.settings.public_url}/password/reset/{token}"


@router.post("/people/invite")
def invite(page: SignedIn, form: Form, session: SessionDep, request: Request) -> Response:
    problems = Problems()
    label = name(form.text("name"), "Name", problems)
    zone = form.text("time_zone") or page.zone
    try:
        validation.time_zone(zone)
    except ValueError as exc:
        problems.add(f"Time zone: {exc}.")
    role = UserRole.admin if form.text("role") == "admin" else UserRole.member
    if problems:
        return _people_page(session, page, problems.text, status=422)
    created: list[User] = []

    def create() -> None:
        user = people.create_user(
            session, page.actor, name=label, email=form.text("email"), time_zone=zone, role=role
        )
        session.flush()
        created.append(user)

    problem = refused(session, create)
    if problem is not None:
        return _people_page(session, page, f"Not invited: {problem}.", status=422)
    user = created[0]
    link = invite_link(request, page, user, page.now)
    inviter = page.user.name if page.user is not None else "An admin"
    contact_notices.send_invite(session, user, link, inviter, page.now)
    if page.settings.smtp_enabled:
        return page.redirect("/people", f"Invitation mailed to {user.email}.")
    return _people_page(session, page, invite_link=link)


@router.post("/people/{user_id}/deactivate")
def deactivate(user_id: str, page: SignedIn, form: Form, session: SessionDep) -> Response:
    """Through the same deactivation as ``DELETE /api/v1/users/{id}``: the past keeps the
    person's name, and it is refused while schedules or policies still need them."""
    if form.text("confirm") != "yes":
        return page.redirect("/people", "Not deactivated: tick the box to confirm.")
    who = directory.names(session, [user_id]).get(user_id, "?")
    problem = refused(
        session, lambda: commitments.deactivate_user(session, page.actor, user_id, page.now)
    )
    if problem is not None:
        return _people_page(session, page, f"{who} not deactivated: {problem}", status=409)
    return page.redirect(
        "/people", f"{who} is deactivated: they can no longer sign in or be paged."
    )
