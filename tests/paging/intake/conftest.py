"""Helpers for events-in tests: a service with a responder, and ways to look at what happened."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from escalation.models import Incident, IncidentLog
from paging.outbox.models import Notification
from people.models import ContactType, Urgency
from store.db import Database
from store.settings import Settings
from tests.conftest import admin_headers
from tests.factories import Factory, Person


@dataclass(frozen=True)
class Svc:
    id: str
    key: str
    responder: Person


class Clock:
    """A settable clock for the API (``create_app(clock=...)``)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@dataclass
class Desk:
    client: TestClient
    database: Database
    factory: Factory
    clock: Clock = field(default_factory=Clock)

    def api(self, method: str, path: str, status: int, body: Any = None) -> Any:
        response = self.client.request(method, f"/api/v1{path}", json=body, headers=admin_headers())
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def service(self, *, time_zone: str = "UTC", tier_delay: int = 600, **extra: Any) -> Svc:
        """A service whose one-tier policy pages a responder (SMS, high and low urgency)."""
        person = self.factory.user(time_zone=time_zone)
        cm = self.factory.contact(person, ContactType.sms, "+12015550101")
        self.factory.rule(person, cm, 0, Urgency.high)
        self.factory.rule(person, cm, 0, Urgency.low)
        policy = self.api(
            "POST",
            "/escalation-policies",
            201,
            {
                "name": "Primary",
                "tiers": [
                    {"delay_seconds": tier_delay, "targets": [{"type": "user", "id": person.id}]}
                ],
            },
        )
        service = self.api(
            "POST",
            "/services",
            201,
            {"name": "Checkout", "escalation_policy_id": policy["id"], **extra},
        )
        return Svc(service["id"], service["integration_key"], person)

    def enqueue(self, body: Any, status: int = 202) -> dict[str, Any]:
        response = self.client.post("/v2/enqueue", json=body)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def incidents(self, service_id: str) -> list[Incident]:
        with self.database.transaction() as session:
            stmt = select(Incident).where(Incident.service_id == service_id)
            return list(session.scalars(stmt.order_by(Incident.number)))

    def incident(self, incident_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api("GET", f"/incidents/{incident_id}", 200)
        return result

    def by_key(self, service_id: str, dedup_key: str) -> list[Incident]:
        return [i for i in self.incidents(service_id) if i.dedup_key == dedup_key]

    def log(self, incident_id: str) -> list[IncidentLog]:
        with self.database.transaction() as session:
            stmt = select(IncidentLog).where(IncidentLog.incident_id == incident_id)
            return list(session.scalars(stmt.order_by(IncidentLog.at, IncidentLog.id)))

    def kinds(self, incident_id: str) -> list[str]:
        return [entry.kind for entry in self.log(incident_id)]

    def pages(self, incident_id: str) -> list[Notification]:
        """Outbox rows (pending or sent) for the incident: what paging it produced."""
        with self.database.transaction() as session:
            stmt = select(Notification).where(Notification.incident_id == incident_id)
            return list(session.scalars(stmt.order_by(Notification.send_at)))


def _desk(
    settings: Settings, database: Database, factory: Factory, *, engine: bool
) -> Iterator[Desk]:
    clock = Clock()
    app = create_app(settings, database, clock=clock, run_engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Desk(client=client, database=database, factory=factory, clock=clock)


@pytest.fixture
def desk(settings: Settings, database: Database, factory: Factory) -> Iterator[Desk]:
    """The API without the engine: pages stay in the outbox, where tests look at them."""
    yield from _desk(settings, database, factory, engine=False)


@pytest.fixture
def live_desk(settings: Settings, database: Database, factory: Factory) -> Iterator[Desk]:
    """The API with the paging engine running in-process (real time)."""
    quick = settings.model_copy(update={"engine_sweep_seconds": 1.0})
    yield from _desk(quick, database, factory, engine=True)


def trigger_body(key: str, **overrides: Any) -> dict[str, Any]:
    """PagerDuty's documented trigger example, aimed at ``key``."""
    body: dict[str, Any] = {
        "payload": {
            "summary": "Example alert on host1.example.com",
            "timestamp": "2015-07-17T08:42:58.315+0000",
            "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:"
            "cluster/api-stats-prod-003",
            "severity": "info",
            "component": "postgres",
            "group": "prod-datapipe",
            "class": "deploy",
            "custom_details": {"ping time": "1500ms", "load avg": 0.75},
        },
        "routing_key": key,
        "dedup_key": "samplekeyhere",
        "images": [
            {
                "src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
                "href": "https://example.com/",
                "alt": "Example text",
            }
        ],
        "links": [{"href": "https://example.com/", "text": "Link text"}],
        "event_action": "trigger",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.example.com",
    }
    body.update(overrides)
    return body
