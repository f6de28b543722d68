"""Every rejection is a 422 problem naming the field, and changes nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.api.schedules.conftest import Api, layer

HANDOFF = "2024-03-01T09:00:00Z"

Mutate = Callable[[dict[str, Any], list[str]], None]


def _set_layer(**changes: Any) -> Mutate:
    def mutate(body: dict[str, Any], ids: list[str]) -> None:
        body["layers"][0].update(changes)

    return mutate


def _set_rotation(**changes: Any) -> Mutate:
    def mutate(body: dict[str, Any], ids: list[str]) -> None:
        body["layers"][0]["rotation"].update(changes)

    return mutate


def _restriction(**window: Any) -> Mutate:
    return _set_layer(restrictions=[{"start": "09:00", "end": "17:00", **window}])


CREATE_CASES: dict[str, tuple[Mutate, str]] = {
    "empty users": (_set_layer(users=[]), "layers.0.users"),
    "unknown user": (_set_layer(users=["nobody"]), "layers.0.users"),
    "shift length 0": (_set_rotation(shift_length=0), "layers.0.rotation.shift_length"),
    "shift length negative": (_set_rotation(shift_length=-3), "layers.0.rotation.shift_length"),
    "bad shift unit": (_set_rotation(shift_unit="months"), "layers.0.rotation.shift_unit"),
    "end before start": (_set_layer(end="2024-02-01T00:00:00Z"), "layers.0.end"),
    "end equals start": (_set_layer(end=HANDOFF), "layers.0.end"),
    "naive start": (_set_layer(start="2024-03-01T09:00:00"), "layers.0.start"),
    "naive handoff": (_set_rotation(handoff="2024-03-01T09:00:00"), "layers.0.rotation.handoff"),
    "restriction time 25:00": (_restriction(start="25:00"), "layers.0.restrictions.0.start"),
    "restriction time 9am": (_restriction(end="9am"), "layers.0.restrictions.0.end"),
    "restriction day": (_restriction(days=["funday"]), "layers.0.restrictions.0.days.0"),
    "restriction no days": (_restriction(days=[]), "layers.0.restrictions.0.days"),
    "unknown zone": (lambda b, ids: b.update(time_zone="Mars/Olympus"), "time_zone"),
    "unknown team": (lambda b, ids: b.update(team_id="nope"), "team_id"),
    "layer id on create": (_set_layer(id="x"), "layers.0.id"),
}


def test_create_rejections_name_the_field(api: Api) -> None:
    ids = [p.id for p in api.users("Ada", "Bob")]
    body = {"name": "P", "time_zone": "UTC", "layers": [layer(ids, HANDOFF)]}
    for case, (mutate, field) in sorted(CREATE_CASES.items()):
        bad = copy.deepcopy(body)
        mutate(bad, ids)
        response = api.client.post("/api/v1/schedules", json=bad, headers=api.headers)
        assert response.status_code == 422, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (case, response.text)
    assert api.get("/schedules")["items"] == []
    api.post("/schedules", body)  # the unmodified body is fine


def test_edit_rejections_name_the_field(api: Api) -> None:
    ids = [p.id for p in api.users("Ada", "Bob")]
    s = api.schedule([layer(ids, HANDOFF), layer(ids, HANDOFF)])
    path, lid = f"/schedules/{s['id']}", s["layers"][0]["id"]
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("PATCH", f"{path}/layers/{lid}", {"users": []}, "users"),
        ("PATCH", f"{path}/layers/{lid}", {"users": ["ghost"]}, "users"),
        ("PATCH", f"{path}/layers/{lid}", {"end": "2020-01-01T00:00:00Z"}, "end"),
        ("PATCH", f"{path}/layers/{lid}", {"effective_from": "2024-03-01T00:00"}, "effective_from"),
        ("PATCH", path, {"layers": [dict(s["layers"][0], id="nope")]}, "layers.0.id"),
        ("PATCH", path, {"layers": [s["layers"][0], s["layers"][0]]}, "layers.1.id"),
        ("PATCH", path, {"time_zone": "Nowhere/Town"}, "time_zone"),
        ("POST", f"{path}/layers", dict(layer(ids, HANDOFF), users=[]), "users"),
        ("POST", f"{path}/layers", dict(layer(ids, HANDOFF), end="2000-01-01T00:00:00Z"), "end"),
    ]
    for method, url, body, field in cases:
        answer = api.call(method, url, 422, json=body)
        assert field in [e["field"] for e in answer["errors"]], (url, body, answer)
    assert len(api.get(f"{path}/layers/{lid}/versions")["items"]) == 1


def test_query_rejections_name_the_field(api: Api) -> None:
    (ada,) = api.users("Ada")
    sid = api.schedule([layer([ada.id], HANDOFF)])["id"]
    cases: list[tuple[str, dict[str, str], str]] = [
        ("timeline", {"since": "2024-01-01T00:00:00Z", "until": "2025-01-03T00:00:00Z"}, "until"),
        ("timeline", {"since": "2024-02-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"}, "until"),
        ("timeline", {"since": "2024-01-01T00:00:00"}, "since"),
        ("oncall", {"at": "2024-01-01T00:00:00"}, "at"),
        ("oncall", {"at": "yesterday"}, "at"),
        ("overrides", {"since": "2024-02-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"}, "until"),
    ]
    for route, params, field in cases:
        answer = api.call("GET", f"/schedules/{sid}/{route}", 422, params=params)
        assert field in [e["field"] for e in answer["errors"]], (route, params, answer)
    year: dict[str, Any] = {"since": "2024-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}
    api.get(f"/schedules/{sid}/timeline", **year)  # a full (leap) year is fine
    answer = api.call("GET", f"/users/{ada.id}/next-shift", 422, params={"horizon_days": 400})
    assert answer["errors"][0]["field"] == "horizon_days"


def test_override_rejections_name_the_field(api: Api) -> None:
    ada, bob = api.users("Ada", "Bob")
    sid = api.schedule([layer([ada.id], HANDOFF)])["id"]
    start, end = "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"user_id": "ghost", "start": start, "end": end}, "user_id"),
        ({"user_id": bob.id, "start": end, "end": start}, "end"),
        ({"user_id": bob.id, "start": start, "end": start}, "end"),
        ({"user_id": bob.id, "start": "2024-03-05T00:00:00", "end": end}, "start"),
        ({"user_id": bob.id, "start": start}, "end"),
    ]
    for body, field in cases:
        answer = api.post(f"/schedules/{sid}/overrides", body, status=422)
        assert field in [e["field"] for e in answer["errors"]], (body, answer)
    assert api.get(f"/schedules/{sid}/overrides")["items"] == []


def test_day_names_are_accepted_in_any_case_and_length(api: Api) -> None:
    (ada,) = api.users("Ada")
    window = {"start": "22:00", "end": "06:00", "days": ["Monday", "TUE", "wed"]}
    created = api.schedule([layer([ada.id], HANDOFF, restrictions=[window])])
    assert created["layers"][0]["restrictions"][0]["days"] == ["mon", "tue", "wed"]
