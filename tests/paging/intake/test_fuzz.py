"""Whatever arrives, events in answer 2xx or 4xx with a reason, never 5xx (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paging.intake import alertmanager, pagerduty
from tests.paging.intake.conftest import Desk, trigger_body
from tests.paging.intake.test_alertmanager_webhook import alert, notification

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "links",
    "images",
    "client",
    "client_url",
]
PAYLOAD_FIELDS = ["summary", "source", "severity", "timestamp", "component", "group", "class"]


@st.composite
def mutated_events(draw: st.DrawFn, key: str = "k" * 32) -> dict[str, Any]:
    """PagerDuty's example with some fields replaced by arbitrary JSON (or removed)."""
    body = trigger_body(key)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body[name] = draw(json_values)
        else:
            body.pop(name, None)
    payload = body.get("payload")
    if isinstance(payload, dict):
        for name in draw(st.lists(st.sampled_from(PAYLOAD_FIELDS), max_size=3, unique=True)):
            payload[name] = draw(json_values)
    return body


AM_FIELDS = ["groupKey", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations"]


@st.composite
def mutated_notifications(draw: st.DrawFn) -> dict[str, Any]:
    """An Alertmanager v4 body with some fields (or one alert's) replaced by arbitrary JSON."""
    body = notification("firing", [alert("api-1:9100"), alert("api-2:9100")])
    body["status"] = draw(st.sampled_from(["firing", "resolved"]))
    for name in draw(st.lists(st.sampled_from(AM_FIELDS), max_size=2, unique=True)):
        body[name] = draw(json_values)
    if draw(st.booleans()):
        target = (
            body["alerts"][0] if isinstance(body.get("alerts"), list) and body["alerts"] else {}
        )
        if isinstance(target, dict):
            key = draw(st.sampled_from(["labels", "annotations", "status", "startsAt"]))
            target[key] = draw(json_values)
    return body


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_parsers_only_ever_raise_invalid_event(raw: bytes) -> None:
    for parse in (pagerduty.parse_v2, pagerduty.parse_v1, alertmanager.parse):
        try:
            parse(raw)
        except pagerduty.InvalidEvent as exc:
            assert exc.errors and all(isinstance(e, str) for e in exc.errors)


@settings(max_examples=300, deadline=None)
@given(body=mutated_events())
def test_mutated_events_parse_or_are_invalid(body: dict[str, Any]) -> None:
    try:
        event = pagerduty.parse_v2(json.dumps(body).encode())
    except pagerduty.InvalidEvent as exc:
        assert exc.errors
    else:
        assert event.action in pagerduty.ACTIONS
        assert len(event.summary) <= pagerduty.MAX_SUMMARY


def test_http_never_answers_5xx(desk: Desk) -> None:
    key = desk.service().key
    paths = [
        "/v2/enqueue",
        "/generic/2010-04-15/create_event.json",
        f"/integrations/alertmanager/{key}",
    ]

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=mutated_events(key) | mutated_notifications() | json_values,
        path=st.sampled_from(paths),
    )
    def check(body: Any, path: str) -> None:
        response = desk.client.post(path, content=json.dumps(body).encode())
        assert response.status_code in (200, 202, 400), response.text
        if response.status_code == 400:
            assert response.json()["status"] == "invalid event"
            assert response.json()["errors"]

    check()
