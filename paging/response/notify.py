"""Escalation in the database: notify a tier's people, step on when due.

Notifying a tier turns targets into people (``paging.response.tier_people``: a schedule target is
whoever is on call in it at that moment) and people into outbox rows, one per notification
rule for the incident's urgency and per repeat of the rule, keyed by (incident, epoch, loop,
tier, person, rule, repeat) so a step can never be enqueued twice. Whoever cannot be paged is
logged with why; a pass of the policy that pages nobody is ``unrouted``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, distinct, func, select, update
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
from paging.engine import wake
from paging.outbox.models import Notification, NotificationStatus
from paging.response import tier_people
from people.models import Urgency

log = logging.getLogger("watchbill.escalation")

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


def load_policy(session: Session, incident: Incident) -> step.Policy:
    rows = tier_people.core(session, _POLICY, {"b_policy": incident.policy_id}).all()
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


def _enqueue(
    session: Session,
    incident: Incident,
    at_pos: step.Position,
    person: tier_people.Person,
    rules: list[tier_people.Rule],
    at: datetime,
) -> None:
    """One outbox row per rule, and per repeat of it (each a step of its own key)."""
    # Quiet hours (the person's own zone) hold low-urgency pages; high urgency goes through.
    quiet = None
    if incident.urgency is Urgency.low:
        quiet = hours.quiet_hours(person.time_zone, person.quiet_start, person.quiet_end)
    held: list[datetime] = []
    for rule in rules:
        for repeat, offset in enumerate(rule.offsets):
            send_at = hours.quiet_send_at(quiet, at, offset)
            if repeat == 0 and send_at > at + timedelta(seconds=offset):
                held.append(send_at)
            session.add(
                Notification(
                    kind="page",
                    incident_id=incident.id,
                    epoch=incident.epoch,
                    loop=at_pos.loop,
                    tier=at_pos.tier,
                    user_id=person.id,
                    rule_id=rule.id,
                    repeat=repeat,
                    contact_method_id=rule.contact_method_id,
                    channel=rule.channel.value,
                    address=rule.address,
                    send_at=send_at,
                    status=NotificationStatus.pending,
                )
            )
    if held:
        until = min(held).astimezone(ZoneInfo(person.time_zone))
        incident_rows.log(
            session,
            incident,
            "quiet_hours",
            f"Low-urgency page to {person.name} held for quiet hours until "
            f"{until:%Y-%m-%d %H:%M} {person.time_zone}",
            at,
            user_id=person.id,
            until=min(held).isoformat(),
        )


def _label(at_pos: step.Position) -> str:
    return f"tier {at_pos.tier + 1}" + (f" (loop {at_pos.loop + 1})" if at_pos.loop else "")


def notify_position(
    session: Session, incident: Incident, policy: step.Policy, at_pos: step.Position, at: datetime
) -> int:
    """Enqueue the pages of one tier; returns how many people it reached. Everyone it names
    who cannot be paged is logged with why."""
    found = tier_people.reach(session, policy.tiers[at_pos.tier], incident.urgency, at)
    for unreached in found.unreached:
        incident_rows.log(session, incident, unreached.kind, unreached.reason, at, **unreached.data)
    for person, rules in found.people:
        _enqueue(session, incident, at_pos, person, rules, at)
    label = _label(at_pos)
    if found.people:
        names = ", ".join(person.name for person, _ in found.people)
        incident_rows.log(
            session,
            incident,
            "notify_tier",
            f"Notifying {label}: {names}",
            at,
            tier=at_pos.tier + 1,
            loop=at_pos.loop,
        )
    else:
        why = "; ".join(u.reason for u in found.unreached) or "it has no targets"
        incident_rows.log(
            session,
            incident,
            "nobody_to_notify",
            f"Nobody to notify in {label}: {why}",
            at,
            tier=at_pos.tier + 1,
            loop=at_pos.loop,
        )
        log.warning("incident %s: nobody to notify in %s: %s", incident.id, label, why)
    return len(found.people)


def _paged(session: Session, incident: Incident, loop: int | None = None) -> int:
    """How many people were paged for ``incident`` in this epoch (in one loop of it)."""
    stmt = select(func.count(distinct(Notification.user_id))).where(
        Notification.incident_id == incident.id,
        Notification.epoch == incident.epoch,
        Notification.kind == "page",
    )
    if loop is not None:
        stmt = stmt.where(Notification.loop == loop)
    return int(tier_people.core(session, stmt, {}).scalar_one())


def _unrouted(session: Session, incident: Incident, loop: int, now: datetime) -> None:
    """A whole pass of the policy reached nobody: say so loudly (log entry, the incident's
    ``unrouted_at`` for ``GET /incidents?unrouted=true`` and the metric)."""
    pass_ = f" (loop {loop + 1})" if loop else ""
    incident_rows.log(
        session,
        incident,
        "unrouted",
        f"Nobody was paged: no tier of the escalation policy reached anyone{pass_}",
        now,
        loop=loop,
    )
    if incident.unrouted_at is None:
        incident.unrouted_at = now
    log.error("incident %s is unrouted: a pass of its policy reached nobody", incident.id)


def notify_from(
    session: Session,
    incident: Incident,
    policy: step.Policy,
    start: step.Position,
    base: datetime,
    now: datetime,
) -> None:
    """Notify ``start``; a tier that reaches nobody escalates on at once (one pass at most).

    A pass of the policy (a loop) in which nobody was paged is ``unrouted``. The step after
    a tier that reached nobody comes at once; after a whole pass of nobody, the policy waits
    the last tier's delay before it tries again (while ``repeat`` loops remain).
    """
    position = start
    last = len(policy.tiers) - 1
    for _ in range(len(policy.tiers)):
        incident.loop, incident.tier = position.loop, position.tier
        if notify_position(session, incident, policy, position, now) > 0:
            break
        if position.tier == last and not _paged(session, incident, position.loop):
            _unrouted(session, incident, position.loop, now)
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
    wake.request(session)  # pages are due, and the next step has a time


def start(session: Session, incident: Incident, now: datetime) -> None:
    """Begin escalation at tier 1 (a new incident, a policy change)."""
    policy = load_policy(session, incident)
    notify_from(session, incident, policy, step.START, now, now)


def _exhausted(session: Session, incident: Incident, now: datetime) -> None:
    paged = _paged(session, incident)
    if paged:
        people = "1 person was" if paged == 1 else f"{paged} people were"
        incident_rows.log(
            session,
            incident,
            "escalation_exhausted",
            f"Escalation policy exhausted: every tier and repeat has been tried ({people} "
            "paged) and nobody acknowledged",
            now,
            paged=paged,
        )
    else:
        incident_rows.log(
            session,
            incident,
            "escalation_ended",
            "Escalation policy ended without paging anyone: no tier reached anyone",
            now,
        )


def advance(session: Session, incident: Incident, now: datetime, *, forced: bool = False) -> bool:
    """Move to the next tier (when due, or at once when ``forced``). False when exhausted."""
    policy = load_policy(session, incident)
    here = step.clamp(policy, step.Position(incident.loop, incident.tier))
    following = step.next_position(policy, here)
    if following is None:
        incident.next_escalation_at = None
        if not forced:
            _exhausted(session, incident, now)
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
