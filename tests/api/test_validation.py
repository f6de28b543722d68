from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from people.models import ContactType
from tests.conftest import admin_headers
from tests.factories import Factory


def _create_user(client: TestClient, **overrides: object) -> tuple[int, dict[str, object]]:
    body: dict[str, object] = {
        "name": "Grace",
        "email": "grace@example.com",
        "time_zone": "America/New_York",
    }
    body.update(overrides)
    response = client.post("/api/v1/users", json=body, headers=admin_headers())
    return response.status_code, response.json()


def _fields(problem: dict[str, object]) -> set[str]:
    errors = problem.get("errors")
    assert isinstance(errors, list)
    return {str(e["field"]) for e in errors}


def test_unknown_time_zone_is_422_naming_the_field(client: TestClient) -> None:
    status, problem = _create_user(client, time_zone="Mars/Olympus_Mons")
    assert status == 422
    assert _fields(problem) == {"time_zone"}
    assert "unknown time zone" in str(problem["detail"])


def test_fixed_offset_is_not_a_time_zone(client: TestClient) -> None:
    status, problem = _create_user(client, time_zone="+02:00")
    assert status == 422
    assert _fields(problem) == {"time_zone"}


def test_wrong_type_is_422_naming_the_field(client: TestClient) -> None:
    status, problem = _create_user(client, name=["not", "a", "name"])
    assert status == 422
    assert _fields(problem) == {"name"}
    assert problem["type"] == "about:blank" and problem["title"]


def test_bad_email_is_422(client: TestClient) -> None:
    status, problem = _create_user(client, email="not-an-email")
    assert status == 422
    assert _fields(problem) == {"email"}


def test_unknown_field_is_422(client: TestClient) -> None:
    status, problem = _create_user(client, favourite_colour="blue")
    assert status == 422
    assert _fields(problem) == {"favourite_colour"}


def test_malformed_json_is_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users",
        content=b"{not json",
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "address",
    ["12345", "+1 555", "+99912345678", "not a number", "+4915112345678x"],
)
def test_bad_phone_number_is_422(client: TestClient, factory: Factory, address: str) -> None:
    person = factory.user()
    response = client.post(
        f"/api/v1/users/{person.id}/contact-methods",
        json={"type": "sms", "address": address},
        headers=admin_headers(),
    )
    assert response.status_code == 422, response.text
    assert _fields(response.json()) == {"address"}


def test_phone_number_must_be_e164(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    response = client.post(
        f"/api/v1/users/{person.id}/contact-methods",
        json={"type": "voice", "address": "+1 (201) 555-0123"},
        headers=admin_headers(),
    )
    assert response.status_code == 422
    assert "+12015550123" in response.json()["detail"]


def test_valid_e164_number_is_accepted_and_enabled_for_admin(
    client: TestClient, factory: Factory
) -> None:
    person = factory.user()
    response = client.post(
        f"/api/v1/users/{person.id}/contact-methods",
        json={"type": ContactType.sms.value, "address": "+12015550123"},
        headers=admin_headers(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["enabled"] is True


def test_naive_timestamp_is_rejected(client: TestClient) -> None:
    response = client.get(
        "/api/v1/audit", params={"since": "2026-03-08T02:30:00"}, headers=admin_headers()
    )
    assert response.status_code == 422
    assert _fields(response.json()) == {"since"}


def test_timestamp_with_offset_is_accepted(client: TestClient) -> None:
    response = client.get(
        "/api/v1/audit", params={"since": "2026-03-08T02:30:00-05:00"}, headers=admin_headers()
    )
    assert response.status_code == 200


def test_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    big = "x" * (1024 * 1024 + 10)
    response = client.post(
        "/api/v1/users",
        json={"name": big, "email": "a@example.com", "time_zone": "UTC"},
        headers=admin_headers(),
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_negative_delay_is_422(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    cm = factory.contact(person, ContactType.email, "p@example.com")
    response = client.post(
        f"/api/v1/users/{person.id}/notification-rules",
        json={"contact_method_id": cm, "delay_seconds": -5},
        headers=admin_headers(),
    )
    assert response.status_code == 422
    assert _fields(response.json()) == {"delay_seconds"}


def test_unknown_resource_is_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/users/does-not-exist", headers=admin_headers())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_bad_cursor_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/users", params={"cursor": "!!"}, headers=admin_headers())
    assert response.status_code == 422


def test_chunked_body_over_limit_is_413_problem(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536

    response = client.post(
        "/api/v1/users",
        content=chunks(),
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
