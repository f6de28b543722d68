"""Pure incident rules: urgency from severity, and when an incident may be acknowledged."""

from __future__ import annotations

from escalation.models import IncidentStatus, Severity
from people.models import Urgency

HIGH_SEVERITIES = frozenset({Severity.critical, Severity.error})


def default_urgency(severity: Severity) -> Urgency:
    """critical/error page at any hour (high); warning/info are low urgency."""
    return Urgency.high if severity in HIGH_SEVERITIES else Urgency.low


def can_acknowledge(status: IncidentStatus) -> bool:
    return status is IncidentStatus.triggered
