"""A `schedule` target pages whoever is on call when its tier is notified (engine end to end)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from paging.engine.loop import Engine
from paging.outbox.models import Notification
from people.models import ContactType as CT
from store.db import Database
from store.settings import Settings
from tests.api.schedules.conftest import Api, layer
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


def _around(day: datetime, hours: range) -> list[datetime]:
    """Every quarter of an hour over ``hours`` (UTC) of ``day``, and a second either side of
    each hour, as instants."""
    found = set()
    for hour in hours:
        top = day.replace(hour=hour, tzinfo=UTC)
        found |= {top - timedelta(seconds=1), top, top + timedelta(seconds=1)}
        found |= {top + timedelta(minutes=m) for m in (15, 30, 45)}
    return sorted(found)


def test_the_person_paged_around_dst_changes_is_the_one_oncall_names(
    api: Api, settings: Settings, database: Database
) -> None:
    """Pages through a schedule target at instants around both 2024 DST changes in New York
    (a daily 02:30 handoff that does not exist one night and happens twice another, a night
    layer restricted to 01:00-03:00 local, nobody from midnight to 00:30): the person paged,
    at the trigger (API) and at the next tier (an engine pass at that instant), is the one
    ``/oncall`` names then."""
    ids: list[str] = []
    for name in ("Ada", "Bob", "Cat", "Dan"):
        person = api.factory.user(name=name)
        cm = api.factory.contact(person, CT.sms, f"+1201555{len(ids) + 110:04d}")
        api.factory.rule(person, cm, 0)
        ids.append(person.id)
    api.clock.now = datetime(2024, 3, 1, tzinfo=UTC)
    nights = [{"start": "01:00", "end": "03:00"}]
    days = [{"start": "00:30", "end": "00:00"}]  # nobody from midnight to 00:30
    schedule = api.schedule(
        [
            layer(ids[:3], "2024-03-01T02:30:00-05:00", name="Daily", restrictions=days),
            layer([ids[3]], "2024-03-01T00:00:00-05:00", restrictions=nights, name="Nights"),
        ],
        time_zone="America/New_York",
    )
    target = [{"type": "schedule", "id": schedule["id"]}]
    policy = api.post(
        "/escalation-policies",
        {"name": "P", "tiers": [{"delay_seconds": 60, "targets": target}] * 2},
    )
    service = api.post("/services", {"name": "S", "escalation_policy_id": policy["id"]})

    def on_call(at: datetime) -> str | None:
        found = api.get(f"/schedules/{schedule['id']}/oncall", at=at.isoformat())["users"]
        return found[0]["id"] if found else None

    def paged(incident_id: str, tier: int) -> list[str]:
        with database.transaction() as session:
            rows = session.scalars(
                select(Notification.user_id).where(
                    Notification.incident_id == incident_id, Notification.tier == tier
                )
            )
            return list(rows)

    spring = _around(datetime(2024, 3, 10), range(5, 9))  # 00:00-04:00 EST/EDT
    fall = _around(datetime(2024, 11, 3), range(4, 9))  # 00:00-03:00 EDT/EST
    checked = set()
    for at in spring + fall:
        api.clock.now = at
        incident = api.post("/incidents", {"service_id": service["id"], "title": str(at)})
        expected = on_call(at)
        assert paged(incident["id"], 0) == ([] if expected is None else [expected]), at
        later = at + timedelta(seconds=60)
        engine = Engine(database, settings, clock=lambda later=later: later)  # type: ignore[misc]
        engine.run_once()
        engine._pool.shutdown(wait=True)
        expected = on_call(later)
        assert paged(incident["id"], 1) == ([] if expected is None else [expected]), later
        checked.add(expected)
        api.call("POST", f"/incidents/{incident['id']}/resolve", 200)
    assert checked >= set(ids) | {None}, "every person, and nobody, was on call at some probe"
