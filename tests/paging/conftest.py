"""A running service with its engine, for end-to-end paging tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from escalation.models import IncidentLog
from paging.outbox.models import Notification
from people.models import ContactType
from store.db import Database
from store.settings import Settings
from tests.conftest import admin_headers
from tests.factories import Factory, Person
from tests.live_service import live, mailbox, twilio


@dataclass
class Paging:
    client: TestClient
    database: Database
    factory: Factory

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.client.post(f"/api/v1{path}", json=body, headers=admin_headers())
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def responder(self, *delays: tuple[ContactType, str, int]) -> Person:
        """A user with contact methods and rules: (type, address, delay_seconds)."""
        person = self.factory.user()
        for kind, address, delay in delays:
            cm = self.factory.contact(person, kind, address)
            self.factory.rule(person, cm, delay)
        return person

    def policy(self, tiers: list[tuple[int, list[str]]], repeat: int = 0) -> str:
        body = {
            "name": "Policy",
            "repeat": repeat,
            "tiers": [
                {"delay_seconds": delay, "targets": [{"type": "user", "id": u} for u in users]}
                for delay, users in tiers
            ],
        }
        return str(self.post("/escalation-policies", body)["id"])

    def service(self, policy_id: str, **extra: Any) -> str:
        return str(
            self.post(
                "/services", {"name": "Checkout", "escalation_policy_id": policy_id, **extra}
            )["id"]
        )

    def trigger(self, service_id: str, title: str = "Checkout down", **extra: Any) -> str:
        return str(
            self.post("/incidents", {"service_id": service_id, "title": title, **extra})["id"]
        )

    def incident(self, incident_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/incidents/{incident_id}", headers=admin_headers())
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    def sent(self, incident_id: str | None = None) -> list[Notification]:
        """Notifications that went out (status sent/delivered), oldest first."""
        with self.database.transaction() as session:
            stmt = select(Notification).where(Notification.status.in_(["sent", "delivered"]))
            if incident_id:
                stmt = stmt.where(Notification.incident_id == incident_id)
            return list(session.scalars(stmt.order_by(Notification.sent_at)))

    def sent_to(self, person: Person, incident_id: str | None = None) -> list[Notification]:
        return [n for n in self.sent(incident_id) if n.user_id == person.id]

    def log_kinds(self, incident_id: str) -> list[str]:
        with self.database.transaction() as session:
            rows = session.scalars(
                select(IncidentLog.kind)
                .where(IncidentLog.incident_id == incident_id)
                .order_by(IncidentLog.at, IncidentLog.id)
            )
            return list(rows)


@pytest.fixture
def paging(settings: Settings, database: Database, factory: Factory) -> Iterator[Paging]:
    app = create_app(settings, database, run_engine=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Paging(client=client, database=database, factory=factory)


#: End-to-end tests of every room send through real providers: the live service (uvicorn with
#: its engine), the Twilio fake over HTTP and a real SMTP server (``tests.live_service``).
__all__ = ["live", "mailbox", "twilio"]
