"""Who a tier of an escalation policy reaches, and why anyone it names cannot be reached.

Targets become people (a schedule target is whoever is on call in it at that moment, through
``schedules.service.on_call_shift``: the same answer as ``/oncall``, ``/timeline`` and the
calendar feeds), and people become their notification rules for the incident's urgency that
have a usable contact method. Anyone left out is named with the reason, so that a tier that
reaches nobody says who could not be reached and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Result, Select, Table, and_, bindparam, select
from sqlalchemy.orm import Session

from escalation import step
from people import contact_kinds
from people.models import ContactMethod, ContactType, NotificationRule, Urgency, User
from schedules import queries
from schedules.models import Schedule
from store.errors import DomainError

__all__ = ["Person", "Reached", "Rule", "Unreached", "core", "reach"]


def core(
    session: Session, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
) -> Result[*tuple[Any, ...]]:
    """A Core query on the session's connection, past the ORM's execution machinery (these
    run for every new incident). Pending changes are flushed first, as ``session.execute``
    would, unless autoflush is off: a batch that reads nothing it left pending."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


_users = cast(Table, User.__table__)
_rules = cast(Table, NotificationRule.__table__)
_methods = cast(Table, ContactMethod.__table__)
_usable = _rules.join(
    _methods, and_(_methods.c.id == _rules.c.contact_method_id, _methods.c.enabled.is_(True))
)
#: People with every notification rule that has an enabled contact method (none: one row of
#: NULLs), in one query for a whole tier: this is on the hot path of events in.
_PEOPLE = (
    select(_users.c.id, _users.c.name, _users.c.time_zone, _users.c.quiet_start)
    .add_columns(_users.c.quiet_end, _users.c.deactivated_at)
    .add_columns(_rules.c.id, _rules.c.delay_seconds, _rules.c.urgency)
    .add_columns(_rules.c.repeat_every_seconds, _rules.c.repeat_times)
    .add_columns(_methods.c.id, _methods.c.type, _methods.c.address, _methods.c.sms_opted_out)
    .select_from(_users.outerjoin(_usable, _rules.c.user_id == _users.c.id))
    .where(_users.c.id.in_(bindparam("b_users", expanding=True)))
    .order_by(_rules.c.delay_seconds, _rules.c.id)
)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    time_zone: str
    quiet_start: str | None
    quiet_end: str | None


@dataclass(frozen=True)
class Rule:
    id: str
    delay_seconds: int
    urgency: Urgency
    repeat_every_seconds: int | None
    repeat_times: int
    contact_method_id: str
    channel: ContactType
    address: str
    sms_opted_out: bool

    @property
    def offsets(self) -> list[int]:
        """Seconds after the tier is notified of the rule's page and of each repeat."""
        every = self.repeat_every_seconds or 0
        times = self.repeat_times if every > 0 else 0
        return [self.delay_seconds + k * every for k in range(times + 1)]


@dataclass(frozen=True)
class Unreached:
    """Someone (or a schedule) the tier names who cannot be paged, and why."""

    kind: str  # the incident log entry's kind
    reason: str  # a sentence for the incident log
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reached:
    people: list[tuple[Person, list[Rule]]] = field(default_factory=list)
    unreached: list[Unreached] = field(default_factory=list)


def _on_call(session: Session, schedule_id: str, at: datetime) -> tuple[str | None, Unreached]:
    """Who is on call in the schedule at ``at``, or why nobody can be named."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        why = f"Schedule {schedule_id} no longer exists"
        return None, Unreached("nobody_on_call", why, {"schedule_id": schedule_id})
    try:
        shift = queries.on_call_shift(session, schedule_id, at, whole=False)
    except DomainError as exc:
        why = f"Schedule '{schedule.name}' cannot say who is on call: {exc.detail}"
        return None, Unreached("nobody_on_call", why, {"schedule_id": schedule_id})
    why = f"Nobody is on call in schedule '{schedule.name}'"
    nobody = Unreached("nobody_on_call", why, {"schedule_id": schedule_id})
    return (None, nobody) if shift is None else (shift.user_id, nobody)


def _for_urgency(rules: list[Rule], urgency: Urgency) -> list[Rule]:
    matching = [r for r in rules if r.urgency == urgency]
    # A low-urgency incident for someone with only high-urgency rules still reaches them.
    return matching or (rules if urgency is Urgency.low else [])


def _why_not(person: Person, rules: list[Rule], usable: list[Rule], urgency: Urgency) -> str:
    if not rules:
        return f"{person.name} has no notification rules with an enabled contact method"
    if not usable:
        return f"{person.name} has no notification rules for {urgency.value}-urgency incidents"
    numbers = ", ".join(sorted({r.address for r in usable}))
    return f"{person.name} can only be reached by SMS at {numbers}, which replied STOP"


def _people(session: Session, user_ids: list[str], urgency: Urgency, found: Reached) -> None:
    rows: dict[str, tuple[Person, bool, list[Rule]]] = {}
    for row in core(session, _PEOPLE, {"b_users": user_ids}):
        user_id, name, zone, quiet_start, quiet_end, deactivated, rule_id, *rule = row
        _, _, rules = rows.setdefault(
            user_id,
            (Person(user_id, name, zone, quiet_start, quiet_end), deactivated is not None, []),
        )
        if rule_id is not None:
            rules.append(Rule(rule_id, *rule))
    for user_id in user_ids:
        if user_id not in rows:
            found.unreached.append(
                Unreached("unknown_user", f"User {user_id} does not exist", {"user_id": user_id})
            )
            continue
        person, deactivated, rules = rows[user_id]
        if deactivated:
            why = f"{person.name} is deactivated and cannot be paged"
            found.unreached.append(Unreached("user_deactivated", why, {"user_id": user_id}))
            continue
        usable = _for_urgency(rules, urgency)
        paged = [r for r in usable if not contact_kinds.opted_out(r.channel, r.sms_opted_out)]
        if paged:
            found.people.append((person, paged))
        else:
            why = _why_not(person, rules, usable, urgency)
            found.unreached.append(Unreached("no_notification_rules", why, {"user_id": user_id}))


def reach(session: Session, tier: step.Tier, urgency: Urgency, at: datetime) -> Reached:
    """The tier's people (once each, in target order) with the rules that page them, and
    everyone it names who cannot be paged, with why."""
    found = Reached()
    user_ids: list[str] = []
    for target in tier.targets:
        if target.type == "user":
            user_ids.append(target.id)
            continue
        user_id, nobody = _on_call(session, target.id, at)
        if user_id is None:
            found.unreached.append(nobody)
        else:
            user_ids.append(user_id)
    if user_ids:
        _people(session, list(dict.fromkeys(user_ids)), urgency, found)
    return found
