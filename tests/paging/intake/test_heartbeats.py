"""Heartbeat monitors: CRUD, pings, a missed interval opens an incident, a ping resolves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from escalation.models import IncidentStatus
from paging.intake import heartbeats
from paging.intake.models import Heartbeat
from people.models import TeamRole
from tests.paging.intake.conftest import Desk
from tests.waiting import stays, wait_until


def monitor(desk: Desk, service_id: str, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = desk.api(
        "POST", f"/services/{service_id}/heartbeats", 201, {"name": "nightly-backup", **body}
    )
    return created


def ping(desk: Desk, url: str, status: int = 200) -> dict[str, Any]:
    response = desk.client.post(url.removeprefix("http://testserver"))
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def test_crud_and_ping_url(desk: Desk) -> None:
    svc = desk.service()
    made = monitor(desk, svc.id, interval_seconds=3600, grace_seconds=60)
    assert made["state"] == "inactive" and made["next_due_at"] is None
    assert made["ping_url"].startswith("http://testserver/heartbeats/")
    base = f"/services/{svc.id}/heartbeats"
    assert [h["id"] for h in desk.api("GET", base, 200)["items"]] == [made["id"]]
    desk.api("POST", base, 409, {"name": "nightly-backup", "interval_seconds": 60})
    desk.api("POST", base, 422, {"name": "x", "interval_seconds": 0})
    desk.clock.now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    answer = ping(desk, made["ping_url"])
    assert answer["heartbeat"] == "nightly-backup"
    got = desk.api("GET", f"{base}/{made['id']}", 200)
    assert got["state"] == "up"
    assert got["next_due_at"] == "2024-05-06T13:01:00Z"
    patched = desk.api("PATCH", f"{base}/{made['id']}", 200, {"interval_seconds": 60})
    assert patched["next_due_at"] == "2024-05-06T12:02:00Z"
    rotated = desk.api("POST", f"{base}/{made['id']}/rotate-token", 200)
    assert rotated["ping_url"] != made["ping_url"]
    ping(desk, made["ping_url"], status=404)
    desk.api("DELETE", f"{base}/{made['id']}", 204)
    desk.api("GET", f"{base}/{made['id']}", 404)
    ping(desk, rotated["ping_url"], status=404)


def test_only_team_managers_manage_monitors_but_anyone_with_the_url_pings(desk: Desk) -> None:
    team = desk.factory.team()
    svc = desk.service(team_id=team)
    responder = desk.factory.user()
    desk.factory.member(team, responder, TeamRole.responder)
    body = {"name": "job", "interval_seconds": 60}
    response = desk.client.post(
        f"/api/v1/services/{svc.id}/heartbeats", json=body, headers=responder.headers
    )
    assert response.status_code == 403
    made = monitor(desk, svc.id, interval_seconds=60)
    assert desk.client.post(made["ping_url"].removeprefix("http://testserver")).status_code == 200
    assert desk.client.post("/heartbeats/not-a-token").status_code == 404
    assert desk.client.post("/heartbeats/a%00b").status_code == 404


def test_engine_step_opens_and_a_ping_resolves_with_injected_time(desk: Desk) -> None:
    svc = desk.service()
    made = monitor(desk, svc.id, interval_seconds=60, grace_seconds=30)
    start = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    desk.clock.now = start
    ping(desk, made["ping_url"])
    with desk.database.transaction() as session:
        assert heartbeats.due_misses(session, start + timedelta(seconds=89)) == 0
    with desk.database.transaction() as session:
        assert heartbeats.due_misses(session, start + timedelta(seconds=90)) == 1
    with desk.database.transaction() as session:  # once missed, not again
        assert heartbeats.due_misses(session, start + timedelta(seconds=900)) == 0
    [incident] = desk.incidents(svc.id)
    assert incident.title == "Heartbeat 'nightly-backup' missed"
    assert incident.dedup_key == f"heartbeat:{made['id']}"
    assert "heartbeat_missed" in desk.kinds(incident.id)
    assert desk.api("GET", f"/services/{svc.id}/heartbeats/{made['id']}", 200)["state"] == "missed"
    desk.clock.now = start + timedelta(seconds=120)
    ping(desk, made["ping_url"])
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.resolved
    assert incident.resolved_by == "heartbeat:nightly-backup"


def test_missed_heartbeat_pages_and_the_next_ping_resolves_in_real_time(live_desk: Desk) -> None:
    desk = live_desk
    svc = desk.service()
    made = monitor(desk, svc.id, interval_seconds=1)
    ping(desk, made["ping_url"])
    [incident] = wait_until(lambda: desk.incidents(svc.id), timeout=4)
    with desk.database.transaction() as session:
        row = session.get(Heartbeat, made["id"])
        assert row is not None and row.last_ping_at is not None
        late = (incident.created_at - row.last_ping_at).total_seconds()
    assert 1.0 <= late < 2.0, late  # timely: the engine's timer, not the sweep
    wait_until(lambda: [p for p in desk.pages(incident.id) if p.status.value == "sent"], timeout=3)
    ping(desk, made["ping_url"])
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.resolved
    # Kept alive by pings, nothing new opens; after they stop, a new incident does.

    def kept_alive() -> bool:
        ping(desk, made["ping_url"])
        return len(desk.incidents(svc.id)) == 1

    assert stays(kept_alive, 1.5)
    second = wait_until(lambda: desk.incidents(svc.id)[1:], timeout=4)
    assert second[0].status is IncidentStatus.triggered
