"""Users, teams, memberships and API tokens. Functions take a session; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from people import tokens, validation
from people.access import require_admin, require_manage_person, require_team_manager
from people.models import ApiToken, Team, TeamMembership, TeamRole, User, UserRole, new_feed_token
from store import audit
from store.audit import Actor
from store.errors import Conflict, Forbidden, Invalid, NotFound
from store.pagination import Page, paginate

PROFILE_FIELDS = frozenset({"name", "email", "time_zone", "quiet_start", "quiet_end"})


def _validated(field: str, fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except ValueError as exc:
        raise Invalid(field, str(exc)) from exc


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def user_names(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """Names by id, in one query (ids of no user are left out)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def list_users(
    session: Session, *, cursor: str | None, limit: int, email: str | None = None
) -> Page[User]:
    """Users, oldest first; ``email`` finds the one with that address (case-insensitive)."""
    stmt = select(User)
    if email is not None:
        stmt = stmt.where(func.lower(User.email) == email.strip().lower())
    return paginate(session, stmt, User.created_at, User.id, cursor=cursor, limit=limit)


def create_user(
    session: Session, actor: Actor, *, name: str, email: str, time_zone: str, role: UserRole
) -> User:
    require_admin(actor, "create users")
    name = _validated("name", validation.display_name, name)
    email = _validated("email", validation.email, email)
    _validated("time_zone", validation.time_zone, time_zone)
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with email {email} exists already")
    user = User(name=name, email=email, time_zone=time_zone, role=role)
    session.add(user)
    audit.record(session, actor, "create", user, None)
    return user


def update_user(session: Session, actor: Actor, user_id: str, changes: dict[str, Any]) -> User:
    """Anyone may edit their own profile; only admins change roles or others' profiles."""
    user = get_user(session, user_id)
    require_manage_person(session, actor, user_id, "edit a profile")
    if "role" in changes:
        require_admin(actor, "change a role")
    before = audit.snapshot(user)
    if "email" in changes:
        changes["email"] = _validated("email", validation.email, changes["email"])
        other = find_user_by_email(session, changes["email"])
        if other is not None and other.id != user_id:
            raise Conflict(f"a user with email {changes['email']} exists already")
    if "time_zone" in changes:
        _validated("time_zone", validation.time_zone, changes["time_zone"])
    for key in ("quiet_start", "quiet_end"):
        if changes.get(key) is not None:
            _validated(key, validation.local_time, changes[key])
    quiet = (changes.get("quiet_start", user.quiet_start), changes.get("quiet_end", user.quiet_end))
    if (quiet[0] is None) != (quiet[1] is None):
        raise Invalid("quiet_start", "quiet_start and quiet_end are set together")
    for key, value in changes.items():
        setattr(user, key, value)
    audit.record(session, actor, "update", user, before)
    return user


def is_active(user: User | None) -> bool:
    """Whether the user exists and is not deactivated (may act, may be paged)."""
    return user is not None and user.deactivated_at is None


def may_sign_in(user: User | None) -> bool:
    """Whether this user may sign in (web UI) or authenticate (API token): a deactivated user
    may not. Every sign-in and authentication path asks this."""
    return is_active(user)


def deactivate_user(session: Session, actor: Actor, user_id: str, now: datetime) -> User:
    """Deactivate a user: the row stays (the past keeps their name) but they can no longer
    sign in, use their tokens or be paged. Whether anything still needs them is the caller's
    question (``escalation.commitments``). Deactivating twice changes nothing."""
    require_admin(actor, "deactivate users")
    user = get_user(session, user_id)
    if user.deactivated_at is not None:
        return user
    before = audit.snapshot(user)
    user.deactivated_at = now
    audit.record(session, actor, "deactivate", user, before)
    return user


def require_active(session: Session, user_ids: dict[str, str]) -> None:
    """``user_ids`` maps user id → the field naming it: unknown or deactivated ones are 422."""
    if not user_ids:
        return
    rows = session.execute(select(User.id, User.deactivated_at).where(User.id.in_(list(user_ids))))
    found = {user_id: deactivated for user_id, deactivated in rows}
    for user_id, field in user_ids.items():
        if user_id not in found:
            raise Invalid(field, f"no user {user_id!r}")
        if found[user_id] is not None:
            raise Invalid(field, f"user {user_id!r} is deactivated")


