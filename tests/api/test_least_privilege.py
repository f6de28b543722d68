"""Least privilege: a team manager cannot take over anyone's pages; secrets are need-to-know."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.api.role_world import ACTORS, T0, World, build, fingerprint
from tests.api.test_role_matrix import readme_role_table


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings, database, clock=lambda: T0)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(database: Database) -> World:
    return build(database)


def test_manager_takeover_chain_is_refused_at_the_first_contact_step(
    client: TestClient, database: Database, world: World
) -> None:
    """The chain from issue 13: put the admin in one's team, give them one's own phone, a rule
    to it, remove their e-mail. Membership is the manager's to change; the admin's contact
    details are not, so every later step is 403 and changes nothing."""
    manager = world.headers("manager")
    admin_id = world.user_ids["admin"]
    joined = client.post(
        world.path("/api/v1/teams/{team}/members"),
        json={"user_id": admin_id, "role": "responder"},
        headers=manager,
    )
    assert joined.status_code == 201, joined.text
    own = client.post(
        f"/api/v1/users/{admin_id}/contact-methods",
        json={"type": "email", "address": "admin.own@example.com"},
        headers=world.headers("admin"),
    )
    assert own.status_code == 201 and own.json()["enabled"] is True
    before = fingerprint(database)
    steps = [
        client.post(
            f"/api/v1/users/{admin_id}/contact-methods",
            json={"type": "sms", "address": "+12015550142"},
            headers=manager,
        ),
        client.post(
            f"/api/v1/users/{admin_id}/notification-rules",
            json={"contact_method_id": own.json()["id"], "delay_seconds": 0},
            headers=manager,
        ),
        client.post(f"/api/v1/contact-methods/{own.json()['id']}/test", headers=manager),
        client.delete(f"/api/v1/contact-methods/{own.json()['id']}", headers=manager),
    ]
    for step in steps:
        assert step.status_code == 403, step.text
        assert "only the person themself or an admin" in step.json()["detail"]
    assert fingerprint(database) == before
    methods = client.get(f"/api/v1/users/{admin_id}/contact-methods", headers=manager).json()
    assert [m["address"] for m in methods["items"]] == ["admin.own@example.com"]


def test_a_users_calendar_url_is_shown_to_them_and_admins_only(
    client: TestClient, world: World
) -> None:
    for actor in ACTORS:
        _calendar_urls_as(client, world, actor)


def _calendar_urls_as(client: TestClient, world: World, actor: str) -> None:
    headers = world.headers(actor)
    shown = actor in ("admin", "self")
    one = client.get(world.path("/api/v1/users/{self}"), headers=headers).json()
    listed = client.get("/api/v1/users", params={"limit": 200}, headers=headers).json()["items"]
    (in_list,) = [u for u in listed if u["id"] == world.ids["self"]]
    for body in (one, in_list):
        assert (body["ical_url"] is not None) is shown, body
        assert (body["webcal_url"] is not None) is shown, body
    me = client.get("/api/v1/users/me", headers=headers).json()
    assert me["ical_url"] is not None  # everyone sees their own
    others = [u for u in listed if u["id"] != world.user_ids[actor]]
    assert all((u["ical_url"] is not None) is (actor == "admin") for u in others)


def test_integration_keys_and_ping_urls_are_shown_to_the_teams_managers_and_admins(
    client: TestClient, world: World
) -> None:
    for actor in ACTORS:
        _keys_as(client, world, actor)


def _keys_as(client: TestClient, world: World, actor: str) -> None:
    headers = world.headers(actor)
    shown = actor in readme_role_table()["What a team owns"]
    service = client.get(world.path("/api/v1/services/{service}"), headers=headers).json()
    (listed,) = [
        s
        for s in client.get("/api/v1/services", headers=headers).json()["items"]
        if s["id"] == world.ids["service"]
    ]
    for body in (service, listed):
        assert (body["integration_key"] is not None) is shown, body
        assert body["has_integration_key"] is True
    beats = world.path("/api/v1/services/{service}/heartbeats")
    one = client.get(f"{beats}/{world.ids['heartbeat']}", headers=headers).json()
    (in_list,) = client.get(beats, headers=headers).json()["items"]
    for body in (one, in_list):
        assert (body["ping_url"] is not None) is shown, body


def test_an_observer_cannot_learn_a_key_to_resolve_an_incident_with(
    client: TestClient, world: World
) -> None:
    observer = world.headers("observer")
    service = client.get(world.path("/api/v1/services/{service}"), headers=observer).json()
    assert service["integration_key"] is None
    refused = client.post(world.path("/api/v1/incidents/{incident}/resolve"), headers=observer)
    assert refused.status_code == 403


def test_everyone_signed_in_reads_what_is_not_secret(client: TestClient, world: World) -> None:
    for actor in ("observer", "outsider", "other_manager"):
        _reads_as(client, world, actor)
    assert client.get("/api/v1/audit", headers=world.headers("admin")).status_code == 200


def _reads_as(client: TestClient, world: World, actor: str) -> None:
    headers = world.headers(actor)
    for path in (
        "/api/v1/schedules/{schedule}",
        "/api/v1/schedules/{schedule}/overrides",
        "/api/v1/escalation-policies/{policy}",
        "/api/v1/services/{service}/maintenance-windows",
        "/api/v1/services/{service}/support-hours",
        "/api/v1/incidents/{incident}",
        "/api/v1/users/{self}/contact-methods",
    ):
        response = client.get(world.path(path), headers=headers)
        assert response.status_code == 200, (actor, path, response.text)
    assert client.get("/api/v1/audit", headers=headers).status_code == 403


def test_wrong_verification_codes_are_counted_and_five_end_the_guessing(
    client: TestClient, world: World
) -> None:
    """A wrong code is a 422 whose count is kept (the request's transaction commits it): after
    five, even the right code needs a new one (no brute-forcing someone else's number)."""
    path = world.path("/api/v1/contact-methods/{sms}/verify")
    me = world.headers("self")
    wrong = "000000" if world.code != "000000" else "111111"
    for _ in range(5):
        answer = client.post(path, json={"code": wrong}, headers=me)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "code"
    refused = client.post(path, json={"code": world.code}, headers=me)
    assert refused.status_code == 422 and "request a new code" in refused.json()["detail"]
    resent = client.post(world.path("/api/v1/contact-methods/{sms}/resend-verification"),
                         headers=me)  # fmt: skip
    assert resent.status_code == 202
