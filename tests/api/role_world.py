"""A small organisation for the role matrix: two teams, one person of each kind, and one of
everything team A owns. Built through the real services in one transaction (fast enough to
build one per allowed call), with the app's clock at :data:`T0`.

Actors: ``admin`` (a user whose role is admin), ``manager`` (of team A, which owns
everything), ``other_manager`` (of team B), ``responder`` and ``observer`` (of team A),
``outsider`` (in no team) and ``self`` (the person whose profile, contact methods, rules and
tokens the person routes touch; a responder of team A).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from calendars import imports
from escalation import service as escalation
from escalation.models import TargetType
from paging.intake import heartbeats, maintenance, support_hours
from paging.intake.trigger import Trigger, ingest
from people import contacts
from people import service as people
from people.models import ContactType, TeamRole, Urgency, UserRole
from schedules import overrides
from schedules import service as schedules
from schedules.specs import LayerSpec
from store.audit import Actor
from store.db import Database
from store.migrations.tables import metadata

T0 = datetime(2030, 6, 3, 12, 0, tzinfo=UTC)  # a Monday
ACTORS = ("admin", "manager", "other_manager", "responder", "observer", "outsider", "self")
SYSTEM = Actor.system("role-matrix")
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:e1@test\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300610T100000Z\r\n"
    "DTEND:20300610T120000Z\r\nSUMMARY:Nobody we know\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_seq)}"


@dataclass
class World:
    """Ids of everything, and each actor's user id and token."""

    ids: dict[str, str]
    user_ids: dict[str, str]
    tokens: dict[str, str]
    code: str  # the verification code of ``self``'s pending SMS number

    def headers(self, actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"}

    def path(self, template: str) -> str:
        return template.format(**self.ids)


def build(database: Database) -> World:
    with database.transaction() as session:
        user_ids: dict[str, str] = {}
        tokens: dict[str, str] = {}
        for actor in (*ACTORS, "spare"):
            n = next(_seq)
            user = people.create_user(
                session,
                SYSTEM,
                name=f"{actor} {n}",
                email=f"{actor}.{n}@example.com",
                time_zone="UTC",
                role=UserRole.admin if actor == "admin" else UserRole.member,
            )
            user_ids[actor] = user.id
            _, tokens[actor] = people.create_token(session, SYSTEM, name="t", user_id=user.id)
        team = people.create_team(session, SYSTEM, name=unique("Team A")).id
        other = people.create_team(session, SYSTEM, name=unique("Team B")).id
        for actor, team_id, role in (
            ("manager", team, TeamRole.manager),
            ("other_manager", other, TeamRole.manager),
            ("responder", team, TeamRole.responder),
            ("observer", team, TeamRole.observer),
            ("self", team, TeamRole.responder),
        ):
            people.add_member(session, SYSTEM, team_id, user_id=user_ids[actor], role=role)
        me = user_ids["self"]
        email, _ = contacts.create_contact_method(
            session, SYSTEM, me, kind=ContactType.email, address=f"me.{me}@example.com", now=T0
        )
        own = Actor(user_id=me, is_admin=False, label="self")
        sms, pending = contacts.create_contact_method(
            session, own, me, kind=ContactType.sms, address="+12015550123", now=T0
        )
        assert pending is not None
        rule = contacts.create_rule(
            session, SYSTEM, me, contact_method_id=email.id, delay_seconds=0, urgency=Urgency.high
        )
        spare_token, _ = people.create_token(session, SYSTEM, name="spare", user_id=me)
        start = T0 - timedelta(days=30)
        schedule = schedules.create_schedule(
            session,
            SYSTEM,
            name=unique("Schedule"),
            time_zone="UTC",
            team_id=team,
            layers=[
                LayerSpec(
                    name="Primary",
                    start=start,
                    users=(me, user_ids["responder"]),
                    handoff=start,
                    shift_length=1,
                    shift_unit="days",
                )
            ],
        )
        override = overrides.create_override(
            session,
            SYSTEM,
            schedule.id,
            user_id=me,
            start=T0 + timedelta(days=1),
            end=T0 + timedelta(days=2),
            now=datetime.now(UTC),
        )
        imported = imports.create_import(
            session,
            SYSTEM,
            schedule.id,
            name="Team calendar",
            source_url=None,
            content=ICS.encode(),
            time_zone=None,
            refresh_seconds=3600,
            horizon_days=30,
            now=T0,
        )
        tiers = [
            escalation.TierInput(300, [(TargetType.user, me)]),
            escalation.TierInput(300, [(TargetType.user, user_ids["manager"])]),
        ]
        policy = escalation.create_policy(
            session, SYSTEM, name=unique("Policy"), team_id=team, repeat=0, tiers=tiers
        )
        spare_policy = escalation.create_policy(
            session, SYSTEM, name=unique("Unused"), team_id=team, repeat=0, tiers=tiers
        )
        service = escalation.create_service(
            session,
            SYSTEM,
            name=unique("Service"),
            escalation_policy_id=policy.id,
            team_id=team,
            acknowledgement_timeout_seconds=None,
            auto_resolve_timeout_seconds=None,
        )
        session.flush()
        beat = heartbeats.create(
            session, SYSTEM, service.id, name="cron", interval_seconds=60, grace_seconds=0, now=T0
        )
        active = maintenance.create_window(
            session,
            SYSTEM,
            service.id,
            starts_at=T0 - timedelta(hours=1),
            ends_at=T0 + timedelta(hours=1),
            page_on_end=False,
            description=None,
            now=T0,
        )
        future = maintenance.create_window(
            session,
            SYSTEM,
            service.id,
            starts_at=T0 + timedelta(days=1),
            ends_at=T0 + timedelta(days=2),
            page_on_end=False,
            description=None,
            now=T0,
        )
        support_hours.put(
            session,
            SYSTEM,
            service.id,
            time_zone="UTC",
            windows=[support_hours.WindowInput(None, "09:00", "17:00")],
            urgency_during=None,
            urgency_outside=None,
            now=T0,
        )
        incident = ingest(session, service, Trigger(title="Disk full"), T0).incident
        session.flush()
        ids = {
            "team": team,
            "other_team": other,
            "self": me,
            "spare": user_ids["spare"],
            "email": email.id,
            "sms": sms.id,
            "rule": rule.id,
            "spare_token": spare_token.id,
            "schedule": schedule.id,
            "layer": schedule.layers[0].id,
            "override": override.id,
            "import": imported.id,
            "policy": policy.id,
            "spare_policy": spare_policy.id,
            "service": service.id,
            "heartbeat": beat.id,
            "active_window": active.id,
            "future_window": future.id,
            "incident": incident.id,
        }
        return World(ids=ids, user_ids=user_ids, tokens=tokens, code=pending.code)


def fingerprint(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: equal before and after means no change."""
    with database.engine.connect() as connection:
        tables: dict[str, list[tuple[Any, ...]]] = {}
        for table in metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables
