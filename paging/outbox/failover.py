"""When a message to a person fails for good, reach them on their next contact method at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import Incident, IncidentStatus
from paging.engine import wake
from paging.outbox.models import Notification, NotificationStatus
from people import contact_kinds
from people.models import ContactMethod, NotificationRule


def _usable(cm: ContactMethod) -> bool:
    return cm.enabled and not contact_kinds.opted_out(cm.type, cm.sms_opted_out)


def fail_over(session: Session, failed: Notification, now: datetime) -> Notification | None:
    """Bring the person's next contact method forward to now; None when there is none left."""
    if failed.kind != "page" or failed.incident_id is None:
        return None
    incident = session.get(Incident, failed.incident_id)
    if incident is None or incident.status is not IncidentStatus.triggered:
        return None
    same_person = (
        Notification.incident_id == failed.incident_id,
        Notification.epoch == failed.epoch,
        Notification.user_id == failed.user_id,
    )
    waiting = session.scalars(
        select(Notification)
        .where(
            *same_person,
            Notification.status == NotificationStatus.pending,
            Notification.contact_method_id != failed.contact_method_id,
        )
        .order_by(Notification.send_at)
    ).first()
    if waiting is not None:
        if waiting.send_at > now:
            waiting.send_at = now
        return _announce(session, incident, failed, waiting, now)

    tried = session.scalars(select(Notification).where(*same_person)).all()
    failed_cms = {n.contact_method_id for n in tried if n.status is NotificationStatus.failed}
    failed_cms.add(failed.contact_method_id)
    used_rules = {n.rule_id for n in tried if (n.loop, n.tier) == (failed.loop, failed.tier)}
    rules = session.scalars(
        select(NotificationRule)
        .where(NotificationRule.user_id == failed.user_id)
        .order_by(NotificationRule.delay_seconds, NotificationRule.id)
    ).all()
    candidates: list[tuple[str, ContactMethod]] = []
    for rule in rules:
        cm = session.get(ContactMethod, rule.contact_method_id)
        if cm is not None and rule.id not in used_rules and cm.id not in failed_cms and _usable(cm):
            candidates.append((rule.id, cm))
    if not candidates:
        methods = session.scalars(
            select(ContactMethod)
            .where(ContactMethod.user_id == failed.user_id)
            .order_by(ContactMethod.created_at, ContactMethod.id)
        ).all()
        candidates = [
            (f"failover:{cm.id}", cm)
            for cm in methods
            if cm.id not in failed_cms and _usable(cm) and f"failover:{cm.id}" not in used_rules
        ]
    if not candidates:
        incident_rows.log(
            session,
            incident,
            "unreachable",
            "Every contact method of this person has failed",
            now,
            user_id=failed.user_id,
        )
        return None
    rule_id, cm = candidates[0]
    replacement = Notification(
        kind="page",
        incident_id=failed.incident_id,
        epoch=failed.epoch,
        loop=failed.loop,
        tier=failed.tier,
        user_id=failed.user_id,
        rule_id=rule_id,
        contact_method_id=cm.id,
        channel=cm.type.value,
        address=cm.address,
        send_at=now,
        status=NotificationStatus.pending,
    )
    session.add(replacement)
    return _announce(session, incident, failed, replacement, now)


def _announce(
    session: Session, incident: Incident, failed: Notification, next_: Notification, now: datetime
) -> Notification:
    incident_rows.log(
        session,
        incident,
        "failover",
        f"{failed.channel} to {failed.address} failed; trying {next_.channel} to "
        f"{next_.address} now",
        now,
        user_id=failed.user_id,
    )
    wake.request(session)
    return next_
