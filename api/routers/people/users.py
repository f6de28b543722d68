"""Users: accounts, profiles, passwords, deactivation, calendar addresses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import urls
from api.deps import CurrentActor, NowDep, PageDep, SessionDep, SettingsDep
from api.openapi import problems
from api.schemas.people import (
    ListOut,
    PasswordIn,
    UserIn,
    UserOut,
    UserPatch,
)
from escalation import commitments
from people import passwords
from people import service as people
from people.access import can_see_user_secrets
from people.models import User
from store.audit import Actor
from store.errors import NotFound
from store.settings import Settings

router = APIRouter(tags=["users"])


def user_out(settings: Settings, user: User, actor: Actor) -> UserOut:
    """The user as ``actor`` may see them: the calendar URL only for themself and admins."""
    ical = (
        urls.user_feed(settings, user.ical_token) if can_see_user_secrets(actor, user.id) else None
    )
    return UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        time_zone=user.time_zone,
        role=user.role,
        quiet_start=user.quiet_start,
        quiet_end=user.quiet_end,
        ical_url=ical,
        webcal_url=None if ical is None else urls.webcal(ical),
        created_at=user.created_at,
        active=user.deactivated_at is None,
        deactivated_at=user.deactivated_at,
    )


@router.post("/users", status_code=201, summary="Create a user (admin)", responses=problems(409))
def create_user(
    body: UserIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """Admins only. The e-mail address is unique; the time zone is an IANA name. The answer
    carries the user's calendar URL (shown to that user and admins only)."""
    user = people.create_user(
        session, actor, name=body.name, email=body.email, time_zone=body.time_zone, role=body.role
    )
    return user_out(settings, user, actor)


@router.get("/users", summary="List users (`email` finds one by address)")
def list_users(
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    page: PageDep,
    email: Annotated[
        str | None, Query(max_length=320, description="only the user with this e-mail address")
    ] = None,
) -> ListOut[UserOut]:
    """Everyone signed in. `ical_url`/`webcal_url` are null except for yourself (admins see all)."""
    result = people.list_users(session, cursor=page.cursor, limit=page.limit, email=email)
    return ListOut(items=[user_out(settings, u, actor) for u in result.items], next=result.next)


@router.get("/users/me", summary="The user the token belongs to", responses=problems(404))
def me(session: SessionDep, actor: CurrentActor, settings: SettingsDep) -> UserOut:
    """404 for a token that belongs to no user (an admin token or the bootstrap token)."""
    if actor.user_id is None:
        raise NotFound("this token does not belong to a user")
    return user_out(settings, people.get_user(session, actor.user_id), actor)


@router.get("/users/{user_id}", summary="Get a user")
def get_user(
    user_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """Everyone signed in. `ical_url`/`webcal_url` are null except for yourself (admins see all)."""
    return user_out(settings, people.get_user(session, user_id), actor)


@router.patch("/users/{user_id}", summary="Edit a profile (self or admin)", responses=problems(409))
def update_user(
    user_id: str, body: UserPatch, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """The person themself or an admin; only an admin changes a role. A field left out keeps its
    value; `null` is refused for name, email, time zone and role, and clears quiet hours."""
    changes = body.model_dump(exclude_unset=True)
    user = people.update_user(session, actor, user_id, changes)
    return user_out(settings, user, actor)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Deactivate a user (admin)",
    responses=problems(c409="rotations, overrides or escalation targets still need them"),
)
def delete_user(user_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> Response:
    """Deactivate the user: they can no longer sign in, use a token or be paged, and the past
    keeps their name. Refused (409, with ``references``) while a current or future rotation,
    override or escalation target still needs them: replace them there first."""
    commitments.deactivate_user(session, actor, user_id, now)
    return Response(status_code=204)


@router.put(
    "/users/{user_id}/password",
    status_code=204,
    summary="Set a web sign-in password (the user or an admin)",
)
def set_password(
    user_id: str, body: PasswordIn, session: SessionDep, actor: CurrentActor
) -> Response:
    """The user or an admin; the user's web sessions end (they sign in with the new one)."""
    passwords.set_password(session, actor, user_id, body.password)
    return Response(status_code=204)


@router.post("/users/{user_id}/rotate-ical", summary="Replace the user's calendar feed URL")
def rotate_ical(
    user_id: str, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> UserOut:
    """The person themself or an admin: the old calendar URL stops working at once."""
    return user_out(settings, people.rotate_user_feed(session, actor, user_id), actor)
