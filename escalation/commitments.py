"""Deactivating a person: refused while a rotation, an override or an escalation target
still needs them, so that nobody is silently left without someone to page.

A 409 names every one of them (``references`` in the problem answer), so the lead can replace
the person there first. With nothing left, the user is deactivated, never erased: every past
timeline, override, incident log and audit entry keeps their name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.models import EscalationPolicy, EscalationTarget, EscalationTier, TargetType
from people import service as people
from people.access import require_admin
from people.models import User
from schedules.commitments import ScheduleNeed, what_needs
from store.audit import Actor
from store.errors import Conflict

__all__ = ["deactivate_user", "references"]


def _targets(session: Session, user_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(EscalationPolicy.id, EscalationPolicy.name, EscalationTier.position)
        .join(EscalationTier, EscalationTier.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.tier_id == EscalationTier.id)
        .where(EscalationTarget.type == TargetType.user, EscalationTarget.target_id == user_id)
        .order_by(EscalationPolicy.name, EscalationPolicy.id, EscalationTier.position)
        .distinct()
    ).all()
    return [
        {
            "type": "escalation_target",
            "policy_id": policy_id,
            "policy": name,
            "tier": position + 1,
            "description": f"tier {position + 1} of escalation policy '{name}'",
        }
        for policy_id, name, position in rows
    ]


def _rfc3339(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _schedule_reference(need: ScheduleNeed) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": need.kind,
        "schedule_id": need.schedule_id,
        "schedule": need.schedule,
        "description": need.describe(),
    }
    if need.kind == "rotation":
        found.update(layer_id=need.layer_id, layer=need.layer)
    else:
        found.update(override_id=need.override_id, start=_rfc3339(need.start))
        found.update(end=_rfc3339(need.end))
    return found


def references(session: Session, user_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every current or future rotation and override, and every escalation target, that
    still needs ``user_id``."""
    needs = [_schedule_reference(need) for need in what_needs(session, user_id, now)]
    return [*needs, *_targets(session, user_id)]


def deactivate_user(session: Session, actor: Actor, user_id: str, now: datetime) -> User:
    """Deactivate the user, or 409 naming everything that still needs them."""
    require_admin(actor, "deactivate users")
    user = people.get_user(session, user_id)
    found = references(session, user_id, now)
    if found:
        listed = "; ".join(ref["description"] for ref in found)
        raise Conflict(
            f"{user.name} is still needed by {listed}. Replace them there first.",
            references=found,
        )
    return people.deactivate_user(session, actor, user_id, now)
