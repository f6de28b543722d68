"""Who may do what. Roles: admin (everything); team manager, responder, observer; self."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import TeamMembership, TeamRole
from store.audit import Actor
from store.errors import Forbidden


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only an admin may {what}")


def team_role(session: Session, user_id: str | None, team_id: str) -> TeamRole | None:
    if user_id is None:
        return None
    return session.scalar(
        select(TeamMembership.role).where(
            TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
        )
    )


def has_team_role(
    session: Session, actor: Actor, team_id: str | None, roles: Iterable[TeamRole]
) -> bool:
    if actor.is_admin:
        return True
    if team_id is None:
        return False
    return team_role(session, actor.user_id, team_id) in set(roles)


def require_team_role(
    session: Session, actor: Actor, team_id: str | None, roles: Iterable[TeamRole], what: str
) -> None:
    roles = tuple(roles)
    if not has_team_role(session, actor, team_id, roles):
        names = " or ".join(r.value for r in roles)
        raise Forbidden(f"only an admin or a team {names} may {what}")


def manages_user(session: Session, actor: Actor, user_id: str) -> bool:
    """True for admins, and for a manager of a team the user belongs to."""
    if actor.is_admin:
        return True
    if actor.user_id is None:
        return False
    managed_teams = select(TeamMembership.team_id).where(
        TeamMembership.user_id == actor.user_id, TeamMembership.role == TeamRole.manager
    )
    found = session.scalar(
        select(TeamMembership.id)
        .where(TeamMembership.user_id == user_id, TeamMembership.team_id.in_(managed_teams))
        .limit(1)
    )
    return found is not None


def require_self_or_manager(session: Session, actor: Actor, user_id: str, what: str) -> None:
    if actor.user_id == user_id or manages_user(session, actor, user_id):
        return
    raise Forbidden(f"only the user, an admin or their team manager may {what}")
