"""The demo organisation, written through the same services the API calls.

A small team of three, each with an SMS number (paged at once) and an e-mail address (a
minute later). No provider is configured in a fresh install, so their pages go to the log
channel. Two schedules: a weekly rotation in London whose Monday 09:00 hand-off stays at 09:00
across the clock change, and a daily rotation in New York restricted to office hours. One
escalation policy over both, and one service with its integration key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation import service as escalation
from escalation.models import EscalationPolicy, Service, TargetType
from people import contacts
from people import service as people
from people.models import ContactType, Team, TeamRole, Urgency, User, UserRole
from schedules import service as schedules
from schedules.models import Schedule
from schedules.specs import LayerSpec, RestrictionSpec
from store.audit import Actor

ACTOR = Actor.system("demo")
PEOPLE = (
    # name, email, time zone, role, role in the team
    ("Ada Lovelace", "ada@example.com", "Europe/London", UserRole.admin, TeamRole.manager),
    ("Grace Hopper", "grace@example.com", "America/New_York", UserRole.member, TeamRole.responder),
    ("Alan Turing", "alan@example.com", "Europe/London", UserRole.member, TeamRole.responder),
)
PHONES = ("+12015550101", "+12015550102", "+12015550103")  # the fictional 555-01xx range
EMAIL_AFTER = 60  # seconds: the second notification rule
LEVEL_DELAY = 300  # seconds before the policy's next level


@dataclass(frozen=True)
class Demo:
    team: str
    people: dict[str, User]  # by email
    primary: Schedule
    secondary: Schedule
    policy: EscalationPolicy
    service: Service
    clock_change: datetime | None  # the next DST change in London (the primary's zone)


def is_empty(session: Session) -> str | None:
    """None when nothing is there yet; otherwise what is (``2 users``)."""
    found = []
    for label, model in (("users", User), ("teams", Team), ("schedules", Schedule)):
        count = session.scalar(select(func.count()).select_from(model)) or 0
        if count:
            found.append(f"{count} {label}")
    return ", ".join(found) or None


def next_clock_change(zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first instant within a year after ``after`` at which ``zone``'s offset changes."""
    hour = timedelta(hours=1)
    at = after
    offset = at.astimezone(zone).utcoffset()
    for _ in range(366 * 24):
        later = at + hour
        if later.astimezone(zone).utcoffset() != offset:
            return later.replace(minute=0, second=0, microsecond=0)
        at = later
    return None


def _monday_before(now: datetime, zone: ZoneInfo, at: time) -> datetime:
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday() + 7)
    return datetime.combine(monday, at, tzinfo=zone)


def build(session: Session, now: datetime) -> Demo:
    team = people.create_team(session, ACTOR, name="Payments")
    session.flush()
    users: dict[str, User] = {}
    for (name, email, zone, role, team_role), phone in zip(PEOPLE, PHONES, strict=True):
        user = people.create_user(session, ACTOR, name=name, email=email, time_zone=zone, role=role)
        session.flush()
        people.add_member(session, ACTOR, team.id, user_id=user.id, role=team_role)
        for kind, address, delay in (
            (ContactType.sms, phone, 0),
            (ContactType.email, email, EMAIL_AFTER),
        ):
            method, _ = contacts.create_contact_method(
                session, ACTOR, user.id, kind=kind, address=address, now=now
            )
            session.flush()
            contacts.create_rule(
                session,
                ACTOR,
                user.id,
                contact_method_id=method.id,
                delay_seconds=delay,
                urgency=Urgency.high,
            )
        users[email] = user
    ada, grace, alan = (users[p[1]].id for p in PEOPLE)
    london, new_york = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
    weekly = _monday_before(now, london, time(9, 0))
    primary = schedules.create_schedule(
        session,
        ACTOR,
        name="Payments primary",
        time_zone="Europe/London",
        team_id=team.id,
        layers=[
            LayerSpec(
                name="Weekly",
                start=weekly,
                users=(grace, alan, ada),
                handoff=weekly,
                shift_length=1,
                shift_unit="weeks",
            )
        ],
    )
    daily = _monday_before(now, new_york, time(9, 0))
    secondary = schedules.create_schedule(
        session,
        ACTOR,
        name="Payments secondary",
        time_zone="America/New_York",
        team_id=team.id,
        layers=[
            LayerSpec(
                name="Office hours",
                start=daily,
                users=(alan, grace),
                handoff=daily,
                shift_length=1,
                shift_unit="days",
                restrictions=(
                    RestrictionSpec("09:00", "17:00", ("mon", "tue", "wed", "thu", "fri")),
                ),
            )
        ],
    )
    policy = escalation.create_policy(
        session,
        ACTOR,
        name="Payments escalation",
        team_id=team.id,
        repeat=1,
        tiers=[
            escalation.TierInput(LEVEL_DELAY, [(TargetType.schedule, primary.id)]),
            escalation.TierInput(
                LEVEL_DELAY, [(TargetType.schedule, secondary.id), (TargetType.user, ada)]
            ),
        ],
    )
    service = escalation.create_service(
        session,
        ACTOR,
        name="Payments API",
        escalation_policy_id=policy.id,
        team_id=team.id,
        acknowledgement_timeout_seconds=None,
        auto_resolve_timeout_seconds=None,
    )
    session.flush()
    return Demo(
        team=team.name,
        people=users,
        primary=primary,
        secondary=secondary,
        policy=policy,
        service=service,
        clock_change=next_clock_change(london, now),
    )
