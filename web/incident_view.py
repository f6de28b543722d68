"""What an incident page shows, for a signed-in person or a signed SMS link alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import EscalationPolicy, Incident, IncidentLog, Service
from escalation.rules import Action
from paging.details_text import render_details
from paging.response import actions
from people.models import User
from store.audit import Actor


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    service: Service
    policy: EscalationPolicy | None
    details: str
    log: list[IncidentLog]
    available: frozenset[Action]
    may_note: bool
    #: ``user:<email>`` labels (how the log records who acted) → the person's name.
    names: Mapping[str, str] = field(default_factory=dict)

    def who(self, label: str | None) -> str:
        """Who acted, as people know them: a name rather than ``user:ada@example.com``."""
        return self.names.get(label or "", label or "someone")

    def say(self, message: str) -> str:
        """A log line with the people in it named."""
        return _USER_LABEL.sub(lambda m: self.names.get(m.group(0), m.group(0)), message)

    @property
    def tiers(self) -> int:
        return len(self.policy.tiers) if self.policy is not None else 0


_USER_LABEL = re.compile(r"user:[^\s,;()]+@[^\s,;()]+")


def _names(session: Session, texts: Iterable[str | None]) -> dict[str, str]:
    labels = {m for text in texts if text for m in _USER_LABEL.findall(text)}
    emails = {label.removeprefix("user:") for label in labels}
    if not emails:
        return {}
    rows = session.execute(select(User.email, User.name).where(User.email.in_(emails)))
    return {f"user:{email}": name for email, name in rows}


def incident_view(session: Session, incident: Incident, actor: Actor) -> IncidentView:
    service = incident_rows.service_of(session, incident)
    log = list(reversed(incident_rows.log_entries(session, incident.id)))
    texts = [incident.acknowledged_by, incident.resolved_by]
    texts += [entry.message for entry in log] + [(entry.data or {}).get("by") for entry in log]
    return IncidentView(
        incident=incident,
        service=service,
        policy=session.get(EscalationPolicy, incident.policy_id),
        details=render_details(incident.details),
        log=log,
        available=actions.available(session, actor, incident),
        may_note=actions.may_act(session, actor, incident),
        names=_names(session, texts),
    )
