"""Who an escalation policy would page: tier by tier right now, and when a tier reaches nobody.

Both answers use the engine's own resolution (:func:`paging.response.tier_people.reach` turns a
tier's targets into people, a schedule being whoever is on call in it, each with the notification
rules that would page them, and says why anyone named cannot be paged), so what a page shows
is what the engine would do for an incident opened at that instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from escalation import step
from paging.response import tier_people
from people.models import Urgency
from schedules import queries
from schedules.core.values import Shift
from store.errors import NotFound

__all__ = ["Reached", "TierGap", "TierNow", "Way", "paged_now", "tiers_reaching_nobody"]


@dataclass(frozen=True)
class Way:
    """One notification rule the engine would use: channel, address, delay after notifying."""

    channel: str
    address: str
    delay_seconds: int


@dataclass(frozen=True)
class Reached:
    user_id: str
    name: str
    ways: tuple[Way, ...]


@dataclass(frozen=True)
class TierNow:
    number: int
    delay_seconds: int
    people: tuple[Reached, ...]  # who the engine would page
    unreached: tuple[str, ...]  # everyone (or every schedule) it names but cannot page, and why

    @property
    def reaches_nobody(self) -> bool:
        return not self.people


@dataclass(frozen=True)
class TierGap:
    """Tier ``tier`` (1-based) would reach nobody over ``[start, end)``."""

    tier: int
    start: datetime
    end: datetime


def paged_now(
    session: Session, policy: step.Policy, at: datetime, urgency: Urgency = Urgency.high
) -> list[TierNow]:
    """Each tier's people as the engine would notify them at ``at``."""
    tiers: list[TierNow] = []
    for number, tier in enumerate(policy.tiers, start=1):
        found = tier_people.reach(session, tier, urgency, at)
        people = tuple(
            Reached(
                person.id,
                person.name,
                tuple(Way(r.channel.value, r.address, r.delay_seconds) for r in rules),
            )
            for person, rules in found.people
        )
        reasons = tuple(u.reason for u in found.unreached)
        tiers.append(TierNow(number, tier.delay_seconds, people, reasons))
    return tiers


def _complement(
    covered: Iterable[tuple[datetime, datetime]], since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    gaps: list[tuple[datetime, datetime]] = []
    cursor = since
    for start, end in sorted(covered):
        if start > cursor:
            gaps.append((cursor, min(start, until)))
        cursor = max(cursor, end)
        if cursor >= until:
            break
    if cursor < until:
        gaps.append((cursor, until))
    return [(s, e) for s, e in gaps if s < e]


def _final(
    session: Session, schedule_id: str, since: datetime, until: datetime
) -> tuple[Shift, ...]:
    try:
        return queries.schedule_timeline(session, schedule_id, since, until).final
    except NotFound:  # a schedule deleted since: nobody is on call in it
        return ()


def tiers_reaching_nobody(
    session: Session,
    policy: step.Policy,
    since: datetime,
    until: datetime,
    urgency: Urgency = Urgency.high,
) -> list[TierGap]:
    """When, over ``[since, until)``, each tier would reach nobody: its people have no way to
    be reached, and its schedules nobody on call (or only people who cannot be reached)."""
    finals = {
        target.id: _final(session, target.id, since, until)
        for tier in policy.tiers
        for target in tier.targets
        if target.type == "schedule"
    }
    everyone = {t.id for tier in policy.tiers for t in tier.targets if t.type == "user"}
    everyone |= {shift.user_id for final in finals.values() for shift in final}
    named = step.Tier(0, tuple(step.Target("user", user_id) for user_id in sorted(everyone)))
    reachable = {
        person.id for person, _ in tier_people.reach(session, named, urgency, since).people
    }
    found: list[TierGap] = []
    for number, tier in enumerate(policy.tiers, start=1):
        covered: list[tuple[datetime, datetime]] = []
        for target in tier.targets:
            if target.type == "user":
                if target.id in reachable:
                    covered.append((since, until))
            else:
                covered.extend(
                    (s.start, s.end) for s in finals[target.id] if s.user_id in reachable
                )
        found.extend(TierGap(number, s, e) for s, e in _complement(covered, since, until))
    return found
