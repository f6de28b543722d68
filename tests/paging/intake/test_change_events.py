"""PagerDuty Change Events: ``POST /v2/change/enqueue`` keeps a change with its service, never
pages, and an incident's answer lists the service's recent changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pagerduty
import pytest
import uvicorn

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.factories import Factory
from tests.fakes.tls_relay import TlsRelay
from tests.paging.intake.conftest import Desk, Svc
from tests.waiting import wait_until

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def change(key: str, **payload: Any) -> dict[str, Any]:
    """PagerDuty's documented change event example, aimed at ``key``."""
    return {
        "routing_key": key,
        "payload": {
            "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
            "timestamp": "2026-03-02T09:30:00Z",
            "source": "acme-build-pipeline-tool-default-i-9999",
            "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s"},
            **payload,
        },
        "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details"}],
    }


def _post(desk: Desk, body: Any) -> Any:
    return desk.client.post("/v2/change/enqueue", json=body)


def _changes(desk: Desk, service_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = desk.api("GET", f"/services/{service_id}/changes", 200)["items"]
    return items


def test_a_change_event_is_kept_with_its_service_and_pages_nobody(desk: Desk) -> None:
    svc = desk.service()
    answer = _post(desk, change(svc.key))
    assert answer.status_code == 202
    assert answer.json() == {"status": "success", "message": "Change event processed"}
    [kept] = _changes(desk, svc.id)
    assert kept["summary"] == "Build Success: Increase snapshot create timeout to 30 seconds"
    assert kept["source"] == "acme-build-pipeline-tool-default-i-9999"
    assert datetime.fromisoformat(kept["happened_at"]) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert kept["custom_details"]["build_number"] == "2"
    assert kept["links"] == [
        {"href": "https://acme.pagerduty.dev/build/2", "text": "View more details"}
    ]
    assert desk.incidents(svc.id) == []


def test_an_incident_lists_the_changes_of_the_day_before_it_opened(desk: Desk) -> None:
    svc = desk.service()
    other = desk.service()
    desk.clock.now = T0
    _post(desk, change(svc.key, summary="Deploy v41", timestamp="2026-03-01T08:00:00Z"))  # too old
    _post(desk, change(svc.key, summary="Deploy v42", timestamp="2026-03-02T08:00:00Z"))
    _post(desk, change(svc.key, summary="Flag checkout-v2 on", timestamp="2026-03-02T09:55:00Z"))
    _post(desk, change(other.key, summary="Another service's deploy"))
    incident = desk.api("POST", "/incidents", 201, {"service_id": svc.id, "title": "5xx"})
    desk.clock.now = T0 + timedelta(minutes=5)
    _post(desk, change(svc.key, summary="Rollback", timestamp="2026-03-02T10:05:00Z"))  # after
    shown = desk.incident(incident["id"])
    assert [c["summary"] for c in shown["recent_changes"]] == ["Flag checkout-v2 on", "Deploy v42"]
    assert len(_changes(desk, svc.id)) == 4


def test_a_change_without_a_timestamp_happened_when_it_arrived(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = T0
    body = change(svc.key)
    del body["payload"]["timestamp"]
    assert _post(desk, body).status_code == 202
    assert datetime.fromisoformat(_changes(desk, svc.id)[0]["happened_at"]) == T0


def test_changes_are_kept_for_ninety_days(desk: Desk) -> None:
    svc = desk.service()
    desk.clock.now = T0
    _post(desk, change(svc.key, summary="Old deploy"))
    desk.clock.now = T0 + timedelta(days=90)
    _post(desk, change(svc.key, summary="Deploy"))
    assert len(_changes(desk, svc.id)) == 2
    desk.clock.now = T0 + timedelta(days=91)
    _post(desk, change(svc.key, summary="Next deploy"))
    assert "Old deploy" not in {c["summary"] for c in _changes(desk, svc.id)}
    assert len(_changes(desk, svc.id)) == 2


@pytest.mark.parametrize(
    ("mangle", "error"),
    [
        (lambda b: b.pop("routing_key"), "'routing_key' is missing"),
        (lambda b: b.update(routing_key="no-such-key"), "'routing_key' is not the integration key"),
        (lambda b: b.pop("payload"), "'payload' is missing or not an object"),
        (lambda b: b["payload"].pop("summary"), "'payload.summary' is missing"),
        (lambda b: b["payload"].update(summary="x" * 1025), "longer than 1024 characters"),
        (lambda b: b["payload"].update(timestamp="yesterday"), "not an ISO 8601 timestamp"),
        (lambda b: b.update(links="https://x"), "'links' must be a list of objects"),
    ],
)
def test_an_invalid_change_event_is_400_naming_what_is_wrong(
    desk: Desk, mangle: Any, error: str
) -> None:
    svc = desk.service()
    body = change(svc.key)
    mangle(body)
    answer = _post(desk, body)
    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid event"
    assert any(error in e for e in answer.json()["errors"]), answer.json()
    assert _changes(desk, svc.id) == []


def test_a_change_event_that_is_not_json_is_400(desk: Desk) -> None:
    answer = desk.client.post(
        "/v2/change/enqueue", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == ["the body is not valid JSON"]


# --- the official PagerDuty client, over https ---------------------------------------------


@pytest.fixture
def relay(settings: Settings, database: Database, factory: Factory) -> Iterator[TlsRelay]:
    """Watchbill on a loopback port (uvicorn), behind a TLS relay."""
    app = create_app(settings, database)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="watchbill-http", daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    port = server.servers[0].sockets[0].getsockname()[1]
    with TlsRelay(port) as tls:
        yield tls
    server.should_exit = True
    thread.join(timeout=10)


def test_pagerdutys_own_client_sends_change_events_and_events(relay: TlsRelay, desk: Desk) -> None:
    svc: Svc = desk.service()
    client = pagerduty.EventsApiV2Client(svc.key, base_url=relay.url, verify=relay.client_context())
    client.send_change_event(
        payload={
            "summary": "Deployed checkout v42",
            "source": "ci",
            "timestamp": "2026-03-02T09:30:00Z",
            "custom_details": {"commit": "abc123"},
        },
        links=[{"href": "https://ci.example.com/builds/42", "text": "Build 42"}],
    )
    [kept] = _changes(desk, svc.id)
    assert kept["summary"] == "Deployed checkout v42"
    assert kept["custom_details"] == {"commit": "abc123"}
    assert desk.incidents(svc.id) == []
    dedup_key = client.trigger("Checkout errors above 5%", "checkout-1", severity="critical")
    [incident] = desk.incidents(svc.id)
    assert incident.dedup_key == dedup_key
    assert client.acknowledge(dedup_key) == dedup_key
    assert desk.incident(incident.id)["status"] == "acknowledged"
    with pytest.raises(pagerduty.Error):
        pagerduty.EventsApiV2Client(
            "not-a-key", base_url=relay.url, verify=relay.client_context()
        ).send_change_event(payload={"summary": "x", "source": "ci"})
