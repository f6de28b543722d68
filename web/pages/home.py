"""Home: who is on call now everywhere, my current and next shift, my open incidents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import service as escalation
from escalation.models import EscalationPolicy, TargetType
from paging import incident_lists
from people import service as people
from people.models import User
from schedules import service as schedules
from schedules.model import Shift
from schedules.models import Schedule
from web.deps import SessionDep, SignedIn
from web.desk import coverage as desk_coverage
from web.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
POLICIES_SHOWN = 200


@dataclass(frozen=True)
class OnCallRow:
    schedule: Schedule
    user_id: str | None


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
    schedule: Schedule
    shift: Shift


def names_of(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _policies(
    policies: Iterable[EscalationPolicy], on_call: dict[str, str | None], names: dict[str, str]
) -> list[PolicyRow]:
    """Each policy's tiers with who each would page right now."""
    rows: list[PolicyRow] = []
    for policy in policies:
        tiers = []
        for tier in policy.tiers:
            who: list[str] = []
            for target in tier.targets:
                if target.type is TargetType.user:
                    who.append(names.get(target.target_id, "(removed user)"))
                else:
                    user_id = on_call.get(target.target_id)
                    who.append(names.get(user_id, "?") if user_id else "nobody on call")
            tiers.append(TierRow(tier.position + 1, tier.delay_seconds, who))
        rows.append(PolicyRow(policy.name, tiers))
    return rows


@router.get("/")
def home(page: SignedIn, session: SessionDep) -> Response:
    me = page.user
    assert me is not None
    now = page.now
    everywhere = schedules.on_call_in_every_schedule(session, now)
    on_call = {schedule.id: user_id for schedule, user_id in everywhere}
    by_id = {schedule.id: schedule for schedule, _ in everywhere}
    policies = escalation.list_policies(session, cursor=None, limit=POLICIES_SHOWN)
    targets = {
        target.target_id
        for policy in policies.items
        for tier in policy.tiers
        for target in tier.targets
        if target.type is TargetType.user
    }
    names = names_of(session, {u for u in on_call.values() if u} | targets)
    current = []
    for schedule_id, user_id in on_call.items():
        if user_id == me.id:
            shift = schedules.on_call_shift(session, schedule_id, now)
            if shift is not None:
                current.append(MyShift(by_id[schedule_id], shift))
    upcoming = schedules.next_shift_for_user(session, me.id, now)
    next_shift = (
        MyShift(by_id[upcoming.schedule_id], upcoming.shift)
        if upcoming is not None and upcoming.schedule_id in by_id
        else None
    )
    team_ids = people.team_ids_of(session, me.id)
    return page.render(
        "home/home.html",
        incidents=incident_lists.my_open_incidents(session, me.id, team_ids),
        on_call=[OnCallRow(schedule, user_id) for schedule, user_id in everywhere],
        names=names,
        policies=_policies(policies.items, on_call, names),
        more_policies=policies.next is not None,
        current=current,
        next_shift=next_shift,
        coverage=desk_coverage.for_manager(session, me.id, page.zone, now),  # the lead's desk
    )
