"""Coverage warnings for a manager's teams (the home page): in the next 14 days, when nobody
will be on call in their schedules, and when a level of their escalation policies reaches
nobody. Computed by the schedule core and the engine's own resolution
(``paging.response.reach``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import service as escalation
from escalation.models import EscalationPolicy
from paging.response import reach
from people import directory
from schedules.coverage import HORIZON, gaps_ahead
from schedules.models import Schedule
from web.desk.timeline import Painter

#: At most this many warnings per schedule or policy (the page links to the rest).
EACH = 3


@dataclass(frozen=True)
class Warning:
    what: str
    where: str
    href: str
    text: str


def for_manager(session: Session, user_id: str, zone: str, now: datetime) -> list[Warning]:
    """Warnings for the schedules and policies of the teams ``user_id`` manages."""
    teams = directory.managed_team_ids(session, user_id)
    if not teams:
        return []
    words = Painter(now, now + HORIZON, zone, {}, [], {})
    found: list[Warning] = []
    schedules = session.scalars(
        select(Schedule).where(Schedule.team_id.in_(teams)).order_by(Schedule.name)
    )
    for schedule in schedules:
        for gap in gaps_ahead(session, schedule.id, now)[:EACH]:
            found.append(
                Warning("Nobody on call", schedule.name, f"/schedules/{schedule.id}",
                        words.span(gap.start, gap.end))
            )  # fmt: skip
    policies = session.scalars(
        select(EscalationPolicy)
        .where(EscalationPolicy.team_id.in_(teams))
        .order_by(EscalationPolicy.name)
    )
    for policy in policies:
        spec = escalation.policy_spec(policy)
        for tier_gap in reach.tiers_reaching_nobody(session, spec, now, now + HORIZON)[:EACH]:
            found.append(
                Warning(f"Level {tier_gap.tier} reaches nobody", policy.name,
                        f"/policies/{policy.id}", words.span(tier_gap.start, tier_gap.end))
            )  # fmt: skip
    return found
