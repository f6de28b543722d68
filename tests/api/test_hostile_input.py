"""No server error on any input: the issue-13 campaign's cases, each a clear 422 (or 404)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from paging.intake.maintenance import MAX_WINDOW_DAYS
from schedules.overrides import MAX_OVERRIDE_DAYS
from store.db import Database
from store.settings import Settings
from tests.api.role_world import T0, World, build, fingerprint
from tests.conftest import admin_headers

ADMIN = admin_headers()
FAR = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z",
       "2201-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"]  # fmt: skip


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings, database, clock=lambda: T0)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(database: Database) -> World:
    return build(database)


def fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


NULLS = [
        ("/api/v1/users/{self}", "name"),
        ("/api/v1/users/{self}", "email"),
        ("/api/v1/users/{self}", "time_zone"),
        ("/api/v1/users/{self}", "role"),
        ("/api/v1/services/{service}", "name"),
        ("/api/v1/services/{service}", "escalation_policy_id"),
        ("/api/v1/services/{service}/heartbeats/{heartbeat}", "interval_seconds"),
        ("/api/v1/schedules/{schedule}", "name"),
        ("/api/v1/schedules/{schedule}", "time_zone"),
        ("/api/v1/schedules/{schedule}/layers/{layer}", "users"),
        ("/api/v1/schedules/{schedule}/layers/{layer}", "start"),
]  # fmt: skip


def test_null_for_a_required_field_is_422_naming_it(
    client: TestClient, database: Database, world: World
) -> None:
    before = fingerprint(database)
    for path, field in NULLS:
        response = client.patch(world.path(path), json={field: None}, headers=ADMIN)
        assert fields(response) == {field}, path
    assert fingerprint(database) == before


def test_null_where_null_means_something_is_still_accepted(
    client: TestClient, world: World
) -> None:
    edits = [
        ("/api/v1/users/{self}", {"quiet_start": None, "quiet_end": None}),
        ("/api/v1/services/{service}", {"team_id": None, "acknowledgement_timeout_seconds": None}),
        ("/api/v1/schedules/{schedule}/layers/{layer}", {"end": None}),
    ]
    for path, body in edits:
        response = client.patch(world.path(path), json=body, headers=ADMIN)
        assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/schedules/{schedule}/oncall", "at"),
        ("/api/v1/schedules/{schedule}/timeline", "since"),
        ("/api/v1/schedules/{schedule}/timeline", "until"),
        ("/api/v1/users/{self}/next-shift", "after"),
        ("/api/v1/schedules/{schedule}/overrides", "since"),
        ("/api/v1/schedules/{schedule}", "at"),
        ("/api/v1/audit", "since"),
    ],
)
def test_timestamps_out_of_range_in_queries_are_422(
    client: TestClient, world: World, path: str, name: str
) -> None:
    for value in FAR:
        response = client.get(world.path(path), params={name: value}, headers=ADMIN)
        assert fields(response) == {name}, value
        assert "years 1970 to 2200" in response.json()["detail"]


def _dated_bodies(world: World, value: str) -> list[tuple[str, dict[str, Any], str]]:
    """Bodies holding the instant ``value``, where they go, and the field named when refused."""
    windows = "/api/v1/services/{service}/maintenance-windows"
    rotation = {"handoff": value, "shift_length": 1, "shift_unit": "days"}
    me = world.ids["self"]
    return [
        (windows, {"start": value}, "start"),
        (windows, {"end": value}, "end"),
        ("/api/v1/schedules/{schedule}/overrides",
         {"user_id": me, "start": value, "end": "2030-07-01T00:00:00Z"}, "start"),
        ("/api/v1/schedules/{schedule}/layers",
         {"name": "L", "start": value, "users": [me], "rotation": rotation}, "start"),
    ]  # fmt: skip


def test_timestamps_out_of_range_in_bodies_are_422(
    client: TestClient, database: Database, world: World
) -> None:
    before = fingerprint(database)
    for value in FAR:
        for path, body, field in _dated_bodies(world, value):
            response = client.post(world.path(path), json=body, headers=ADMIN)
            assert field in fields(response), body
    assert fingerprint(database) == before


def test_overrides_and_maintenance_windows_have_maximum_lengths(
    client: TestClient, database: Database, world: World
) -> None:
    start = T0 + timedelta(days=1)
    override = world.path("/api/v1/schedules/{schedule}/overrides")
    window = world.path("/api/v1/services/{service}/maintenance-windows")
    before = fingerprint(database)
    too_long = [
        (override, {"user_id": world.ids["self"], "start": start.isoformat(),
                    "end": (start + timedelta(days=MAX_OVERRIDE_DAYS, seconds=1)).isoformat()}),
        (window, {"start": start.isoformat(),
                  "end": (start + timedelta(days=MAX_WINDOW_DAYS, seconds=1)).isoformat()}),
        (window, {"start": "1970-01-01T00:00:00Z", "end": (T0 + timedelta(hours=1)).isoformat()}),
    ]  # fmt: skip
    for path, body in too_long:
        response = client.post(path, json=body, headers=ADMIN)
        assert fields(response) == {"end"}
        assert "at most" in response.json()["detail"]
    assert fingerprint(database) == before
    longest = [
        (override, {"user_id": world.ids["spare"], "start": start.isoformat(),
                    "end": (start + timedelta(days=MAX_OVERRIDE_DAYS)).isoformat()}),
        (window, {"start": start.isoformat(),
                  "end": (start + timedelta(days=MAX_WINDOW_DAYS)).isoformat()}),
    ]  # fmt: skip
    for path, body in longest:
        assert client.post(path, json=body, headers=ADMIN).status_code == 201


CONTROL = ["\x00", "\x1b[31m", "\r", "\x7f", "\x07", "\x85", "\x0b"]


def _texts(world: World, char: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """Requests with ``char`` in one string, and the field named when refused."""
    return [
        ("POST", "/api/v1/teams", {"name": f"O{char}ps"}, "name"),
        ("PATCH", "/api/v1/users/{self}", {"name": f"Ada{char}Lovelace"}, "name"),
        ("POST", "/api/v1/incidents",
         {"service_id": world.ids["service"], "title": f"Disk{char}full"}, "title"),
        ("POST", "/api/v1/incidents",
         {"service_id": world.ids["service"], "title": "t", "details": {"k": [f"v{char}"]}},
         "details"),
        ("POST", "/api/v1/incidents",
         {"service_id": world.ids["service"], "title": "t", "details": {f"k{char}": 1}},
         "details"),
        ("POST", "/api/v1/services/{service}/maintenance-windows",
         {"description": f"upgrade{char}"}, "description"),
        ("POST", "/api/v1/teams/{team}/members", {"user_id": f"x{char}", "role": "observer"},
         "user_id"),
        ("POST", "/api/v1/tokens", {"name": f"c{char}i"}, "name"),
    ]  # fmt: skip


def test_control_characters_in_any_string_are_422(
    client: TestClient, database: Database, world: World
) -> None:
    before = fingerprint(database)
    for char in CONTROL:
        for method, path, body, field in _texts(world, char):
            response = client.request(method, world.path(path), json=body, headers=ADMIN)
            assert fields(response) == {field}, (path, body)
            assert "control character" in response.json()["detail"]
    assert fingerprint(database) == before


def test_tab_and_newline_are_text(client: TestClient, world: World) -> None:
    body = {"service_id": world.ids["service"], "title": "Disk\tfull", "details": {"log": "a\nb"}}
    assert client.post("/api/v1/incidents", json=body, headers=ADMIN).status_code == 201


def test_an_ics_may_hold_carriage_returns_but_no_other_control_character(
    client: TestClient, world: World
) -> None:
    path = world.path("/api/v1/schedules/{schedule}/imports")
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//EN\r\nEND:VCALENDAR\r\n"
    assert client.post(path, json={"ics": ics}, headers=ADMIN).status_code == 201
    assert fields(client.post(path, json={"ics": ics + "\x00"}, headers=ADMIN)) == {"ics"}
    upload = client.post(
        f"{path}/upload", files={"file": ("x.ics", (ics + "\x1b").encode())}, headers=ADMIN
    )
    assert fields(upload) == {"file"}
    named = client.post(
        f"{path}/upload", files={"file": ("x.ics", ics.encode())}, data={"name": "a\x00"},
        headers=ADMIN,
    )  # fmt: skip
    assert fields(named) == {"name"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/%00",
        "/api/v1/teams/a%00b/members",
        "/api/v1/schedules/%1b/oncall",
        "/calendars/schedules/%00.ics",
        "/calendars/users/abc%00.ics",
        "/integrations/alertmanager/%00",
        "/heartbeats/%00",
        "/links/%00",
    ],
)
def test_nul_in_a_path_is_404(client: TestClient, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = client.request(method, path, headers=ADMIN)
        assert response.status_code == 404, (method, response.text)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/schedules", {"team_id": "a\x00"}, "team_id"),
        ("/api/v1/incidents", {"service_id": "\x00"}, "service_id"),
        ("/api/v1/users", {"cursor": "\x00"}, "cursor"),
        ("/api/v1/schedules/{schedule}/next-shift", {"user_id": "\x00"}, "user_id"),
        ("/calendars/schedules/{schedule}.ics", {"gaps": "\x00"}, "gaps"),
    ],
)
def test_nul_in_a_query_is_422_naming_the_parameter(
    client: TestClient, world: World, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(world.path(path), params=params, headers=ADMIN)
    assert fields(response) == {field}
