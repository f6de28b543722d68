"""API tokens. The secret is returned once, at creation; only its digest is stored."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import CurrentActor, NowDep, PageDep, SessionDep
from api.schemas.people import ListOut, TokenCreated, TokenIn, TokenOut
from people import service as people
from people.models import ApiToken
from store.pagination import paginate

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=201, summary="Create an API token")
def create_token(body: TokenIn, session: SessionDep, actor: CurrentActor) -> TokenCreated:
    """For yourself; admins also for others, admin tokens and tokens of no user. The secret is in
    this answer only (only its digest is stored)."""
    token, secret = people.create_token(
        session, actor, name=body.name, user_id=body.user_id, is_admin=body.admin
    )
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.get("/tokens", summary="List tokens (yours; all for admins)")
def list_tokens(session: SessionDep, actor: CurrentActor, page: PageDep) -> ListOut[TokenOut]:
    """Your tokens (admins: all), without their secrets."""
    stmt = select(ApiToken)
    if not actor.is_admin:
        stmt = stmt.where(ApiToken.user_id == actor.user_id)
    result = paginate(
        session, stmt, ApiToken.created_at, ApiToken.id, cursor=page.cursor, limit=page.limit
    )
    return ListOut(items=[TokenOut.model_validate(t) for t in result.items], next=result.next)


@router.delete("/tokens/{token_id}", summary="Revoke a token")
def revoke_token(token_id: str, session: SessionDep, actor: CurrentActor, now: NowDep) -> TokenOut:
    """The token's owner or an admin; it stops working at once."""
    return TokenOut.model_validate(people.revoke_token(session, actor, token_id, now))
