"""Every write route × every kind of actor (the rule in ``people/access.py`` and the README's
role table): the allowed ones get the route's success status, the others 403 problem+json and
no change to the database at all (every row of every table is compared)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.api.role_world import ACTORS, ICS, T0, World, build, fingerprint, unique

#: The rows of the README's role table (its bold labels) and who each one allows.
ROWS: dict[str, frozenset[str]] = {
    "The organisation": frozenset({"admin"}),
    "A person's own things": frozenset({"admin", "self"}),
    "What a team owns": frozenset({"admin", "manager"}),
    "The team's incidents": frozenset({"admin", "manager", "responder", "self"}),
    "An override of one's own": frozenset({"admin", "manager", "self"}),
}
ADMIN = ROWS["The organisation"]
PERSON = ROWS["A person's own things"]
MANAGERS = ROWS["What a team owns"]
RESPONDERS = ROWS["The team's incidents"]
OWN_OVERRIDE = ROWS["An override of one's own"]

Body = dict[str, Any] | Callable[[World, str], dict[str, Any]] | None


@dataclass(frozen=True)
class Route:
    operation: str  # "METHOD /openapi/path/{param}"
    url: str  # the same with the world's ids: "{self}", "{schedule}", ...
    allowed: frozenset[str]
    status: int
    body: Body = None
    extra: dict[str, Any] = field(default_factory=dict)  # files/data for multipart

    def call(self, client: TestClient, world: World, actor: str) -> Any:
        body = self.body(world, actor) if callable(self.body) else self.body
        method = self.operation.split()[0]
        return client.request(
            method, world.path(self.url), json=body, headers=world.headers(actor), **self.extra
        )


def _own_override(w: World, actor: str) -> dict[str, Any]:
    start, end = T0.replace(day=20).isoformat(), T0.replace(day=21).isoformat()
    return {"user_id": w.user_ids.get(actor, w.ids["self"]), "start": start, "end": end}


def _layer(w: World, actor: str) -> dict[str, Any]:
    start = "2030-05-01T00:00:00Z"
    return {
        "name": "Second",
        "start": start,
        "users": [w.ids["self"]],
        "rotation": {"handoff": start, "shift_length": 1, "shift_unit": "weeks"},
    }


def _tiers(w: World, actor: str) -> dict[str, Any]:
    target = {"type": "user", "id": w.ids["self"]}
    return {
        "name": unique("P"),
        "team_id": w.ids["team"],
        "tiers": [{"delay_seconds": 60, "targets": [target]}],
    }


U, S, SVC = "/api/v1/users", "/api/v1/schedules/{schedule}", "/api/v1/services/{service}"
SID, VID = "/api/v1/schedules/{schedule_id}", "/api/v1/services/{service_id}"
HB, MW = "/heartbeats/{heartbeat_id}", "/maintenance-windows/{window_id}"
ROUTES: dict[str, Route] = {
    # --- people: the person's own things ---------------------------------------------------
    "create user": Route(
        "POST /api/v1/users",
        U,
        ADMIN,
        201,
        lambda w, a: {
            "name": "New",
            "email": f"{unique('n').replace(' ', '')}@example.com",
            "time_zone": "UTC",
        },
    ),
    "edit profile": Route(
        "PATCH /api/v1/users/{user_id}", U + "/{self}", PERSON, 200, {"name": "Renamed"}
    ),
    "change role": Route(
        "PATCH /api/v1/users/{user_id}", U + "/{self}", ADMIN, 200, {"role": "admin"}
    ),
    "delete user": Route("DELETE /api/v1/users/{user_id}", U + "/{spare}", ADMIN, 204),
    "rotate user calendar url": Route(
        "POST /api/v1/users/{user_id}/rotate-ical", U + "/{self}/rotate-ical", PERSON, 200
    ),
    "add contact method": Route(
        "POST /api/v1/users/{user_id}/contact-methods",
        U + "/{self}/contact-methods",
        PERSON,
        201,
        {"type": "sms", "address": "+12015550199"},
    ),
    "confirm contact method": Route(
        "POST /api/v1/contact-methods/{cm_id}/verify",
        "/api/v1/contact-methods/{sms}/verify",
        PERSON,
        200,
        lambda w, a: {"code": w.code},
    ),
    "resend verification": Route(
        "POST /api/v1/contact-methods/{cm_id}/resend-verification",
        "/api/v1/contact-methods/{sms}/resend-verification",
        PERSON,
        202,
    ),
    "send test page": Route(
        "POST /api/v1/contact-methods/{cm_id}/test",
        "/api/v1/contact-methods/{email}/test",
        PERSON,
        202,
    ),
    "delete contact method": Route(
        "DELETE /api/v1/contact-methods/{cm_id}", "/api/v1/contact-methods/{email}", PERSON, 204
    ),
    "add notification rule": Route(
        "POST /api/v1/users/{user_id}/notification-rules",
        U + "/{self}/notification-rules",
        PERSON,
        201,
        lambda w, a: {"contact_method_id": w.ids["email"], "delay_seconds": 60},
    ),
    "change notification rule": Route(
        "PATCH /api/v1/notification-rules/{rule_id}",
        "/api/v1/notification-rules/{rule}",
        PERSON,
        200,
        {"delay_seconds": 120},
    ),
    "set password": Route(
        "PUT /api/v1/users/{user_id}/password",
        U + "/{self}/password",
        PERSON,
        204,
        {"password": "correct horse battery staple"},
    ),
    "delete notification rule": Route(
        "DELETE /api/v1/notification-rules/{rule_id}",
        "/api/v1/notification-rules/{rule}",
        PERSON,
        204,
    ),
    "create token for self": Route(
        "POST /api/v1/tokens",
        "/api/v1/tokens",
        PERSON,
        201,
        lambda w, a: {"name": "t", "user_id": w.ids["self"]},
    ),
    "revoke token of self": Route(
        "DELETE /api/v1/tokens/{token_id}", "/api/v1/tokens/{spare_token}", PERSON, 200
    ),
    # --- teams -------------------------------------------------------------------------------
    "create team": Route(
        "POST /api/v1/teams", "/api/v1/teams", ADMIN, 201, lambda w, a: {"name": unique("T")}
    ),
    "add team member": Route(
        "POST /api/v1/teams/{team_id}/members",
        "/api/v1/teams/{team}/members",
        MANAGERS,
        201,
        lambda w, a: {"user_id": w.ids["spare"], "role": "responder"},
    ),
    "remove team member": Route(
        "DELETE /api/v1/teams/{team_id}/members/{user_id}",
        "/api/v1/teams/{team}/members/{self}",
        MANAGERS,
        204,
    ),
    # --- schedules -----------------------------------------------------------------------------
    "create schedule": Route(
        "POST /api/v1/schedules",
        "/api/v1/schedules",
        MANAGERS,
        201,
        lambda w, a: {"name": unique("S"), "time_zone": "UTC", "team_id": w.ids["team"]},
    ),
    "replace schedule": Route(
        "PUT " + SID,
        S,
        MANAGERS,
        200,
        lambda w, a: {"name": "R", "time_zone": "UTC", "team_id": w.ids["team"], "layers": []},
    ),
    "edit schedule": Route("PATCH " + SID, S, MANAGERS, 200, {"name": "Renamed"}),
    "delete schedule": Route("DELETE " + SID, S, MANAGERS, 204),
    "rotate schedule calendar url": Route(
        f"POST {SID}/rotate-ical", S + "/rotate-ical", MANAGERS, 200
    ),
    "add layer": Route(f"POST {SID}/layers", S + "/layers", MANAGERS, 201, _layer),
    "edit layer": Route(
        f"PATCH {SID}/layers/{{layer_id}}",
        S + "/layers/{layer}",
        MANAGERS,
        200,
        {"name": "Renamed"},
    ),
    "end layer": Route(f"DELETE {SID}/layers/{{layer_id}}", S + "/layers/{layer}", MANAGERS, 204),
    "override for someone else": Route(
        f"POST {SID}/overrides",
        S + "/overrides",
        MANAGERS,
        201,
        lambda w, a: {**_own_override(w, a), "user_id": w.ids["spare"]},
    ),
    "override putting oneself on call": Route(
        f"POST {SID}/overrides", S + "/overrides", RESPONDERS, 201, _own_override
    ),
    "cancel an override of self": Route(
        f"DELETE {SID}/overrides/{{override_id}}", S + "/overrides/{override}", OWN_OVERRIDE, 204
    ),
    "import a calendar": Route(f"POST {SID}/imports", S + "/imports", MANAGERS, 201, {"ics": ICS}),
    "upload a calendar": Route(
        f"POST {SID}/imports/upload",
        S + "/imports/upload",
        MANAGERS,
        201,
        extra={"files": {"file": ("team.ics", ICS.encode(), "text/calendar")}},
    ),
    "refresh an import": Route(
        f"POST {SID}/imports/{{import_id}}/refresh", S + "/imports/{import}/refresh", MANAGERS, 202
    ),
    "delete an import": Route(
        f"DELETE {SID}/imports/{{import_id}}", S + "/imports/{import}", MANAGERS, 204
    ),
    # --- escalation policies and services -------------------------------------------------
    "create policy": Route(
        "POST /api/v1/escalation-policies", "/api/v1/escalation-policies", MANAGERS, 201, _tiers
    ),
    "replace policy": Route(
        "PUT /api/v1/escalation-policies/{policy_id}",
        "/api/v1/escalation-policies/{policy}",
        MANAGERS,
        200,
        _tiers,
    ),
    "delete policy": Route(
        "DELETE /api/v1/escalation-policies/{policy_id}",
        "/api/v1/escalation-policies/{spare_policy}",
        MANAGERS,
        204,
    ),
    "create service": Route(
        "POST /api/v1/services",
        "/api/v1/services",
        MANAGERS,
        201,
        lambda w, a: {
            "name": unique("S"),
            "team_id": w.ids["team"],
            "escalation_policy_id": w.ids["policy"],
        },
    ),
    "edit service": Route("PATCH " + VID, SVC, MANAGERS, 200, {"name": "Renamed"}),
    "rotate integration key": Route(f"POST {VID}/rotate-key", SVC + "/rotate-key", MANAGERS, 200),
    "create heartbeat": Route(
        f"POST {VID}/heartbeats",
        SVC + "/heartbeats",
        MANAGERS,
        201,
        {"name": "nightly", "interval_seconds": 86400},
    ),
    "edit heartbeat": Route(
        f"PATCH {VID}{HB}", SVC + "/heartbeats/{heartbeat}", MANAGERS, 200, {"grace_seconds": 30}
    ),
    "delete heartbeat": Route(f"DELETE {VID}{HB}", SVC + "/heartbeats/{heartbeat}", MANAGERS, 204),
    "rotate ping url": Route(
        f"POST {VID}{HB}/rotate-token", SVC + "/heartbeats/{heartbeat}/rotate-token", MANAGERS, 200
    ),
    "start maintenance": Route(
        f"POST {VID}/maintenance-windows",
        SVC + "/maintenance-windows",
        MANAGERS,
        201,
        {"end": "2030-06-03T14:00:00Z"},
    ),
    "end maintenance": Route(
        f"POST {VID}{MW}/end", SVC + "/maintenance-windows/{active_window}/end", MANAGERS, 200
    ),
    "delete maintenance": Route(
        f"DELETE {VID}{MW}", SVC + "/maintenance-windows/{future_window}", MANAGERS, 204
    ),
    "set support hours": Route(
        f"PUT {VID}/support-hours",
        SVC + "/support-hours",
        MANAGERS,
        200,
        {"time_zone": "UTC", "windows": [{"start": "08:00", "end": "18:00"}]},
    ),
    "remove support hours": Route(
        f"DELETE {VID}/support-hours", SVC + "/support-hours", MANAGERS, 204
    ),
    # --- incidents -------------------------------------------------------------------------
    "open incident": Route(
        "POST /api/v1/incidents",
        "/api/v1/incidents",
        RESPONDERS,
        201,
        lambda w, a: {"service_id": w.ids["service"], "title": "Down"},
    ),
    **{
        f"{action} incident": Route(
            f"POST /api/v1/incidents/{{incident_id}}/{action}",
            f"/api/v1/incidents/{{incident}}/{action}",
            RESPONDERS,
            200,
        )
        for action in ("acknowledge", "resolve", "escalate")
    },
    "add incident note": Route(
        "POST /api/v1/incidents/{incident_id}/notes",
        "/api/v1/incidents/{incident}/notes",
        RESPONDERS,
        201,
        {"text": "Looking at it"},
    ),
}

#: Routes whose credential is in the URL or a signature (no bearer token, no roles).
CREDENTIAL_ROUTES = {
    "POST /v2/enqueue",
    "POST /v2/change/enqueue",
    "POST /generic/2010-04-15/create_event.json",
    "POST /integrations/alertmanager/{integration_key}",
    "POST /heartbeats/{token}",
    "POST /webhooks/twilio/sms",
    "POST /webhooks/twilio/voice/{notification_id}",
    "POST /webhooks/twilio/status/{notification_id}",
    "POST /links/{token}",
}


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings, database, clock=lambda: T0)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_write_route_role_matrix(client: TestClient, database: Database, route: str) -> None:
    """Refused actors first, all against one world; each allowed actor on a world of its own."""
    spec = ROUTES[route]
    world = build(database)
    for actor in ACTORS:
        if actor in spec.allowed:
            continue
        before = fingerprint(database)
        response = spec.call(client, world, actor)
        assert response.status_code == 403, (actor, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert fingerprint(database) == before, f"{actor}: a refused write changed the database"
    for actor in sorted(spec.allowed):
        response = spec.call(client, build(database), actor)
        assert response.status_code == spec.status, (actor, response.status_code, response.text)


def test_write_routes_without_a_valid_token_are_401(client: TestClient, database: Database) -> None:
    world = build(database)
    world.tokens["nobody"] = "not-a-token"
    before = fingerprint(database)
    for name, spec in sorted(ROUTES.items()):
        response = spec.call(client, world, "nobody")
        assert response.status_code == 401, name
    assert fingerprint(database) == before


def test_the_matrix_covers_every_write_route(client: TestClient) -> None:
    """A new write route fails here until it is given its row (and a line in the README)."""
    document = client.get("/openapi.json").json()
    writes = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    covered = {spec.operation for spec in ROUTES.values()}
    assert covered <= writes, covered - writes
    assert writes - CREDENTIAL_ROUTES == covered, (writes - CREDENTIAL_ROUTES) ^ covered


def readme_role_table() -> dict[str, frozenset[str]]:
    """The README's role table: each row's bold label → the actors it ticks."""
    readme = Path("README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- role table -->")[1]
    rows = [line for line in table.splitlines() if line.startswith("|") and "---" not in line]
    labels = dict(zip((c.strip() for c in rows[0].strip("|").split("|")[1:]), ACTORS, strict=True))
    found: dict[str, frozenset[str]] = {}
    for row in rows[1:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        label = re.match(r"\*\*(.+?)\*\*", cells[0])
        assert label is not None, row
        ticked = zip(labels.values(), cells[1:], strict=True)
        found[label.group(1)] = frozenset(actor for actor, cell in ticked if cell)
    return found


def test_readme_role_table_matches_the_matrix() -> None:
    """The README's role table says the rule in words; the matrix above checks the code."""
    table = readme_role_table()
    for label, allowed in ROWS.items():
        assert table.get(label) == allowed, label
