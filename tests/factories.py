"""Factories for test data, written through the real service functions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from escalation import service as escalation
from escalation.models import Service, TargetType
from people import contacts
from people import service as people
from people.models import ContactType, TeamRole, Urgency, UserRole
from store.audit import Actor
from store.base import utcnow
from store.db import Database

SYSTEM = Actor.system("tests")
_seq = itertools.count(1)


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def user(
        self, *, role: UserRole = UserRole.member, name: str | None = None, time_zone: str = "UTC"
    ) -> Person:
        n = next(_seq)
        with self.database.transaction() as session:
            user = people.create_user(
                session,
                SYSTEM,
                name=name or f"User {n}",
                email=f"user{n}@example.com",
                time_zone=time_zone,
                role=role,
            )
            _, secret = people.create_token(session, SYSTEM, name="test", user_id=user.id)
            return Person(id=user.id, email=user.email, token=secret)

    def team(self, name: str | None = None) -> str:
        with self.database.transaction() as session:
            return people.create_team(session, SYSTEM, name=name or f"Team {next(_seq)}").id

    def member(self, team_id: str, person: Person, role: TeamRole) -> None:
        with self.database.transaction() as session:
            people.add_member(session, SYSTEM, team_id, user_id=person.id, role=role)

    def contact(self, person: Person, kind: ContactType, address: str) -> str:
        with self.database.transaction() as session:
            cm, _ = contacts.create_contact_method(
                session, SYSTEM, person.id, kind=kind, address=address, now=utcnow()
            )
            return cm.id

    def rule(
        self,
        person: Person,
        contact_method_id: str,
        delay: int = 0,
        urgency: Urgency = Urgency.high,
    ) -> str:
        with self.database.transaction() as session:
            return contacts.create_rule(
                session,
                SYSTEM,
                person.id,
                contact_method_id=contact_method_id,
                delay_seconds=delay,
                urgency=urgency,
            ).id

    def service(self, person: Person, delay: int = 600, name: str | None = None) -> Service:
        """A service whose one-tier policy pages ``person`` (``delay`` seconds to tier 2)."""
        n = next(_seq)
        with self.database.transaction() as session:
            policy = escalation.create_policy(
                session,
                SYSTEM,
                name=f"Policy {n}",
                team_id=None,
                repeat=0,
                tiers=[escalation.TierInput(delay, [(TargetType.user, person.id)])],
            )
            service = escalation.create_service(
                session,
                SYSTEM,
                name=name or f"Service {n}",
                escalation_policy_id=policy.id,
                team_id=None,
                acknowledgement_timeout_seconds=None,
                auto_resolve_timeout_seconds=None,
            )
            session.flush()
            return service
