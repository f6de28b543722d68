"""A service's support hours and its severity → urgency maps inside and outside them.

Without support hours a service uses the default urgency of each severity (critical and error
are high, warning and info low). With them, each severity may be mapped to an urgency for
inside and for outside the hours; a low-urgency incident opened outside waits for the next
start of support hours before anyone is paged (see ``paging.intake.holds``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from escalation import hours
from escalation.models import Service, Severity
from escalation.rules import default_urgency
from escalation.service import get_service
from paging.intake.models import SupportHoursRow
from people import validation
from people.access import require_team_manager
from people.models import Urgency
from store import audit
from store.audit import Actor
from store.errors import Invalid, NotFound


@dataclass(frozen=True)
class WindowInput:
    days: Sequence[str] | None
    start: str
    end: str


def spec_of(row: SupportHoursRow) -> hours.SupportHours:
    """The pure form of a stored configuration."""
    return hours.SupportHours(
        row.time_zone,
        tuple(hours.window(w.get("days"), w["start"], w["end"]) for w in row.windows),
    )


def _map(mapping: Mapping[Severity, Urgency] | None) -> dict[str, str] | None:
    if mapping is None:
        return None
    return {Severity(k).value: Urgency(v).value for k, v in mapping.items()}


def _windows(windows: Sequence[WindowInput]) -> list[dict[str, Any]]:
    if not windows:
        raise Invalid("windows", "support hours need at least one window")
    stored: list[dict[str, Any]] = []
    for i, w in enumerate(windows):
        try:
            parsed = hours.window(w.days, w.start, w.end)
        except ValueError as exc:
            raise Invalid(f"windows.{i}", str(exc)) from exc
        days = None if w.days is None else [hours.DAY_NAMES[d] for d in sorted(parsed.days)]
        stored.append({"days": days, "start": w.start, "end": w.end})
    return stored


def get(session: Session, service_id: str) -> SupportHoursRow:
    get_service(session, service_id)
    row = session.get(SupportHoursRow, service_id)
    if row is None:
        raise NotFound(f"service {service_id!r} has no support hours")
    return row


def put(
    session: Session,
    actor: Actor,
    service_id: str,
    *,
    time_zone: str,
    windows: Sequence[WindowInput],
    urgency_during: Mapping[Severity, Urgency] | None,
    urgency_outside: Mapping[Severity, Urgency] | None,
    now: datetime,
) -> SupportHoursRow:
    """Set (replace) a service's support hours."""
    service = get_service(session, service_id)
    require_team_manager(session, actor, service.team_id, "edit this service")
    try:
        validation.time_zone(time_zone)
    except ValueError as exc:
        raise Invalid("time_zone", str(exc)) from exc
    stored = _windows(windows)
    row = session.get(SupportHoursRow, service_id)
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = SupportHoursRow(service_id=service_id)
        session.add(row)
    row.time_zone = time_zone
    row.windows = stored
    row.urgency_during = _map(urgency_during)
    row.urgency_outside = _map(urgency_outside)
    row.updated_at = now
    audit.record(session, actor, "update" if before else "create", row, before)
    return row


def delete(session: Session, actor: Actor, service_id: str) -> None:
    row = get(session, service_id)
    service = get_service(session, service_id)
    require_team_manager(session, actor, service.team_id, "edit this service")
    audit.record(session, actor, "delete", row, audit.snapshot(row), after=None)
    session.delete(row)


@dataclass(frozen=True)
class Decision:
    """The urgency of a new incident, and when to page it if not now."""

    urgency: Urgency
    inside: bool
    release_at: datetime | None  # set for low urgency outside support hours
    zone: str | None


def decide(
    session: Session, service: Service, severity: Severity, urgency: Urgency | None, now: datetime
) -> Decision:
    """Urgency from the service's maps (unless given), and whether paging waits for hours."""
    row = session.get(SupportHoursRow, service.id)
    if row is None:
        return Decision(urgency or default_urgency(severity), True, None, None)
    spec = spec_of(row)
    is_inside = hours.inside(spec, now)
    mapping = (row.urgency_during if is_inside else row.urgency_outside) or {}
    chosen = urgency or Urgency(mapping.get(severity.value, default_urgency(severity).value))
    release = None
    if chosen is Urgency.low and not is_inside:
        release = hours.next_start(spec, now)
    return Decision(chosen, is_inside, release, row.time_zone)
