"""Teams and memberships."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentActor, PageDep, SessionDep
from api.openapi import problems
from api.schemas.people import ListOut, MemberIn, MemberOut, TeamIn, TeamOut
from people import service as people
from people.models import TeamMembership

router = APIRouter(tags=["teams"])


@router.post("/teams", status_code=201, summary="Create a team (admin)", responses=problems(409))
def create_team(body: TeamIn, session: SessionDep, actor: CurrentActor) -> TeamOut:
    """Admins only; team names are unique."""
    team = people.create_team(session, actor, name=body.name)
    return TeamOut(id=team.id, name=team.name, created_at=team.created_at)


@router.get("/teams", summary="List teams")
def list_teams(session: SessionDep, _: CurrentActor, page: PageDep) -> ListOut[TeamOut]:
    """Everyone signed in."""
    result = people.list_teams(session, cursor=page.cursor, limit=page.limit)
    items = [TeamOut(id=t.id, name=t.name, created_at=t.created_at) for t in result.items]
    return ListOut(items=items, next=result.next)


@router.get("/teams/{team_id}", summary="Get a team")
def get_team(team_id: str, session: SessionDep, _: CurrentActor) -> TeamOut:
    """Everyone signed in."""
    team = people.get_team(session, team_id)
    return TeamOut(id=team.id, name=team.name, created_at=team.created_at)


@router.post("/teams/{team_id}/members", status_code=201, summary="Add or change a member")
def add_member(team_id: str, body: MemberIn, session: SessionDep, actor: CurrentActor) -> MemberOut:
    """Admins and the team's managers; adding someone who is a member already changes their role."""
    membership = people.add_member(session, actor, team_id, user_id=body.user_id, role=body.role)
    return _member_out(membership, people.user_names(session, [membership.user_id]))


@router.get("/teams/{team_id}/members", summary="List members")
def list_members(team_id: str, session: SessionDep, _: CurrentActor) -> ListOut[MemberOut]:
    """Everyone signed in."""
    members = people.list_members(session, team_id)
    names = people.user_names(session, [m.user_id for m in members])
    return ListOut(items=[_member_out(m, names) for m in members], next=None)


def _member_out(membership: TeamMembership, names: dict[str, str]) -> MemberOut:
    out = MemberOut.model_validate(membership)
    out.user_name = names.get(membership.user_id)
    return out


@router.delete("/teams/{team_id}/members/{user_id}", status_code=204, summary="Remove a member")
def remove_member(team_id: str, user_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """Admins and the team's managers."""
    people.remove_member(session, actor, team_id, user_id)
    return Response(status_code=204)
