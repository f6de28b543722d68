"""Escalation in the database: notify a tier's people, step on when due.

Notifying a tier turns targets into people (a schedule target is whoever is on call in it at
that moment) and people into outbox rows, one per notification rule for the incident's urgency,
keyed by (incident, epoch, loop, tier, person, rule) so a step can never be enqueued twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Result, Select, Table, and_, bindparam, select, update
from sqlalchemy.orm import Session

from escalation import hours, step
from escalation import incidents as incident_rows
from escalation.models import (
    EscalationPolicy,
    EscalationTarget,
    EscalationTier,
    Incident,
    IncidentStatus,
    TargetType,
)
from paging import wake
from paging.models import Notification, NotificationStatus
from people.models import ContactMethod, ContactType, NotificationRule, Urgency, User
from schedules import service as schedules
from schedules.models import Schedule

_policies = cast(Table, EscalationPolicy.__table__)
_tiers = cast(Table, EscalationTier.__table__)
_targets = cast(Table, EscalationTarget.__table__)
#: A policy with its tiers and targets in one query (not three ORM loads): every new incident
#: loads its policy, so this is on the hot path of events in.
_POLICY = (
    select(_policies.c.repeat, _tiers.c.position, _tiers.c.delay_seconds, _targets.c.type)
    .add_columns(_targets.c.target_id)
    .select_from(
        _policies.join(_tiers, _tiers.c.policy_id == _policies.c.id).outerjoin(
            _targets, _targets.c.tier_id == _tiers.c.id
        )
    )
    .where(_policies.c.id == bindparam("b_policy"))
    .order_by(_tiers.c.position, _targets.c.position)
)


def _core(
    session: Session, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
) -> Result[*tuple[Any, ...]]:
    """A Core query on the session's connection, past the ORM's execution machinery (these
    run for every new incident). Pending changes are flushed first, as ``session.execute``
    would, unless autoflush is off: a batch that reads nothing it left pending."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


def load_policy(session: Session, incident: Incident) -> step.Policy:
    rows = _core(session, _POLICY, {"b_policy": incident.policy_id}).all()
    if not rows:
        raise LookupError(f"escalation policy {incident.policy_id} of incident {incident.id}")
    tiers: dict[int, tuple[int, list[step.Target]]] = {}
    for _, position, delay, kind, target_id in rows:
        _, targets = tiers.setdefault(position, (delay, []))
        if kind is not None:
            targets.append(step.Target(TargetType(kind).value, target_id))
    return step.Policy(
        tiers=tuple(step.Tier(delay, tuple(targets)) for delay, targets in tiers.values()),
        repeat=rows[0][0],
    )


_users = cast(Table, User.__table__)
_rules = cast(Table, NotificationRule.__table__)
_methods = cast(Table, ContactMethod.__table__)
_usable = _rules.join(
    _methods, and_(_methods.c.id == _rules.c.contact_method_id, _methods.c.enabled.is_(True))
)
#: People with every notification rule that has an enabled contact method (none: one row of
#: NULLs), in one query for a whole tier: this too is on the hot path of events in.
_PEOPLE = (
    select(_users.c.id, _users.c.name, _users.c.time_zone, _users.c.quiet_start)
    .add_columns(_users.c.quiet_end, _rules.c.id, _rules.c.delay_seconds, _rules.c.urgency)
    .add_columns(_methods.c.id, _methods.c.type, _methods.c.address, _methods.c.sms_opted_out)
    .select_from(_users.outerjoin(_usable, _rules.c.user_id == _users.c.id))
    .where(_users.c.id.in_(bindparam("b_users", expanding=True)))
    .order_by(_rules.c.delay_seconds, _rules.c.id)
)


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    time_zone: str
    quiet_start: str | None
    quiet_end: str | None


@dataclass(frozen=True)
class _Rule:
    id: str
    delay_seconds: int
    urgency: Urgency
    contact_method_id: str
    channel: ContactType
    address: str
    sms_opted_out: bool


