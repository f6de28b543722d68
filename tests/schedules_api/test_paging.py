"""A `schedule` target pages whoever is on call when its tier is notified (engine end to end)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from people.models import ContactType as CT
from store.db import Database
from store.settings import Settings
from tests.factories import Factory
from tests.paging.conftest import Paging
from tests.waiting import stays, wait_until


@pytest.fixture
def engine(settings: Settings, database: Database, factory: Factory) -> Iterator[Paging]:
    app = create_app(settings, database, run_engine=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Paging(client=client, database=database, factory=factory)


def _policy(engine: Paging, tiers: list[tuple[int, list[tuple[str, str]]]]) -> str:
    body = {
        "name": "Policy",
        "tiers": [
            {"delay_seconds": delay, "targets": [{"type": t, "id": i} for t, i in targets]}
            for delay, targets in tiers
        ],
    }
    return str(engine.post("/escalation-policies", body)["id"])


def test_a_schedule_target_pages_whoever_is_on_call_at_that_moment(engine: Paging) -> None:
    ada = engine.responder((CT.sms, "+12015550101", 0))
    cat = engine.responder((CT.email, "cat@example.com", 0))
    layer = {
        "name": "Always Ada",
        "start": "2020-01-01T00:00:00Z",
        "users": [ada.id],
        "rotation": {"handoff": "2020-01-01T09:00:00Z", "shift_length": 1, "shift_unit": "weeks"},
    }
    schedule = engine.post("/schedules", {"name": "Ops", "time_zone": "UTC", "layers": [layer]})
    target = [("schedule", schedule["id"])]
    service = engine.service(_policy(engine, [(1, target), (60, target)]))
    incident = engine.trigger(service)
    wait_until(lambda: engine.sent_to(ada, incident), timeout=3)
    # Cat takes over before tier 2 is due: tier 2 asks the schedule again and finds Cat.
    now = datetime.now(UTC)
    engine.post(
        f"/schedules/{schedule['id']}/overrides",
        {
            "user_id": cat.id,
            "start": (now - timedelta(seconds=10)).isoformat(),
            "end": (now + timedelta(hours=1)).isoformat(),
        },
    )
    [page] = wait_until(lambda: engine.sent_to(cat, incident), timeout=4)
    assert page.tier == 1
    assert len(engine.sent_to(ada, incident)) == 1
    assert "nobody_on_call" not in engine.log_kinds(incident)


def test_nobody_on_call_is_logged_and_escalation_goes_on(engine: Paging) -> None:
    bob = engine.responder((CT.sms, "+12015550102", 0))
    empty = engine.post("/schedules", {"name": "Empty", "time_zone": "UTC", "layers": []})
    policy = _policy(engine, [(1, [("schedule", empty["id"])]), (60, [("user", bob.id)])])
    incident = engine.trigger(engine.service(policy))
    wait_until(lambda: "nobody_on_call" in engine.log_kinds(incident), timeout=3)
    wait_until(lambda: engine.sent_to(bob, incident), timeout=4)
    assert stays(lambda: len(engine.sent(incident)) == 1, 0.5)
    assert engine.incident(incident)["escalation_tier"] == 2
