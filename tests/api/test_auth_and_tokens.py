from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from people import tokens
from people.models import ApiToken
from store.db import Database
from tests.conftest import admin_headers
from tests.factories import Factory


def test_missing_token_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/users", headers={"Authorization": "Bearer wb_nope"})
    assert response.status_code == 401


def test_wrong_scheme_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/users", headers={"Authorization": f"Basic {'x' * 10}"})
    assert response.status_code == 401


def test_bootstrap_admin_token_acts_as_admin(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users",
        json={"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
        headers=admin_headers(),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] and isinstance(body["id"], str)
    assert body["ical_url"].startswith("http://testserver/calendars/users/")
    assert body["webcal_url"].startswith("webcal://testserver/calendars/users/")


def test_token_secret_is_shown_once_and_stored_only_as_digest(
    client: TestClient, factory: Factory, database: Database
) -> None:
    person = factory.user()
    response = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=person.headers)
    assert response.status_code == 201, response.text
    secret = response.json()["token"]
    with database.transaction() as session:
        stored = session.scalars(select(ApiToken)).all()
        for row in stored:
            for value in (row.name, row.token_hash, row.id):
                assert secret not in value
        assert tokens.digest(secret) in {row.token_hash for row in stored}
    listed = client.get("/api/v1/tokens", headers=person.headers).json()["items"]
    assert all("token" not in item for item in listed)
    # The new token works.
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["id"] == person.id


def test_revoked_token_is_refused(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    created = client.post("/api/v1/tokens", json={"name": "x"}, headers=person.headers).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created['id']}", headers=person.headers)
    assert revoked.status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_member_cannot_create_admin_token_or_token_for_others(
    client: TestClient, factory: Factory
) -> None:
    alice, bob = factory.user(), factory.user()
    admin_attempt = client.post(
        "/api/v1/tokens", json={"name": "x", "admin": True}, headers=alice.headers
    )
    assert admin_attempt.status_code == 403
    other = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": bob.id}, headers=alice.headers
    )
    assert other.status_code == 403
