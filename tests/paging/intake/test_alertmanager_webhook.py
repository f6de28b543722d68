"""Alertmanager's webhook (version 4 bodies): one incident per alert group."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from escalation.models import IncidentStatus
from paging.intake import alertmanager
from tests.paging.intake.conftest import Desk

GROUP_KEY = '{}/{severity="page"}:{alertname="HighLatency"}'


def alert(instance: str, status: str = "firing", **annotations: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": "HighLatency",
            "instance": instance,
            "job": "api",
            "severity": "page",
        },
        "annotations": {"runbook_url": "https://runbooks.example.com/latency", **annotations},
        "startsAt": "2024-05-01T10:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T10:20:00Z",
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency",
        "fingerprint": hashlib.sha1(instance.encode()).hexdigest()[:16],
    }


def notification(status: str, alerts: list[dict[str, Any]], **common: Any) -> dict[str, Any]:
    return {
        "receiver": "watchbill",
        "status": status,
        "alerts": alerts,
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "job": "api", "severity": "page"},
        "commonAnnotations": common.get("annotations", {}),
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": common.get("group_key", GROUP_KEY),
        "truncatedAlerts": 0,
    }


def post(desk: Desk, key: str, body: Any, status: int = 200) -> dict[str, Any]:
    response = desk.client.post(f"/integrations/alertmanager/{key}", json=body)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def test_firing_group_opens_one_incident_with_every_alert(desk: Desk) -> None:
    svc = desk.service()
    body = notification(
        "firing",
        [alert("api-1:9100"), alert("api-2:9100")],
        annotations={"summary": "API latency is above 500 ms"},
    )
    answer = post(desk, svc.key, body)
    assert answer["dedup_key"] == hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    [incident] = desk.incidents(svc.id)
    assert answer["incident_id"] == incident.id and answer["incident_status"] == "triggered"
    assert incident.title == "API latency is above 500 ms"
    assert incident.severity.value == "critical" and incident.urgency.value == "high"
    assert incident.source == "http://alertmanager.example.com:9093"
    details = incident.details or {}
    assert details["groupKey"] == GROUP_KEY
    assert [a["labels"]["instance"] for a in details["alerts"]] == ["api-1:9100", "api-2:9100"]
    assert details["commonLabels"]["job"] == "api"
    assert len(desk.pages(incident.id)) == 1
    assert desk.log(incident.id)[0].message.endswith(
        "via Alertmanager: API latency is above 500 ms"
    )


def test_title_falls_back_to_labels(desk: Desk) -> None:
    svc = desk.service()
    body = notification("firing", [alert("api-1:9100"), alert("api-2:9100")])
    body["groupLabels"] = {"alertname": "HighLatency", "cluster": "eu-1"}
    post(desk, svc.key, body)
    [incident] = desk.incidents(svc.id)
    assert incident.title == "HighLatency (cluster=eu-1): 2 alerts firing"


def test_repeat_notifications_refresh_details_without_paging_again(desk: Desk) -> None:
    svc = desk.service()
    post(desk, svc.key, notification("firing", [alert("api-1:9100")]))
    grown = notification("firing", [alert("api-1:9100"), alert("api-3:9100")])
    post(desk, svc.key, grown)
    [incident] = desk.incidents(svc.id)
    assert incident.trigger_count == 2
    assert len((incident.details or {})["alerts"]) == 2
    assert len(desk.pages(incident.id)) == 1
    assert "deduplicated" in desk.kinds(incident.id)


def test_group_resolving_resolves_the_incident_and_a_new_firing_opens_another(desk: Desk) -> None:
    svc = desk.service()
    post(desk, svc.key, notification("firing", [alert("api-1:9100")]))
    # One alert of two resolved: the group still fires.
    partly = notification("firing", [alert("api-1:9100"), alert("api-2:9100", "resolved")])
    post(desk, svc.key, partly)
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.triggered
    done = post(desk, svc.key, notification("resolved", [alert("api-1:9100", "resolved")]))
    assert done["incident_status"] == "resolved"
    [incident] = desk.incidents(svc.id)
    assert incident.status is IncidentStatus.resolved
    assert incident.resolved_by == "Alertmanager"
    again = post(desk, svc.key, notification("resolved", [alert("api-1:9100", "resolved")]))
    assert again["incident_id"] is None
    post(desk, svc.key, notification("firing", [alert("api-1:9100")]))
    assert [i.status for i in desk.incidents(svc.id)] == [
        IncidentStatus.resolved,
        IncidentStatus.triggered,
    ]


def test_groups_are_separate_incidents(desk: Desk) -> None:
    svc = desk.service()
    post(desk, svc.key, notification("firing", [alert("a")]))
    post(desk, svc.key, notification("firing", [alert("b")], group_key='{}:{alertname="Other"}'))
    assert len(desk.incidents(svc.id)) == 2


def test_severity_labels_map_to_severity() -> None:
    body = notification("firing", [alert("a")])
    for label, expected in (("warning", "warning"), ("info", "info"), ("nonsense", "error")):
        body["commonLabels"]["severity"] = label
        parsed = alertmanager.parse(json.dumps(body).encode())
        assert alertmanager.severity_of(parsed).value == expected


def test_grafana_shaped_body_is_accepted(desk: Desk) -> None:
    svc = desk.service()
    body = notification("firing", [alert("a")])
    body.update({"orgId": 1, "title": "[FIRING:1] Disk full", "state": "alerting", "message": "m"})
    body["version"] = "1"
    body["groupLabels"], body["commonLabels"] = {}, {}
    post(desk, svc.key, body)
    [incident] = desk.incidents(svc.id)
    assert incident.title == "[FIRING:1] Disk full"


def test_unknown_key_is_404_and_bad_bodies_400(desk: Desk) -> None:
    svc = desk.service()
    body = notification("firing", [alert("a")])
    response = desk.client.post("/integrations/alertmanager/nope", json=body)
    assert response.status_code == 404
    broken = copy.deepcopy(body)
    broken.update({"status": "burning", "alerts": [{"labels": {"a": 1}}], "groupKey": ""})
    errors = post(desk, svc.key, broken, status=400)["errors"]
    assert errors == [
        "'groupKey' is missing or blank",
        "'status' must be one of firing, resolved",
        "'alerts.0.labels' must be an object of strings",
        "'alerts.0.status' must be one of firing, resolved",
    ]
    assert post(desk, svc.key, [], status=400)["errors"] == ["the body must be a JSON object"]
    assert desk.incidents(svc.id) == []