def rotate_user_feed(session: Session, actor: Actor, user_id: str) -> User:
    user = get_user(session, user_id)
    require_manage_person(session, actor, user_id, "rotate a calendar URL")
    user.ical_token = new_feed_token()
    audit.record(session, actor, "rotate_feed", user, None, after=None)
    return user


# --- teams ---------------------------------------------------------------------------------


def get_team(session: Session, team_id: str) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id!r}")
    return team


def list_teams(session: Session, *, cursor: str | None, limit: int) -> Page[Team]:
    return paginate(session, select(Team), Team.created_at, Team.id, cursor=cursor, limit=limit)


def create_team(session: Session, actor: Actor, *, name: str) -> Team:
    require_admin(actor, "create teams")
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict(f"a team named {name!r} exists already")
    team = Team(name=name)
    session.add(team)
    audit.record(session, actor, "create", team, None)
    return team


def list_members(session: Session, team_id: str) -> list[TeamMembership]:
    get_team(session, team_id)
    stmt = select(TeamMembership).where(TeamMembership.team_id == team_id)
    return list(session.scalars(stmt.order_by(TeamMembership.created_at)))


def add_member(
    session: Session, actor: Actor, team_id: str, *, user_id: str, role: TeamRole
) -> TeamMembership:
    get_team(session, team_id)
    require_team_manager(session, actor, team_id, "change team members")
    if session.get(User, user_id) is None:
        raise Invalid("user_id", f"no user {user_id!r}")
    membership = session.scalar(
        select(TeamMembership).where(
            TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
        )
    )
    before = audit.snapshot(membership) if membership else None
    if membership is None:
        membership = TeamMembership(team_id=team_id, user_id=user_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    audit.record(session, actor, "update" if before else "create", membership, before)
    return membership


def remove_member(session: Session, actor: Actor, team_id: str, user_id: str) -> None:
    require_team_manager(session, actor, team_id, "change team members")
    membership = session.scalar(
        select(TeamMembership).where(
            TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound(f"user {user_id!r} is not a member of team {team_id!r}")
    audit.record(session, actor, "delete", membership, audit.snapshot(membership), after=None)
    session.delete(membership)


def team_ids_of(session: Session, user_id: str, roles: tuple[TeamRole, ...] = ()) -> list[str]:
    """The teams a user belongs to (with one of ``roles``, when given)."""
    stmt = select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)
    if roles:
        stmt = stmt.where(TeamMembership.role.in_(roles))
    return list(session.scalars(stmt))


# --- tokens --------------------------------------------------------------------------------


def create_token(
    session: Session, actor: Actor, *, name: str, user_id: str | None, is_admin: bool = False
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret, which is never stored nor shown again.

    Members create tokens for themselves. Only admins create tokens for others, admin tokens
    or tokens not tied to a user.
    """
    if user_id is None:
        user_id = actor.user_id
    if user_id is None and not actor.is_admin:
        raise Forbidden("a token must belong to a user")
    if (user_id != actor.user_id or is_admin) and not actor.is_admin:
        raise Forbidden("only an admin may create tokens for others or admin tokens")
    if user_id is not None and session.get(User, user_id) is None:
        raise Invalid("user_id", f"no user {user_id!r}")
    if user_id is None:
        is_admin = True
    secret = tokens.generate()
    token = ApiToken(
        name=name, user_id=user_id, is_admin=is_admin, token_hash=tokens.digest(secret)
    )
    session.add(token)
    audit.record(session, actor, "create", token, None)
    return token, secret


def list_tokens(session: Session, user_id: str) -> list[ApiToken]:
    """A user's own tokens, newest first (revoked ones too)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id)
    return list(session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id)))


def revoke_token(session: Session, actor: Actor, token_id: str, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id!r}")
    if not actor.is_admin and token.user_id != actor.user_id:
        raise Forbidden("only the owner or an admin may revoke a token")
    before = audit.snapshot(token)
    token.revoked_at = now
    audit.record(session, actor, "revoke", token, before)
    return token


def authenticate(session: Session, secret: str) -> Actor | None:
    """The actor a bearer token stands for, or None."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(secret)))
    if (
        token is None
        or token.revoked_at is not None
        or not tokens.matches(secret, token.token_hash)
    ):
        return None
    if token.user_id is None:
        return Actor(user_id=None, is_admin=True, label=f"token:{token.name}")
    user = session.get(User, token.user_id)
    if user is None or not may_sign_in(user):
        return None
    is_admin = token.is_admin or user.role == UserRole.admin
    return Actor(user_id=user.id, is_admin=is_admin, label=f"user:{user.email}")
