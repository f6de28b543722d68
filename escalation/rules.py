"""Pure incident rules: urgency from severity, and which transitions are allowed."""

from __future__ import annotations

from escalation.models import IncidentStatus, Severity
from people.models import Urgency

HIGH_SEVERITIES = frozenset({Severity.critical, Severity.error})


def default_urgency(severity: Severity) -> Urgency:
    """critical/error page at any hour (high); warning/info are low urgency."""
    return Urgency.high if severity in HIGH_SEVERITIES else Urgency.low


def can_acknowledge(status: IncidentStatus) -> bool:
    return status is IncidentStatus.triggered


def can_resolve(status: IncidentStatus) -> bool:
    return status is not IncidentStatus.resolved


def can_escalate(status: IncidentStatus) -> bool:
    """Escalating an acknowledged incident re-triggers it at the next tier (as PagerDuty)."""
    return status is not IncidentStatus.resolved
