"""Urgency by severity and support hours (deferred pages), and responders' quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from escalation.models import IncidentStatus
from paging.engine.loop import Engine
from store.settings import Settings
from tests.paging.intake.conftest import Desk, trigger_body

SATURDAY_NOON_BERLIN = datetime(2024, 5, 4, 10, 0, tzinfo=UTC)
MONDAY_0900_BERLIN = datetime(2024, 5, 6, 7, 0, tzinfo=UTC)


def event(desk: Desk, key: str, severity: str, dedup_key: str) -> None:
    body = trigger_body(key, dedup_key=dedup_key)
    body["payload"]["severity"] = severity
    desk.enqueue(body)


def office_hours(desk: Desk, service_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "time_zone": "Europe/Berlin",
        "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
        ],
        **extra,
    }
    result: dict[str, Any] = desk.api("PUT", f"/services/{service_id}/support-hours", 200, body)
    return result


def run_engine_at(desk: Desk, settings: Settings, at: datetime) -> Engine:
    """One engine pass with an injected clock (no scheduler): what a tick at ``at`` does."""
    engine = Engine(desk.database, settings, clock=lambda: at)
    engine.run_once()
    engine._pool.shutdown(wait=True)  # deliveries handed to the pool have finished
    return engine


def test_support_hours_api(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = SATURDAY_NOON_BERLIN
    shown = office_hours(desk, svc.id, urgency_outside={"error": "low"})
    assert shown["in_support_hours"] is False
    assert shown["next_start"] == "2024-05-06T07:00:00Z"
    assert shown["urgency_outside"] == {"error": "low"}
    path = f"/services/{svc.id}/support-hours"
    assert desk.api("GET", path, 200)["windows"][0]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    bad_zone = {"time_zone": "Mars/Olympus", "windows": [{"start": "09:00", "end": "17:00"}]}
    desk.api("PUT", path, 422, bad_zone)
    desk.api("PUT", path, 422, {"time_zone": "UTC", "windows": []})
    desk.api("PUT", path, 422, {"time_zone": "UTC", "windows": [{"start": "9", "end": "17:00"}]})
    desk.api("DELETE", path, 204)
    desk.api("GET", path, 404)


def test_low_urgency_outside_support_hours_waits_for_them(desk: Desk, settings: Settings) -> None:
    svc = desk.service()
    office_hours(desk, svc.id, urgency_outside={"error": "low"})
    desk.clock.now = SATURDAY_NOON_BERLIN
    event(desk, svc.key, "critical", "db-down")
    event(desk, svc.key, "error", "errors-up")
    event(desk, svc.key, "warning", "disk-80")
    [critical] = desk.by_key(svc.id, "db-down")
    [error] = desk.by_key(svc.id, "errors-up")
    [warning] = desk.by_key(svc.id, "disk-80")
    assert critical.urgency.value == "high" and len(desk.pages(critical.id)) == 1
    for held in (error, warning):
        assert held.urgency.value == "low"
        assert desk.pages(held.id) == []
        entry = desk.log(held.id)[-1]
        assert entry.kind == "deferred"
        assert entry.message.endswith("2024-05-06 09:00 Europe/Berlin (2024-05-06 07:00 UTC)")
    # Acknowledged meanwhile: no page when support hours begin.
    desk.api("POST", f"/incidents/{warning.id}/acknowledge", 200)
    desk.api("POST", f"/incidents/{critical.id}/resolve", 200)
    engine = run_engine_at(desk, settings, MONDAY_0900_BERLIN - timedelta(seconds=1))
    assert desk.pages(error.id) == []
    assert engine.next_due() == MONDAY_0900_BERLIN  # the durable timer the engine honours
    run_engine_at(desk, settings, MONDAY_0900_BERLIN)
    [page] = desk.pages(error.id)
    assert page.send_at == MONDAY_0900_BERLIN
    kinds = desk.kinds(error.id)
    assert kinds[kinds.index("released") + 1] == "notify_tier"
    assert desk.pages(warning.id) == []


def test_inside_support_hours_everything_pages_at_once(desk: Desk) -> None:
    svc = desk.service()
    office_hours(desk, svc.id, urgency_during={"info": "high"})
    desk.clock.now = MONDAY_0900_BERLIN + timedelta(hours=1)
    event(desk, svc.key, "info", "info")
    event(desk, svc.key, "warning", "warning")
    urgencies = {i.dedup_key: i.urgency.value for i in desk.incidents(svc.id)}
    assert urgencies == {"info": "high", "warning": "low"}
    assert all(len(desk.pages(i.id)) == 1 for i in desk.incidents(svc.id))


def test_a_service_without_support_hours_pages_low_urgency_at_once(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = SATURDAY_NOON_BERLIN
    event(desk, svc.key, "info", "i")
    [incident] = desk.incidents(svc.id)
    assert incident.urgency.value == "low" and len(desk.pages(incident.id)) == 1


def test_maintenance_then_support_hours(desk: Desk, settings: Settings) -> None:
    """Released by a maintenance window's end (page_on_end), it still waits for support hours."""
    svc = desk.service()
    office_hours(desk, svc.id)
    desk.clock.now = SATURDAY_NOON_BERLIN
    end = SATURDAY_NOON_BERLIN + timedelta(hours=1)
    body = {"end": end.isoformat(), "page_on_end": True}
    desk.api("POST", f"/services/{svc.id}/maintenance-windows", 201, body)
    event(desk, svc.key, "info", "low")
    [incident] = desk.incidents(svc.id)
    run_engine_at(desk, settings, end)
    assert desk.pages(incident.id) == []
    assert desk.kinds(incident.id)[-2:] == ["maintenance", "deferred"]
    run_engine_at(desk, settings, MONDAY_0900_BERLIN)
    assert len(desk.pages(incident.id)) == 1
    assert desk.incidents(svc.id)[0].status is IncidentStatus.triggered


# --- quiet hours ---------------------------------------------------------------------------


def quiet_responder(desk: Desk, svc_person_id: str) -> None:
    desk.api(
        "PATCH",
        f"/users/{svc_person_id}",
        200,
        {"time_zone": "Europe/Berlin", "quiet_start": "22:00", "quiet_end": "07:00"},
    )


def test_quiet_hours_hold_low_urgency_pages_until_morning(desk: Desk) -> None:
    svc = desk.service()
    quiet_responder(desk, svc.responder.id)
    night = datetime(2024, 5, 6, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
    desk.clock.now = night
    event(desk, svc.key, "warning", "low")
    event(desk, svc.key, "critical", "high")
    [low] = desk.by_key(svc.id, "low")
    [high] = desk.by_key(svc.id, "high")
    [held] = desk.pages(low.id)
    assert held.send_at == datetime(2024, 5, 7, 5, 0, tzinfo=UTC)  # 07:00 in Berlin
    entry = next(e for e in desk.log(low.id) if e.kind == "quiet_hours")
    assert entry.message.startswith("Low-urgency page to User ")
    assert entry.message.endswith(" held for quiet hours until 2024-05-07 07:00 Europe/Berlin")
    [urgent] = desk.pages(high.id)
    assert urgent.send_at == night
    assert "quiet_hours" not in desk.kinds(high.id)


def test_quiet_hours_do_not_apply_outside_them(desk: Desk) -> None:
    svc = desk.service()
    quiet_responder(desk, svc.responder.id)
    noon = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    desk.clock.now = noon
    event(desk, svc.key, "info", "low")
    [incident] = desk.incidents(svc.id)
    [page] = desk.pages(incident.id)
    assert page.send_at == noon
