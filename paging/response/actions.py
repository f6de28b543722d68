"""Acting on an incident: acknowledge, resolve, escalate. Every path comes through here.

The API, SMS codes, voice digits, email links and events all call ``act``, so the rules (who
may act, what is already done) live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation import rules, step
from escalation.models import Incident, IncidentStatus
from escalation.rules import Action
from paging.engine import wake
from paging.outbox.models import Notification
from paging.response import notify
from people.access import can_respond
from people.models import User
from people.service import is_active
from store.audit import Actor
from store.errors import Conflict, Forbidden


@dataclass(frozen=True)
class ActResult:
    incident: Incident
    changed: bool  # False when it was already in that state (acknowledging twice)


def was_paged(session: Session, incident_id: str, user_id: str) -> bool:
    found = session.scalar(
        select(Notification.id)
        .where(Notification.incident_id == incident_id, Notification.user_id == user_id)
        .limit(1)
    )
    return found is not None


def may_act(session: Session, actor: Actor, incident: Incident) -> bool:
    """Admins; managers and responders of the service's team; anyone paged for it. Never a
    deactivated user (an SMS from their number, a key on a call, a link in their mail)."""
    if actor.user_id is not None and not is_active(session.get(User, actor.user_id)):
        return False
    if actor.is_admin:
        return True
    service = incident_rows.service_of(session, incident)
    if can_respond(session, actor, service.team_id):
        return True
    return actor.user_id is not None and was_paged(session, incident.id, actor.user_id)


def available(session: Session, actor: Actor, incident: Incident) -> frozenset[Action]:
    """What ``actor`` may do to ``incident`` now (the buttons a page shows); ``act`` enforces
    the same rules whatever a client sends."""
    if incident.status is IncidentStatus.resolved or not may_act(session, actor, incident):
        return frozenset()
    found = {Action.resolve}
    if rules.can_acknowledge(incident.status):
        found.add(Action.acknowledge)
    policy = notify.load_policy(session, incident)
    if step.next_position(policy, step.clamp(policy, step.Position(incident.loop, incident.tier))):
        found.add(Action.escalate)
    return frozenset(found)


def act(
    session: Session,
    incident_id: str,
    action: Action,
    actor: Actor,
    *,
    via: str,
    now: datetime,
    check_permission: bool = True,
) -> ActResult:
    incident = incident_rows.get_incident(session, incident_id, lock=True)
    if check_permission and not may_act(session, actor, incident):
        raise Forbidden("only admins, the service's team responders or people paged may act")
    if incident.status is IncidentStatus.resolved:
        raise Conflict(f"incident #{incident.number} is already resolved")
    if action is Action.acknowledge:
        return ActResult(incident, acknowledge(session, incident, actor.label, via, now))
    if action is Action.resolve:
        resolve(session, incident, actor.label, via, now)
        return ActResult(incident, True)
    escalate_now(session, incident, actor.label, via, now)
    return ActResult(incident, True)


def acknowledge(session: Session, incident: Incident, by: str, via: str, now: datetime) -> bool:
    if not rules.can_acknowledge(incident.status):
        return False
    service = incident_rows.service_of(session, incident)
    incident.status = IncidentStatus.acknowledged
    incident.acknowledged_at = now
    incident.acknowledged_by = by
    incident.updated_at = now
    incident.next_escalation_at = None
    if service.acknowledgement_timeout_seconds:
        incident.ack_timeout_at = now + timedelta(seconds=service.acknowledgement_timeout_seconds)
    cancelled = notify.cancel_pending(session, incident, now)
    incident_rows.log(
        session,
        incident,
        "acknowledged",
        f"Acknowledged by {by} via {via}",
        now,
        by=by,
        via=via,
        cancelled_notifications=cancelled,
    )
    wake.request(session)
    return True


def resolve(session: Session, incident: Incident, by: str, via: str, now: datetime) -> None:
    incident.status = IncidentStatus.resolved
    incident.resolved_at = now
    incident.resolved_by = by
    incident.updated_at = now
    incident.next_escalation_at = None
    incident.ack_timeout_at = None
    incident.auto_resolve_at = None
    cancelled = notify.cancel_pending(session, incident, now)
    incident_rows.log(
        session,
        incident,
        "resolved",
        f"Resolved by {by} via {via}",
        now,
        by=by,
        via=via,
        cancelled_notifications=cancelled,
    )


def escalate_now(session: Session, incident: Incident, by: str, via: str, now: datetime) -> None:
    policy = notify.load_policy(session, incident)
    here = step.clamp(policy, step.Position(incident.loop, incident.tier))
    if step.next_position(policy, here) is None:
        raise Conflict(f"incident #{incident.number} is already at the last tier")
    incident_rows.log(
        session, incident, "escalate_requested", f"Escalation requested by {by} via {via}", now
    )
    if incident.status is IncidentStatus.acknowledged:
        incident.status = IncidentStatus.triggered
        incident.ack_timeout_at = None
    notify.cancel_pending(session, incident, now)
    incident.updated_at = now
    notify.advance(session, incident, now, forced=True)


def acknowledgement_timed_out(session: Session, incident: Incident, now: datetime) -> None:
    """Acknowledged for too long: triggered again, escalation resumes where it was."""
    incident.status = IncidentStatus.triggered
    incident.ack_timeout_at = None
    incident.updated_at = now
    incident.epoch += 1
    incident_rows.log(
        session, incident, "ack_timeout", "Acknowledgement timed out; triggered again", now
    )
    policy = notify.load_policy(session, incident)
    here = step.clamp(policy, step.Position(incident.loop, incident.tier))
    notify.notify_from(session, incident, policy, here, now, now)


def auto_resolve(session: Session, incident: Incident, now: datetime) -> None:
    resolve(session, incident, "Watchbill", "auto-resolve timeout", now)
