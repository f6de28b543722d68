"""What an incident page shows, for a signed-in person or a signed SMS link alike."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from escalation import incidents as incident_rows
from escalation.models import EscalationPolicy, Incident, IncidentLog, Service
from escalation.rules import Action
from paging.outbox.details_text import render_details
from paging.response import actions
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

    @property
    def tiers(self) -> int:
        return len(self.policy.tiers) if self.policy is not None else 0


def incident_view(session: Session, incident: Incident, actor: Actor) -> IncidentView:
    service = incident_rows.service_of(session, incident)
    return IncidentView(
        incident=incident,
        service=service,
        policy=session.get(EscalationPolicy, incident.policy_id),
        details=render_details(incident.details),
        log=list(reversed(incident_rows.log_entries(session, incident.id))),
        available=actions.available(session, actor, incident),
        may_note=actions.may_act(session, actor, incident),
    )