def tier_people(session: Session, tier: step.Tier, at: datetime) -> tuple[list[str], list[str]]:
    """The tier's people at ``at`` (a schedule: whoever is on call in it then), once each, in
    target order; and the schedules in it with nobody on call."""
    user_ids: list[str] = []
    empty: list[str] = []
    for target in tier.targets:
        if target.type == "user":
            user_ids.append(target.id)
            continue
        on_call = schedules.on_call_user_ids(session, target.id, at)
        if not on_call:
            empty.append(target.id)
        user_ids.extend(on_call)
    return list(dict.fromkeys(user_ids)), empty


def _user_ids(session: Session, incident: Incident, tier: step.Tier, at: datetime) -> list[str]:
    """The tier's people (see :func:`tier_people`); an empty schedule is logged."""
    user_ids, empty = tier_people(session, tier, at)
    for schedule_id in empty:
        schedule = session.get(Schedule, schedule_id)
        name = schedule.name if schedule else schedule_id
        incident_rows.log(
            session,
            incident,
            "nobody_on_call",
            f"Nobody is on call in schedule '{name}'",
            at,
            schedule_id=schedule_id,
        )
    return user_ids


def _for_urgency(rules: list[_Rule], urgency: Urgency) -> list[_Rule]:
    matching = [r for r in rules if r.urgency == urgency]
    # A low-urgency incident for someone with only high-urgency rules still reaches them.
    return matching or (rules if urgency is Urgency.low else [])


def _people(
    session: Session, user_ids: list[str], urgency: Urgency
) -> list[tuple[_Person, list[_Rule]]]:
    """The users that exist, in the order given, each with their rules for ``urgency``
    (usable contact methods only; by delay, then rule id)."""
    if not user_ids:
        return []
    found: dict[str, tuple[_Person, list[_Rule]]] = {}
    for row in _core(session, _PEOPLE, {"b_users": user_ids}):
        user_id, name, zone, quiet_start, quiet_end, rule_id, delay, rule_urgency, *method = row
        _, rules = found.setdefault(
            user_id, (_Person(user_id, name, zone, quiet_start, quiet_end), [])
        )
        if rule_id is not None:
            rules.append(_Rule(rule_id, delay, rule_urgency, *method))
    return [
        (person, _for_urgency(rules, urgency))
        for person, rules in (found[u] for u in user_ids if u in found)
    ]


def people_with_rules(
    session: Session, user_ids: list[str], urgency: Urgency
) -> list[tuple[_Person, list[_Rule]]]:
    """The engine's own look-up of who can be reached and how (for "who would be paged")."""
    return _people(session, user_ids, urgency)


def notify_position(
    session: Session, incident: Incident, policy: step.Policy, at_pos: step.Position, at: datetime
) -> int:
    """Enqueue the pages of one tier; returns how many people it reached."""
    tier = policy.tiers[at_pos.tier]
    people = _people(session, _user_ids(session, incident, tier, at), incident.urgency)
    reached: list[str] = []
    for user, rules in people:
        if not rules:
            incident_rows.log(
                session,
                incident,
                "no_notification_rules",
                f"{user.name} has no notification rules with an enabled contact method",
                at,
                user_id=user.id,
            )
            continue
        # Quiet hours (the person's own zone) hold low-urgency pages; high urgency goes through.
        quiet = None
        if incident.urgency is Urgency.low:
            quiet = hours.quiet_hours(user.time_zone, user.quiet_start, user.quiet_end)
        held: list[datetime] = []
        for rule in rules:
            if rule.channel is ContactType.sms and rule.sms_opted_out:
                continue
            send_at = hours.quiet_send_at(quiet, at, rule.delay_seconds)
            if send_at > at + timedelta(seconds=rule.delay_seconds):
                held.append(send_at)
            session.add(
                Notification(
                    kind="page",
                    incident_id=incident.id,
                    epoch=incident.epoch,
                    loop=at_pos.loop,
                    tier=at_pos.tier,
                    user_id=user.id,
                    rule_id=rule.id,
                    contact_method_id=rule.contact_method_id,
                    channel=rule.channel.value,
                    address=rule.address,
                    send_at=send_at,
                    status=NotificationStatus.pending,
                )
            )
        if held:
            until = min(held).astimezone(ZoneInfo(user.time_zone))
            incident_rows.log(
                session,
                incident,
                "quiet_hours",
                f"Low-urgency page to {user.name} held for quiet hours until "
                f"{until:%Y-%m-%d %H:%M} {user.time_zone}",
                at,
                user_id=user.id,
                until=min(held).isoformat(),
            )
        reached.append(user.name)
    label = f"tier {at_pos.tier + 1}" + (f" (loop {at_pos.loop + 1})" if at_pos.loop else "")
    if reached:
        incident_rows.log(
            session,
            incident,
            "notify_tier",
            f"Notifying {label}: {', '.join(reached)}",
            at,
            tier=at_pos.tier + 1,
            loop=at_pos.loop,
        )
    else:
        incident_rows.log(session, incident, "nobody_to_notify", f"Nobody to notify in {label}", at)
    wake.request(session)
    return len(reached)


