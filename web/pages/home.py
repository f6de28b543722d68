"""Home: who is on call now everywhere, my current and next shift, my open incidents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import service as escalation
from escalation.models import TargetType
from paging.response import incident_lists
from people import service as people
from people.models import User
from schedules import queries
from schedules.core.values import Shift
from web.deps import SessionDep, SignedIn
from web.desk import coverage as desk_coverage
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
POLICIES_SHOWN = 200


@dataclass(frozen=True)
class TierRow:
    number: int
    delay_seconds: int
    names: list[str]


@dataclass(frozen=True)
class PolicyRow:
    name: str
    tiers: list[TierRow]


@dataclass(frozen=True)
class MyShift:
    schedule: queries.OnCallNow
    shift: Shift


def names_of(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _policies(
    policies: Iterable[escalation.PolicyLevels],
    on_call: dict[str, str | None],
    names: dict[str, str],
) -> list[PolicyRow]:
    """Each policy's levels with who each would page right now."""
    rows: list[PolicyRow] = []
    for policy in policies:
        tiers = []
        for level in policy.levels:
            who: list[str] = []
            for kind, target_id in level.targets:
                if kind is TargetType.user:
                    who.append(names.get(target_id, "(removed user)"))
                else:
                    user_id = on_call.get(target_id)
                    who.append(names.get(user_id, "?") if user_id else "nobody on call")
            tiers.append(TierRow(level.number, level.delay_seconds, who))
        rows.append(PolicyRow(policy.name, tiers))
    return rows


@router.get("/")
def home(page: SignedIn, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    now = page.now
    everywhere = queries.on_call_in_every_schedule(session, now)
    on_call = {row.schedule_id: row.user_id for row in everywhere}
    by_id = {row.schedule_id: row for row in everywhere}
    policies, more_policies = escalation.policy_levels(session, POLICIES_SHOWN)
    targets = {
        target_id
        for policy in policies
        for level in policy.levels
        for kind, target_id in level.targets
        if kind is TargetType.user
    }
    names = names_of(session, {u for u in on_call.values() if u} | targets)
    current = []
    for row in everywhere:
        if row.user_id == me.id:
            shift = queries.on_call_shift(session, row.schedule_id, now)
            if shift is not None:
                current.append(MyShift(row, shift))
    upcoming = queries.next_shift_for_user(session, me.id, now)
    next_shift = (
        MyShift(by_id[upcoming.schedule_id], upcoming.shift)
        if upcoming is not None and upcoming.schedule_id in by_id
        else None
    )
    team_ids = people.team_ids_of(session, me.id)
    return page.render(
        "home/home.html",
        incidents=incident_lists.my_open_incidents(session, me.id, team_ids),
        on_call=everywhere,
        names=names,
        policies=_policies(policies, on_call, names),
        more_policies=more_policies,
        current=current,
        next_shift=next_shift,
        coverage=desk_coverage.for_manager(session, me.id, page.zone, now),  # the lead's desk
    )
