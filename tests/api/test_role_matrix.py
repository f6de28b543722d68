"""Every write route × every role: allowed ones succeed, the others get 403 and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from people.models import ContactType, TeamRole, UserRole
from tests.conftest import admin_headers
from tests.factories import Factory, Person

ACTORS = ["admin_token", "admin_user", "manager", "responder", "observer", "outsider", "self"]


@dataclass
class World:
    client: TestClient
    team: str
    target: Person
    target_cm: str
    people: dict[str, Person]

    def headers(self, actor: str) -> dict[str, str]:
        if actor == "admin_token":
            return admin_headers()
        if actor == "self":
            return self.target.headers
        return self.people[actor].headers


@pytest.fixture
def world(client: TestClient, factory: Factory) -> World:
    team = factory.team()
    people = {
        "admin_user": factory.user(role=UserRole.admin),
        "manager": factory.user(),
        "responder": factory.user(),
        "observer": factory.user(),
        "outsider": factory.user(),
    }
    for role in ("manager", "responder", "observer"):
        factory.member(team, people[role], TeamRole(role))
    target = factory.user()
    factory.member(team, target, TeamRole.responder)
    cm = factory.contact(target, ContactType.email, "target@example.com")
    return World(client=client, team=team, target=target, target_cm=cm, people=people)


# What the TestClient answers (httpx2 or httpx, whichever Starlette uses).
Call = Callable[[World, dict[str, str]], Any]

ROUTES: dict[str, tuple[Call, set[str]]] = {
    "create user": (
        lambda w, h: w.client.post(
            "/api/v1/users",
            json={"name": "New", "email": "new@example.com", "time_zone": "UTC"},
            headers=h,
        ),
        {"admin_token", "admin_user"},
    ),
    "edit profile": (
        lambda w, h: w.client.patch(
            f"/api/v1/users/{w.target.id}", json={"name": "Renamed"}, headers=h
        ),
        {"admin_token", "admin_user", "self"},
    ),
    "change role": (
        lambda w, h: w.client.patch(
            f"/api/v1/users/{w.target.id}", json={"role": "admin"}, headers=h
        ),
        {"admin_token", "admin_user"},
    ),
    "delete user": (
        lambda w, h: w.client.delete(f"/api/v1/users/{w.target.id}", headers=h),
        {"admin_token", "admin_user"},
    ),
    "add contact method": (
        lambda w, h: w.client.post(
            f"/api/v1/users/{w.target.id}/contact-methods",
            json={"type": "sms", "address": "+12015550199"},
            headers=h,
        ),
        {"admin_token", "admin_user", "manager", "self"},
    ),
    "delete contact method": (
        lambda w, h: w.client.delete(f"/api/v1/contact-methods/{w.target_cm}", headers=h),
        {"admin_token", "admin_user", "manager", "self"},
    ),
    "add notification rule": (
        lambda w, h: w.client.post(
            f"/api/v1/users/{w.target.id}/notification-rules",
            json={"contact_method_id": w.target_cm, "delay_seconds": 60},
            headers=h,
        ),
        {"admin_token", "admin_user", "manager", "self"},
    ),
    "rotate calendar url": (
        lambda w, h: w.client.post(f"/api/v1/users/{w.target.id}/rotate-ical", headers=h),
        {"admin_token", "admin_user", "self"},
    ),
    "create team": (
        lambda w, h: w.client.post("/api/v1/teams", json={"name": "Other"}, headers=h),
        {"admin_token", "admin_user"},
    ),
    "add team member": (
        lambda w, h: w.client.post(
            f"/api/v1/teams/{w.team}/members",
            json={"user_id": w.people["outsider"].id, "role": "responder"},
            headers=h,
        ),
        {"admin_token", "admin_user", "manager"},
    ),
    "remove team member": (
        lambda w, h: w.client.delete(f"/api/v1/teams/{w.team}/members/{w.target.id}", headers=h),
        {"admin_token", "admin_user", "manager"},
    ),
    "create token for target": (
        lambda w, h: w.client.post(
            "/api/v1/tokens", json={"name": "t", "user_id": w.target.id}, headers=h
        ),
        {"admin_token", "admin_user", "self"},
    ),
    "read audit log": (
        lambda w, h: w.client.get("/api/v1/audit", headers=h),
        {"admin_token", "admin_user"},
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_write_route_role_matrix(world: World, route: str, actor: str) -> None:
    call, allowed = ROUTES[route]
    audit = "/api/v1/audit?limit=200"
    audit_before = len(world.client.get(audit, headers=admin_headers()).json()["items"])
    response = call(world, world.headers(actor))
    if actor in allowed:
        assert response.status_code < 400, (route, actor, response.status_code, response.text)
    else:
        assert response.status_code == 403, (route, actor, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        after = world.client.get(audit, headers=admin_headers()).json()
        assert len(after["items"]) == audit_before, "a refused write must change nothing"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_write_route_without_token_is_401(world: World, route: str) -> None:
    call, _ = ROUTES[route]
    assert call(world, {}).status_code == 401


def test_self_added_contact_method_waits_for_verification(world: World) -> None:
    response = world.client.post(
        f"/api/v1/users/{world.target.id}/contact-methods",
        json={"type": "voice", "address": "+12015550177"},
        headers=world.target.headers,
    )
    assert response.status_code == 201
    assert response.json()["enabled"] is False
    assert response.json()["verified"] is False


def test_manager_added_contact_method_is_enabled_at_once(world: World) -> None:
    response = world.client.post(
        f"/api/v1/users/{world.target.id}/contact-methods",
        json={"type": "voice", "address": "+12015550177"},
        headers=world.people["manager"].headers,
    )
    assert response.status_code == 201
    assert response.json()["enabled"] is True