def notify_from(
    session: Session,
    incident: Incident,
    policy: step.Policy,
    start: step.Position,
    base: datetime,
    now: datetime,
) -> None:
    """Notify ``start``; a tier that reaches nobody escalates on at once (one pass at most)."""
    position = start
    for _ in range(len(policy.tiers)):
        incident.loop, incident.tier = position.loop, position.tier
        if notify_position(session, incident, policy, position, now) > 0:
            break
        following = step.next_position(policy, position)
        if following is None:
            break
        incident_rows.log(
            session,
            incident,
            "escalated",
            f"Escalated to tier {following.tier + 1} (nobody to notify in tier "
            f"{position.tier + 1})",
            now,
            tier=following.tier + 1,
            loop=following.loop,
        )
        position = following
    incident.next_escalation_at = step.due_after(policy, position, base)


def start(session: Session, incident: Incident, now: datetime) -> None:
    """Begin escalation at tier 1 (a new incident, a policy change)."""
    policy = load_policy(session, incident)
    notify_from(session, incident, policy, step.START, now, now)


def advance(session: Session, incident: Incident, now: datetime, *, forced: bool = False) -> bool:
    """Move to the next tier (when due, or at once when ``forced``). False when exhausted."""
    policy = load_policy(session, incident)
    here = step.clamp(policy, step.Position(incident.loop, incident.tier))
    following = step.next_position(policy, here)
    if following is None:
        incident.next_escalation_at = None
        if not forced:
            incident_rows.log(
                session,
                incident,
                "escalation_exhausted",
                "Escalation policy exhausted: every tier and repeat has been notified",
                now,
            )
        return False
    base = now if forced else step.step_base(incident.next_escalation_at, now)
    kind = "repeated" if following.loop > here.loop else "escalated"
    message = (
        f"Repeating the escalation policy (loop {following.loop + 1})"
        if kind == "repeated"
        else f"Escalated to tier {following.tier + 1}"
    )
    incident_rows.log(
        session, incident, kind, message, now, tier=following.tier + 1, loop=following.loop
    )
    notify_from(session, incident, policy, following, base, now)
    return True


def cancel_pending(session: Session, incident: Incident, now: datetime) -> int:
    """Cancel everything still waiting to go out for ``incident``."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.incident_id == incident.id,
            Notification.status == NotificationStatus.pending,
        )
        .values(status=NotificationStatus.cancelled, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def restart(session: Session, incident: Incident, now: datetime, reason: str) -> None:
    """Start escalation over with a new epoch (ack timeout, policy change)."""
    cancel_pending(session, incident, now)
    incident.epoch += 1
    incident_rows.log(session, incident, "escalation_restarted", reason, now, epoch=incident.epoch)
    if incident.status is IncidentStatus.triggered:
        start(session, incident, now)
    else:
        incident.loop, incident.tier = 0, 0
        incident.next_escalation_at = None
