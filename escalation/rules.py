"""Pure incident rules: urgency from severity, the actions on an incident, when one may be acked."""

from __future__ import annotations

import enum

from escalation.models import IncidentStatus, Severity
from people.models import Urgency

HIGH_SEVERITIES = frozenset({Severity.critical, Severity.error})


class Action(enum.StrEnum):
    """What a responder does to an incident, however they say it: API, web UI, CLI, an SMS
    reply, a voice digit, an e-mail link (``paging.response.actions.act`` carries it out)."""

    acknowledge = "acknowledge"
    resolve = "resolve"
    escalate = "escalate"

    @property
    def verb(self) -> str:
        """Imperative label, e.g. for buttons: ``Acknowledge``."""
        return self.value.capitalize()

    @property
    def past(self) -> str:
        """Past tense for confirmations: ``Acknowledged``."""
        return f"{self.verb}d"


def default_urgency(severity: Severity) -> Urgency:
    """critical/error page at any hour (high); warning/info are low urgency."""
    return Urgency.high if severity in HIGH_SEVERITIES else Urgency.low


def can_acknowledge(status: IncidentStatus) -> bool:
    return status is IncidentStatus.triggered
