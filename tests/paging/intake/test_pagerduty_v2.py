"""PagerDuty Events API v2 and v1 over HTTP: incidents, dedup, acknowledge, resolve, log."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event

from escalation.models import IncidentStatus
from tests.paging.intake.conftest import Desk, trigger_body


def test_documented_trigger_example_opens_an_incident_that_pages(desk: Desk) -> None:
    svc = desk.service()
    answer = desk.enqueue(trigger_body(svc.key))
    assert answer == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "samplekeyhere",
    }
    [incident] = desk.incidents(svc.id)
    assert incident.title == "Example alert on host1.example.com"
    assert incident.severity.value == "info" and incident.urgency.value == "low"
    assert incident.status is IncidentStatus.triggered
    assert incident.source is not None and incident.source.startswith("monitoringtool:")
    details = incident.details or {}
    assert details["custom_details"] == {"ping time": "1500ms", "load avg": 0.75}
    assert details["component"] == "postgres" and details["group"] == "prod-datapipe"
    assert details["class"] == "deploy"
    assert details["links"] == [{"href": "https://example.com/", "text": "Link text"}]
    assert details["images"][0]["alt"] == "Example text"
    assert details["client"] == "Sample Monitoring Service"
    assert details["timestamp"] == "2015-07-17T08:42:58.315000+00:00"
    assert desk.kinds(incident.id)[:2] == ["triggered", "notify_tier"]
    assert [p.user_id for p in desk.pages(incident.id)] == [svc.responder.id]
    assert "Events API v2" in desk.log(incident.id)[0].message


def test_missing_dedup_key_is_generated_and_returned(desk: Desk) -> None:
    svc = desk.service()
    body = trigger_body(svc.key)
    del body["dedup_key"]
    first = desk.enqueue(body)["dedup_key"]
    second = desk.enqueue(body)["dedup_key"]
    assert first != second and len(first) == 32
    assert {i.dedup_key for i in desk.incidents(svc.id)} == {first, second}


def test_repeated_triggers_attach_to_the_open_incident_and_are_not_paged(desk: Desk) -> None:
    svc = desk.service()
    for _ in range(3):
        desk.enqueue(trigger_body(svc.key, dedup_key="disk-full"))
    [incident] = desk.incidents(svc.id)
    assert incident.trigger_count == 3
    assert desk.kinds(incident.id).count("deduplicated") == 2
    assert len(desk.pages(incident.id)) == 1, "paged once"
    api_view = desk.incident(incident.id)
    assert api_view["trigger_count"] == 3


def test_acknowledge_then_resolve_by_dedup_key(desk: Desk) -> None:
    svc = desk.service()
    desk.enqueue(trigger_body(svc.key, dedup_key="db-1"))
    ack = desk.enqueue({"routing_key": svc.key, "dedup_key": "db-1", "event_action": "acknowledge"})
    assert ack == {"status": "success", "message": "Event processed", "dedup_key": "db-1"}
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.acknowledged
    assert all(p.status.value == "cancelled" for p in desk.pages(incident.id))
    # While acknowledged, a repeated trigger is counted but pages no one.
    desk.enqueue(trigger_body(svc.key, dedup_key="db-1"))
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.acknowledged and incident.trigger_count == 2
    assert len(desk.pages(incident.id)) == 1
    desk.enqueue({"routing_key": svc.key, "dedup_key": "db-1", "event_action": "resolve"})
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.resolved
    kinds = desk.kinds(incident.id)
    assert "acknowledged" in kinds and "resolved" in kinds and "deduplicated" in kinds
    resolved = next(e for e in desk.log(incident.id) if e.kind == "resolved")
    assert resolved.message == "Resolved by monitoring tool via Events API v2"


def test_acknowledge_and_resolve_never_create(desk: Desk) -> None:
    svc = desk.service()
    for action in ("acknowledge", "resolve"):
        answer = desk.enqueue({"routing_key": svc.key, "dedup_key": "nope", "event_action": action})
        assert answer["dedup_key"] == "nope"
    assert desk.incidents(svc.id) == []


def test_a_trigger_after_resolve_opens_a_new_incident(desk: Desk) -> None:
    svc = desk.service()
    desk.enqueue(trigger_body(svc.key, dedup_key="k"))
    desk.enqueue({"routing_key": svc.key, "dedup_key": "k", "event_action": "resolve"})
    desk.enqueue({"routing_key": svc.key, "dedup_key": "k", "event_action": "resolve"})
    desk.enqueue(trigger_body(svc.key, dedup_key="k"))
    first, second = desk.by_key(svc.id, "k")
    assert (first.status, second.status) == (IncidentStatus.resolved, IncidentStatus.triggered)
    assert (first.number, second.number) == (1, 2)
    assert len(desk.pages(second.id)) == 1


def test_events_are_per_service(desk: Desk) -> None:
    one, two = desk.service(), desk.service()
    desk.enqueue(trigger_body(one.key, dedup_key="same"))
    desk.enqueue(trigger_body(two.key, dedup_key="same"))
    desk.enqueue({"routing_key": two.key, "dedup_key": "same", "event_action": "resolve"})
    assert [i.status for i in desk.incidents(one.id)] == [IncidentStatus.triggered]
    assert [i.status for i in desk.incidents(two.id)] == [IncidentStatus.resolved]


def test_severity_sets_urgency(desk: Desk) -> None:
    svc = desk.service()
    for severity in ("critical", "error", "warning", "info"):
        body = trigger_body(svc.key, dedup_key=severity)
        body["payload"]["severity"] = severity
        desk.enqueue(body)
    urgency = {i.dedup_key: i.urgency.value for i in desk.incidents(svc.id)}
    assert urgency == {"critical": "high", "error": "high", "warning": "low", "info": "low"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"event_action": "trigger"}, "'routing_key' is missing or blank"),
        ({"routing_key": "k", "event_action": "fire"}, "'event_action' must be one of"),
        ({"routing_key": "k", "event_action": "resolve"}, "'dedup_key' is missing or blank"),
        ({"routing_key": "k", "event_action": "trigger"}, "'payload' is missing"),
        (
            {"routing_key": "k", "event_action": "trigger", "payload": {"source": "a"}},
            "'payload.summary' is missing or blank",
        ),
        (
            {
                "routing_key": "k",
                "event_action": "trigger",
                "payload": {"summary": "x" * 1025, "source": "a", "severity": "info"},
            },
            "'payload.summary' is longer than 1024 characters",
        ),
        (
            {"routing_key": "k", "event_action": "trigger", "dedup_key": "d" * 256},
            "'dedup_key' is longer than 255 characters",
        ),
        (
            {
                "routing_key": "k",
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "a", "severity": "sev1"},
            },
            "'payload.severity' must be one of critical, error, warning, info",
        ),
        (
            {
                "routing_key": "k",
                "event_action": "trigger",
                "payload": {"summary": 3, "source": ["a"], "severity": "info", "timestamp": "soon"},
            },
            "'payload.timestamp' is not an ISO 8601 timestamp",
        ),
        ({"routing_key": 7, "event_action": "trigger"}, "'routing_key' must be a string"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_invalid_events_get_400_with_errors(desk: Desk, body: object, expected: str) -> None:
    answer = desk.enqueue(body, status=400)
    assert answer["status"] == "invalid event"
    assert answer["message"] == "Event object is invalid"
    assert any(e.startswith(expected) for e in answer["errors"]), answer["errors"]


def test_every_problem_is_listed(desk: Desk) -> None:
    body = {"routing_key": "k", "event_action": "trigger", "payload": {"summary": 3}}
    errors = desk.enqueue(body, status=400)["errors"]
    assert errors == [
        "'payload.summary' must be a string",
        "'payload.source' is missing or blank",
        "'payload.severity' must be one of critical, error, warning, info",
    ]


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"{", b'{"a": NaN}', b'{"a": 1e999}', b"[" * 5000, b"\xff\xfe", b"null"],
)
def test_bodies_that_are_not_json_objects_get_400(desk: Desk, raw: bytes) -> None:
    response = desk.client.post(
        "/v2/enqueue", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "invalid event"


def test_unknown_routing_key_is_an_invalid_event(desk: Desk) -> None:
    answer = desk.enqueue(trigger_body("0" * 32), status=400)
    assert answer["errors"] == ["'routing_key' is not the integration key of any service"]


def test_strings_the_database_cannot_store_are_refused(desk: Desk) -> None:
    svc = desk.service()
    nul = trigger_body(svc.key, dedup_key="a\x00b")
    assert desk.enqueue(nul, status=400)["errors"] == [
        "'dedup_key' must not contain NUL characters"
    ]
    surrogate = b'{"routing_key": "k", "event_action": "trigger", "x": "\\ud800"}'
    response = desk.client.post("/v2/enqueue", content=surrogate)
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["errors"][0]
    deep = {"routing_key": svc.key, "event_action": "trigger"}
    payload = trigger_body(svc.key)["payload"]
    nested: object = "leaf"
    for _ in range(100):
        nested = {"n": nested}
    payload["custom_details"] = nested
    deep["payload"] = payload
    assert "nested" in desk.enqueue(deep, status=400)["errors"][0]


def test_custom_details_may_hold_any_json(desk: Desk) -> None:
    svc = desk.service()
    for i, details in enumerate(["text", 42, [1, "two", None], {"nul": "a\x00b", "ü": "✓"}]):
        body = trigger_body(svc.key, dedup_key=f"d{i}")
        body["payload"]["custom_details"] = details
        desk.enqueue(body)
    stored = [i.details["custom_details"] for i in desk.incidents(svc.id) if i.details]
    assert stored == ["text", 42, [1, "two", None], {"nul": "a\x00b", "ü": "✓"}]


def test_a_streamed_body_over_512_kb_is_413_problem_and_opens_nothing(desk: Desk) -> None:
    """No Content-Length to refuse up front: the limit is crossed while the body is read."""
    svc = desk.service()

    def chunks() -> Iterator[bytes]:
        yield b'{"routing_key": "' + svc.key.encode() + b'", "padding": "'
        for _ in range(9):
            yield b"x" * 65536

    response = desk.client.post(
        "/v2/enqueue", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert desk.incidents(svc.id) == []


def test_the_events_routes_answer_other_methods_as_any_route_does(desk: Desk) -> None:
    assert desk.client.get("/v2/enqueue").status_code == 405
    assert desk.client.post("/v2/enqueue/more", json={}).status_code == 404
    documented = desk.client.get("/openapi.json").json()["paths"]
    assert "post" in documented["/v2/enqueue"]
    assert "post" in documented["/generic/2010-04-15/create_event.json"]


def test_body_over_512_kb_is_413(desk: Desk) -> None:
    svc = desk.service()
    body = trigger_body(svc.key)
    body["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
    response = desk.client.post("/v2/enqueue", json=body)
    assert response.status_code == 413
    just_under = trigger_body(svc.key)
    just_under["payload"]["custom_details"] = {"blob": "x" * (500 * 1024)}
    assert desk.client.post("/v2/enqueue", json=just_under).status_code == 202


def test_rate_limit_per_routing_key_answers_429(desk: Desk) -> None:
    from api.asgi.fast_path import KeyRateLimiter

    now = [0.0]
    desk.client.app.state.events_limiter = KeyRateLimiter(60, 3, clock=lambda: now[0])  # type: ignore[attr-defined]
    busy, calm = desk.service(), desk.service()
    for i in range(3):
        desk.enqueue(trigger_body(busy.key, dedup_key=f"k{i}"))
    response = desk.client.post("/v2/enqueue", json=trigger_body(busy.key, dedup_key="k3"))
    assert response.status_code == 429
    assert response.json()["status"] == "throttle exceeded"
    assert response.headers["retry-after"] == "1"
    assert len(desk.incidents(busy.id)) == 3, "a throttled event is not ingested"
    desk.enqueue(trigger_body(calm.key))  # other keys are unaffected
    now[0] += 1.0  # one token back (60 per minute)
    desk.enqueue(trigger_body(busy.key, dedup_key="k3"))
    assert desk.client.post("/v2/enqueue", json=trigger_body(busy.key)).status_code == 429


# --- Events API v1 -------------------------------------------------------------------------


def test_events_v1_trigger_acknowledge_resolve(desk: Desk) -> None:
    svc = desk.service()
    path = "/generic/2010-04-15/create_event.json"
    trigger = {
        "service_key": svc.key,
        "event_type": "trigger",
        "incident_key": "srv01/HTTP",
        "description": "FAILURE for production/HTTP on machine srv01.acme.com",
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.service.com",
        "details": {"ping time": "1500ms", "load avg": 0.75},
    }
    response = desk.client.post(path, json=trigger)
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "incident_key": "srv01/HTTP",
    }
    assert desk.client.post(path, json=trigger).status_code == 200
    [incident] = desk.incidents(svc.id)
    assert incident.title.startswith("FAILURE for production/HTTP")
    assert incident.trigger_count == 2
    assert (incident.details or {})["details"] == {"ping time": "1500ms", "load avg": 0.75}
    for kind, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        body = {"service_key": svc.key, "event_type": kind, "incident_key": "srv01/HTTP"}
        assert desk.client.post(path, json=body).status_code == 200
        [incident] = desk.incidents(svc.id)
        assert incident.status.value == status
    bad = desk.client.post(path, json={"service_key": svc.key, "event_type": "trigger"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == ["'description' is missing or blank"]


def test_concurrent_triggers_with_one_key_open_one_incident_and_count_every_one(
    desk: Desk,
) -> None:
    """A storm of one alert: repeats are tried first as units of their own, and the triggers
    that find nothing open race to open it; one wins, every other one is counted once."""
    svc = desk.service()
    storm = 24

    body = trigger_body(svc.key, dedup_key="disk-full")
    with ThreadPoolExecutor(storm) as senders:  # the app serves them all at once
        answers = list(
            senders.map(lambda _: desk.client.post("/v2/enqueue", json=body), range(storm))
        )
    assert [a.status_code for a in answers] == [202] * storm
    [incident] = desk.incidents(svc.id)
    assert incident.trigger_count == storm and incident.number == 1
    repeats = [e for e in desk.log(incident.id) if e.kind == "deduplicated"]
    assert sorted((e.data or {})["count"] for e in repeats) == list(range(2, storm + 1))
    assert len(desk.pages(incident.id)) == 1, "paged once"


def test_on_postgresql_a_repeat_is_counted_in_the_event_loop_not_through_the_orm(
    desk: Desk,
) -> None:
    """The hot path: one statement on the event loop's async connection; the log entry is the
    one the other path writes, to the character."""
    if desk.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no async driver: repeats go through a worker thread")
    svc = desk.service()
    desk.enqueue(trigger_body(svc.key, dedup_key="disk-full"))
    through_sqlalchemy: list[str] = []

    def record(*args: Any, **_kwargs: Any) -> None:
        through_sqlalchemy.append(args[2])

    event.listen(desk.database.engine, "before_cursor_execute", record)
    try:
        desk.enqueue(trigger_body(svc.key, dedup_key="disk-full"))
    finally:
        event.remove(desk.database.engine, "before_cursor_execute", record)
    assert through_sqlalchemy == []
    [incident] = desk.incidents(svc.id)
    [entry] = [e for e in desk.log(incident.id) if e.kind == "deduplicated"]
    assert (entry.message, entry.data) == (
        "Triggered again via Events API v2 (#2); not paged again",
        {"count": 2},
    )
    assert entry.at == incident.updated_at
