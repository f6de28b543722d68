"""Who may do what: the one written rule. Every write path (API, web, CLI) checks it here.

The rule
========
* **Admin** (a user whose role is ``admin``, an admin token, the bootstrap token): everything.
* **The person themself**: their own profile (not their role), contact methods (add, confirm,
  enable, test, delete), notification rules, API tokens and calendar URL. These are the
  person's own: *nobody but the person and admins* touches them, a team manager included,
  since whoever controls someone's contact methods receives (and answers) their pages.
* **A team's manager**: the team's membership and everything the team owns: schedules (layers,
  overrides for anyone, imported calendars, the feed URL), escalation policies, services
  (settings, integration key, heartbeat monitors, support hours, maintenance windows).
* **A team's responder**: opens incidents on the team's services and acts on them
  (acknowledge, resolve, escalate); puts themself on call in the team's schedules (an
  override of their own).
* **A team's observer, anyone signed in**: reads; acts on an incident they were paged for.
* What belongs to no team (``team_id`` null) is managed by admins only.

Secrets are need-to-know: a person's calendar URL (a bearer credential) is shown to that
person and admins; a service's integration key and its heartbeat ping URLs to admins and the
owning team's managers (others see that they exist, not their values).

Each ``can_*`` answers a question (for pages that hide a button); each ``require_*`` raises
:class:`~store.errors.Forbidden` (403) with a sentence saying who may.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import TeamMembership, TeamRole
from store.audit import Actor
from store.errors import Forbidden

#: Team roles that manage what a team owns.
MANAGERS = (TeamRole.manager,)
#: Team roles that open and act on the team's incidents and put themselves on call.
RESPONDERS = (TeamRole.manager, TeamRole.responder)

__all__ = [
    "MANAGERS",
    "RESPONDERS",
    "can_manage_contacts",
    "can_manage_person",
    "can_manage_team",
    "can_respond",
    "can_see_team_secrets",
    "can_see_user_secrets",
    "has_team_role",
    "require_admin",
    "require_manage_contacts",
    "require_manage_person",
    "require_team_manager",
    "require_team_responder",
    "require_team_role",
    "team_role",
    "team_secrets_visible",
]


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only an admin may {what}")


# --- a person's own things -------------------------------------------------------------------


def can_manage_person(session: Session, actor: Actor, user_id: str) -> bool:
    """The person themself or an admin: profile, tokens, calendar URL."""
    return actor.is_admin or (actor.user_id is not None and actor.user_id == user_id)


def require_manage_person(session: Session, actor: Actor, user_id: str, what: str) -> None:
    if not can_manage_person(session, actor, user_id):
        raise Forbidden(f"only the person themself or an admin may {what}")


def can_manage_contacts(session: Session, actor: Actor, user_id: str) -> bool:
    """The person themself or an admin: contact methods and notification rules (never a team
    manager: whoever controls them receives and answers the person's pages)."""
    return can_manage_person(session, actor, user_id)


def require_manage_contacts(session: Session, actor: Actor, user_id: str, what: str) -> None:
    if not can_manage_contacts(session, actor, user_id):
        raise Forbidden(
            f"only the person themself or an admin may {what} "
            "(a team manager manages the team, not its members' contact details)"
        )


def can_see_user_secrets(actor: Actor, user_id: str) -> bool:
    """A person's calendar URL: that person and admins."""
    return actor.is_admin or (actor.user_id is not None and actor.user_id == user_id)


# --- teams -----------------------------------------------------------------------------------


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
    """Admins; otherwise a member of ``team_id`` with one of ``roles`` (no team: admins only)."""
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


def can_manage_team(session: Session, actor: Actor, team_id: str | None) -> bool:
    """Admins and the team's managers: membership and everything the team owns."""
    return has_team_role(session, actor, team_id, MANAGERS)


def require_team_manager(session: Session, actor: Actor, team_id: str | None, what: str) -> None:
    require_team_role(session, actor, team_id, MANAGERS, what)


def can_respond(session: Session, actor: Actor, team_id: str | None) -> bool:
    """Admins and the team's managers and responders: open and act on the team's incidents."""
    return has_team_role(session, actor, team_id, RESPONDERS)


def require_team_responder(session: Session, actor: Actor, team_id: str | None, what: str) -> None:
    require_team_role(session, actor, team_id, RESPONDERS, what)


def can_see_team_secrets(session: Session, actor: Actor, team_id: str | None) -> bool:
    """Integration keys and heartbeat ping URLs: admins and the owning team's managers."""
    return can_manage_team(session, actor, team_id)


def team_secrets_visible(session: Session, actor: Actor) -> Callable[[str | None], bool]:
    """:func:`can_see_team_secrets` for many rows at once: a test of a row's ``team_id``, with
    the teams the actor manages read once (for lists)."""
    if actor.is_admin:
        return lambda team_id: True
    managed: frozenset[str] = frozenset()
    if actor.user_id is not None:
        managed = frozenset(
            session.scalars(
                select(TeamMembership.team_id).where(
                    TeamMembership.user_id == actor.user_id,
                    TeamMembership.role.in_(MANAGERS),
                )
            )
        )
    return lambda team_id: team_id is not None and team_id in managed
