"""Looking people and teams up for pages: names by id, everyone to pick from (queries only)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Team, TeamMembership, TeamRole, User

#: The most people a picker lists (an organisation larger than this types an e-mail instead).
PICKER_LIMIT = 2000


def names(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """``{user id: name}`` for the ids that exist."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def everyone(session: Session, *, active_only: bool = True) -> list[User]:
    """People who can be put on call or paged, by name (with ``active_only=False``, the
    deactivated too: their names stay in the past)."""
    stmt = select(User).order_by(User.name, User.id).limit(PICKER_LIMIT)
    if active_only:
        stmt = stmt.where(User.deactivated_at.is_(None))
    return list(session.scalars(stmt))


def teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def team_names(session: Session, team_ids: Iterable[str | None]) -> dict[str, str]:
    ids = {i for i in team_ids if i}
    if not ids:
        return {}
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))
    return {team_id: name for team_id, name in rows}


def member_ids(session: Session, team_id: str | None) -> list[str]:
    """The team's members (none for no team)."""
    if team_id is None:
        return []
    stmt = select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)
    return list(session.scalars(stmt))


def managed_team_ids(session: Session, user_id: str | None) -> list[str]:
    """The teams ``user_id`` manages."""
    if user_id is None:
        return []
    stmt = select(TeamMembership.team_id).where(
        TeamMembership.user_id == user_id, TeamMembership.role == TeamRole.manager
    )
    return list(session.scalars(stmt))
