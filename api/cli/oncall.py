"""``watchbill oncall``: who is on call, per schedule and per escalation policy level.

Every answer comes from the schedules' on-call query (``schedules.service.on_call_shift``),
the one the API's ``/oncall`` uses; nothing here computes a rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from api.cli import when
from api.cli.base import CliError, app, console, ensure_schema, every, open_database, table
from escalation import service as escalation
from escalation.models import EscalationPolicy, TargetType
from people import service as people
from schedules import queries
from schedules import service as schedules
from schedules.core.values import Shift
from schedules.models import Schedule
from store.base import utcnow

NOBODY = "nobody"


@dataclass
class _Answers:
    """Who is on call in each schedule asked about, and everyone's names."""

    at: datetime
    shifts: dict[str, Shift | None]
    schedule_names: dict[str, str]
    names: dict[str, str]

    def person(self, user_id: str | None) -> str:
        if user_id is None:
            return NOBODY
        return self.names.get(user_id, f"(unknown user {user_id})")


def _all_schedules(session: Session) -> list[Schedule]:
    return list(every(lambda cursor: schedules.list_schedules(session, cursor=cursor, limit=200)))


def _pick(found: list[Schedule], name: str | None) -> list[Schedule]:
    if name is None:
        return found
    chosen = [s for s in found if s.name.casefold() == name.strip().casefold()]
    if not chosen:
        known = ", ".join(sorted(repr(s.name) for s in found)) or "none yet"
        raise CliError(f"no schedule named {name!r} (schedules: {known})")
    return chosen


def _policies(session: Session, schedule_ids: set[str] | None) -> list[EscalationPolicy]:
    """Every policy; with ``schedule_ids``, only those with a level that pages them."""
    found = every(lambda cursor: escalation.list_policies(session, cursor=cursor, limit=200))
    return [
        policy
        for policy in found
        if schedule_ids is None
        or any(
            t.type is TargetType.schedule and t.target_id in schedule_ids
            for tier in policy.tiers
            for t in tier.targets
        )
    ]


@app.command()
def oncall(
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="only this schedule (by name)")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="when: now (default), RFC 3339, or local '2026-03-29 09:00'"),
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option("--time-zone", help="show times in this IANA zone (default: this machine's)"),
    ] = None,
) -> None:
    """Print who is on call in each schedule and at each escalation policy level."""
    zone = when.zone_of(time_zone)
    instant = when.parse_at(at, zone, utcnow())
    database = open_database(must_exist=True)
    ensure_schema(database)
    with database.transaction() as session:
        every_schedule = _all_schedules(session)
        chosen = _pick(every_schedule, schedule)
        policies = _policies(session, None if schedule is None else {s.id for s in chosen})
        asked = {s.id for s in chosen} | {
            t.target_id
            for p in policies
            for tier in p.tiers
            for t in tier.targets
            if t.type is TargetType.schedule
        }
        shifts = {sid: queries.on_call_shift(session, sid, instant) for sid in sorted(asked)}
        user_ids = {s.user_id for s in shifts.values() if s is not None} | {
            t.target_id
            for p in policies
            for tier in p.tiers
            for t in tier.targets
            if t.type is TargetType.user
        }
        answers = _Answers(
            at=instant,
            shifts=shifts,
            schedule_names={s.id: s.name for s in every_schedule},
            names=people.user_names(session, user_ids),
        )
        out = console()
        out.print(f"On call at {when.shown(instant, zone)}")
        out.print("\nSchedules")
        out.print(_schedule_table(chosen, answers, zone))
        if policies:
            out.print("\nEscalation policies")
            out.print(_policy_table(policies, answers, zone))


def _schedule_table(chosen: list[Schedule], answers: _Answers, zone: tzinfo | None) -> Table:
    shown = table("schedule", "on call", "since", "until")
    for item in chosen:
        shift = answers.shifts.get(item.id)
        shown.add_row(
            item.name,
            answers.person(shift.user_id if shift else None),
            when.shown(shift.start if shift else None, zone),
            when.shown(shift.end if shift else None, zone),
        )
    if not chosen:
        shown.add_row("(no schedules yet: try 'watchbill demo')", "", "", "")
    return shown


def _policy_table(
    policies: list[EscalationPolicy], answers: _Answers, zone: tzinfo | None
) -> Table:
    """One row per target of each level; a level is paged when the levels before it have
    waited their delays without an acknowledgement."""
    shown = table("policy", "level", "who", "through", "until")
    for policy in policies:
        waited = 0
        for level, tier in enumerate(policy.tiers, start=1):
            step = "1" if level == 1 else f"{level} (after {_delay(waited)})"
            for index, target in enumerate(tier.targets):
                first = index == 0
                label = policy.name if level == 1 and first else ""
                if target.type is TargetType.user:
                    who, through, until = answers.person(target.target_id), "directly", ""
                else:
                    shift = answers.shifts.get(target.target_id)
                    who = answers.person(shift.user_id if shift else None)
                    through = "schedule " + answers.schedule_names.get(
                        target.target_id, target.target_id
                    )
                    until = when.shown(shift.end if shift else None, zone)
                shown.add_row(label, step if first else "", who, through, until)
            waited += tier.delay_seconds
    return shown


def _delay(seconds: int) -> str:
    """``90 s``, ``5 min``, ``1 h 30 min``."""
    minutes, rest = divmod(seconds, 60)
    if rest:
        return f"{seconds} s"
    hours, minutes = divmod(minutes, 60)
    return " ".join(
        part for part in (f"{hours} h" * bool(hours), f"{minutes} min" * bool(minutes)) if part
    )
