"""Maintenance windows: events are recorded and logged, nobody is paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from escalation.models import IncidentStatus
from paging.intake import holds, maintenance
from people.models import TeamRole
from tests.paging.intake.conftest import Desk, trigger_body
from tests.waiting import stays, wait_until

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


def window(desk: Desk, service_id: str, status: int = 201, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = desk.api(
        "POST", f"/services/{service_id}/maintenance-windows", status, body
    )
    return result


def run_timers(desk: Desk, at: datetime) -> None:
    """What the engine does for windows and holds at ``at`` (its steps, with a given clock)."""
    with desk.database.transaction() as session:
        maintenance.due_ends(session, at)
        holds.due_releases(session, at)


def test_events_during_a_window_are_recorded_but_page_no_one(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = T0
    made = window(desk, svc.id, end=(T0 + timedelta(hours=1)).isoformat(), description="deploy")
    assert made["active"] is True and made["page_on_end"] is False
    desk.enqueue(trigger_body(svc.key, dedup_key="during"))
    desk.enqueue(trigger_body(svc.key, dedup_key="during"))
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.triggered and incident.trigger_count == 2
    assert desk.pages(incident.id) == []
    assert desk.kinds(incident.id) == ["triggered", "maintenance", "deduplicated"]
    message = desk.log(incident.id)[1].message
    assert message.startswith("Service in maintenance until 2024-05-06 13:00 UTC")
    # The window ends: nothing is paged for what happened inside it.
    run_timers(desk, T0 + timedelta(hours=1))
    assert desk.pages(incident.id) == []
    assert desk.kinds(incident.id)[-1] == "maintenance_ended"
    assert desk.api("GET", f"/services/{svc.id}/maintenance-windows/{made['id']}", 200)["closed_at"]
    # After the window, a new event pages as usual.
    desk.clock.now = T0 + timedelta(hours=1, seconds=1)
    desk.enqueue(trigger_body(svc.key, dedup_key="after"))
    [after] = desk.by_key(svc.id, "after")
    assert len(desk.pages(after.id)) == 1


def test_page_on_end_pages_what_is_still_open_when_the_window_ends(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = T0
    window(desk, svc.id, end=(T0 + timedelta(minutes=30)).isoformat(), page_on_end=True)
    for key in ("still-open", "fixed"):
        desk.enqueue(trigger_body(svc.key, dedup_key=key))
    desk.enqueue({"routing_key": svc.key, "dedup_key": "fixed", "event_action": "resolve"})
    run_timers(desk, T0 + timedelta(minutes=29))
    [still] = desk.by_key(svc.id, "still-open")
    assert desk.pages(still.id) == []
    run_timers(desk, T0 + timedelta(minutes=30))
    assert len(desk.pages(still.id)) == 1
    assert "released" in desk.kinds(still.id)
    [fixed] = desk.by_key(svc.id, "fixed")
    assert desk.pages(fixed.id) == []


def test_window_without_end_lasts_the_longest_or_until_ended(live_desk: Desk) -> None:
    desk = live_desk
    svc = desk.service()
    made = window(desk, svc.id)
    length = datetime.fromisoformat(made["end"]) - datetime.fromisoformat(made["start"])
    assert length == timedelta(days=maintenance.MAX_WINDOW_DAYS) and made["active"] is True
    desk.enqueue(trigger_body(svc.key, dedup_key="inside"))
    [incident] = desk.incidents(svc.id)
    assert stays(lambda: desk.pages(incident.id) == [], 1.0)
    path = f"/services/{svc.id}/maintenance-windows/{made['id']}"
    ended = desk.api("POST", f"{path}/end", 200, {"page_on_end": True})
    assert ended["active"] is False and ended["ended_by"] == "admin-token"
    wait_until(lambda: [p for p in desk.pages(incident.id) if p.status.value == "sent"], timeout=3)
    desk.api("POST", f"{path}/end", 409)


def test_future_windows_and_validation(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = T0
    base = f"/services/{svc.id}/maintenance-windows"
    later = window(
        desk,
        svc.id,
        start=(T0 + timedelta(hours=2)).isoformat(),
        end=(T0 + timedelta(hours=3)).isoformat(),
    )
    assert later["active"] is False
    desk.enqueue(trigger_body(svc.key, dedup_key="before"))
    [incident] = desk.incidents(svc.id)
    assert len(desk.pages(incident.id)) == 1, "a window that has not started does not hold"
    desk.api("POST", f"{base}/{later['id']}/end", 409)
    window(desk, svc.id, 422, start=T0.isoformat(), end=(T0 - timedelta(hours=1)).isoformat())
    window(desk, svc.id, 422, end="2024-05-06T13:00:00")  # no offset
    assert len(desk.api("GET", base, 200)["items"]) == 1
    desk.api("DELETE", f"{base}/{later['id']}", 204)
    running = window(desk, svc.id)
    desk.api("DELETE", f"{base}/{running['id']}", 409)


def test_only_managers_may_start_maintenance(desk: Desk) -> None:
    """A window mutes a service: the team's managers (and admins) decide, not responders."""
    team = desk.factory.team()
    svc = desk.service(team_id=team)
    manager, responder, observer = desk.factory.user(), desk.factory.user(), desk.factory.user()
    desk.factory.member(team, manager, TeamRole.manager)
    desk.factory.member(team, responder, TeamRole.responder)
    desk.factory.member(team, observer, TeamRole.observer)
    path = f"/api/v1/services/{svc.id}/maintenance-windows"
    assert desk.client.post(path, json={}, headers=observer.headers).status_code == 403
    assert desk.client.post(path, json={}, headers=responder.headers).status_code == 403
    assert desk.client.post(path, json={}, headers=manager.headers).status_code == 201
