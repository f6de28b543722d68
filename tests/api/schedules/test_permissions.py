"""Write routes × roles: allowed ones succeed; the others get 403 and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from people.models import TeamRole, UserRole
from tests.api.schedules.conftest import Api, layer
from tests.conftest import admin_headers
from tests.factories import Person

ACTORS = ["admin_token", "admin_user", "manager", "responder", "observer", "outsider"]
EDITORS = {"admin_token", "admin_user", "manager"}
START, END = "2024-03-05T00:00:00Z", "2024-03-06T00:00:00Z"


@dataclass
class World:
    api: Api
    team: str
    target: Person
    people: dict[str, Person]
    schedule: dict[str, Any]

    def headers(self, actor: str) -> dict[str, str]:
        return admin_headers() if actor == "admin_token" else self.people[actor].headers

    def user_id(self, actor: str) -> str:
        """The actor's own user id (the bootstrap token has none: it acts for the target)."""
        return self.target.id if actor == "admin_token" else self.people[actor].id

    @property
    def path(self) -> str:
        return f"/api/v1/schedules/{self.schedule['id']}"


@pytest.fixture
def world(api: Api) -> World:
    team = api.factory.team()
    people = {
        "admin_user": api.factory.user(role=UserRole.admin),
        "manager": api.factory.user(),
        "responder": api.factory.user(),
        "observer": api.factory.user(),
        "outsider": api.factory.user(),
    }
    for role in ("manager", "responder", "observer"):
        api.factory.member(team, people[role], TeamRole(role))
    target = api.factory.user()
    schedule = api.schedule([layer([target.id], "2024-03-01T00:00:00Z")], team_id=team)
    return World(api=api, team=team, target=target, people=people, schedule=schedule)


Call = Callable[[World, str], Any]


def _override(w: World, user_id: str) -> dict[str, Any]:
    result: dict[str, Any] = w.api.post(
        f"/schedules/{w.schedule['id']}/overrides",
        {"user_id": user_id, "start": "2024-03-10T00:00:00Z", "end": "2024-03-11T00:00:00Z"},
    )
    return result


def _own_override(w: World, actor: str) -> Any:
    body = {"user_id": w.user_id(actor), "start": START, "end": END}
    return w.api.client.post(f"{w.path}/overrides", json=body, headers=w.headers(actor))


ROUTES: dict[str, tuple[Call, set[str]]] = {
    "create schedule in team": (
        lambda w, a: w.api.client.post(
            "/api/v1/schedules",
            json={"name": "New", "time_zone": "UTC", "team_id": w.team, "layers": []},
            headers=w.headers(a),
        ),
        EDITORS,
    ),
    "create schedule without team": (
        lambda w, a: w.api.client.post(
            "/api/v1/schedules",
            json={"name": "New", "time_zone": "UTC", "layers": []},
            headers=w.headers(a),
        ),
        {"admin_token", "admin_user"},
    ),
    "replace schedule": (
        lambda w, a: w.api.client.put(
            w.path,
            json={
                "name": "Renamed",
                "time_zone": "UTC",
                "team_id": w.team,
                "layers": w.schedule["layers"],
            },
            headers=w.headers(a),
        ),
        EDITORS,
    ),
    "patch schedule": (
        lambda w, a: w.api.client.patch(w.path, json={"name": "R"}, headers=w.headers(a)),
        EDITORS,
    ),
    "delete schedule": (
        lambda w, a: w.api.client.delete(w.path, headers=w.headers(a)),
        EDITORS,
    ),
    "rotate ical": (
        lambda w, a: w.api.client.post(f"{w.path}/rotate-ical", headers=w.headers(a)),
        EDITORS,
    ),
    "add layer": (
        lambda w, a: w.api.client.post(
            f"{w.path}/layers",
            json=layer([w.target.id], "2024-03-01T00:00:00Z"),
            headers=w.headers(a),
        ),
        EDITORS,
    ),
    "patch layer": (
        lambda w, a: w.api.client.patch(
            f"{w.path}/layers/{w.schedule['layers'][0]['id']}",
            json={"users": [w.target.id, w.people["responder"].id]},
            headers=w.headers(a),
        ),
        EDITORS,
    ),
    "end layer": (
        lambda w, a: w.api.client.delete(
            f"{w.path}/layers/{w.schedule['layers'][0]['id']}", headers=w.headers(a)
        ),
        EDITORS,
    ),
    "override putting oneself on call": (_own_override, EDITORS | {"responder"}),
    "override for someone else": (
        lambda w, a: w.api.client.post(
            f"{w.path}/overrides",
            json={"user_id": w.target.id, "start": START, "end": END},
            headers=w.headers(a),
        ),
        EDITORS,
    ),
    "cancel someone else's override": (
        lambda w, a: w.api.client.delete(
            f"{w.path}/overrides/{_override(w, w.target.id)['id']}", headers=w.headers(a)
        ),
        EDITORS,
    ),
    "cancel one's own override": (
        lambda w, a: w.api.client.delete(
            f"{w.path}/overrides/{_override(w, w.user_id(a))['id']}", headers=w.headers(a)
        ),
        EDITORS | {"responder"},
    ),
}


def _audit_count(w: World) -> int:
    return len(w.api.get("/audit", limit=200)["items"])


def _fresh_schedule(w: World) -> None:
    w.schedule = w.api.schedule([layer([w.target.id], "2024-03-01T00:00:00Z")], team_id=w.team)


@pytest.mark.parametrize("actor", ACTORS)
def test_write_route_role_matrix(world: World, actor: str) -> None:
    """Each route runs against a schedule of its own, so routes cannot affect each other."""
    for route in sorted(ROUTES):
        call, allowed = ROUTES[route]
        _fresh_schedule(world)
        # Routes cancelling an override make it (as an admin) inside the call: no count then.
        before = None if route.startswith("cancel") else _audit_count(world)
        response = call(world, actor)
        if actor in allowed:
            assert response.status_code < 400, (route, actor, response.status_code, response.text)
        else:
            assert response.status_code == 403, (route, actor, response.status_code, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            if before is not None:
                assert _audit_count(world) == before, f"{route}: a refused write changed something"


def test_write_routes_without_a_valid_token_are_401(world: World) -> None:
    world.people["nobody"] = Person(id=world.target.id, email="", token="wrong")
    for route in sorted(ROUTES):
        call, _ = ROUTES[route]
        _fresh_schedule(world)
        assert call(world, "nobody").status_code == 401, route


@pytest.mark.parametrize("actor", ["observer", "outsider"])
def test_everyone_authenticated_may_read(world: World, actor: str) -> None:
    headers = world.headers(actor)
    for suffix in ("", "/oncall", "/timeline", "/overrides"):
        response = world.api.client.get(f"{world.path}{suffix}", headers=headers)
        assert response.status_code == 200, (suffix, response.text)
    assert world.api.client.get("/api/v1/schedules", headers=headers).status_code == 200
