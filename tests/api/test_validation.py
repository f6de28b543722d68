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


def test_malformed_json_is_400_saying_where_it_breaks(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users",
        content=b'{"name": "Grace", "email": }',
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == "the body is not valid JSON (line 1, column 28: expecting value)"
    assert _fields(problem) == {"body"}


def test_malformed_json_on_a_later_line_names_line_and_column(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users",
        content=b'{\n  "name": "Grace",\n  "email" "g@example.com"\n}',
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "the body is not valid JSON (line 3, column 11: expecting ':' delimiter)"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"name": 5}, "name", "must be text"),
        ({"role": "boss"}, "role", "must be one of admin or member"),
        ({"email": "not-an-email"}, "email", "is not a valid e-mail address"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "unknown time zone"),
        ({"favourite_colour": "blue"}, "favourite_colour", "is not a field this accepts"),
    ],
)
def test_validation_messages_are_in_plain_words(
    client: TestClient, overrides: dict[str, object], field: str, words: str
) -> None:
    status, problem = _create_user(client, **overrides)
    assert status == 422
    detail = str(problem["detail"])
    assert detail.startswith(f"{field}: ") and words in detail, detail
    for leak in ("Value error", "Input should", "Field required", "pydantic", "type="):
        assert leak not in detail
    assert problem["title"] == "Unprocessable Content"


def test_missing_field_is_required(client: TestClient) -> None:
    response = client.post(
        "/api/v1/users", json={"name": "Grace", "time_zone": "UTC"}, headers=admin_headers()
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "email: is required"


def test_phone_number_errors_do_not_leak_library_wording(
    client: TestClient, factory: Factory
) -> None:
    person = factory.user()
    response = client.post(
        f"/api/v1/users/{person.id}/contact-methods",
        json={"type": "sms", "address": "12345"},
        headers=admin_headers(),
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "Missing or invalid default region" not in detail and "(0)" not in detail
    assert "country code" in detail and "+14155550123" in detail


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
    assert response.json()["title"] == "Content Too Large"


def test_streamed_body_over_the_limit_is_413_with_the_same_title(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/users",
        content=chunks(),
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["title"] == "Content Too Large"


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


def test_true_is_not_a_number_of_seconds_in_a_rule(client: TestClient, factory: Factory) -> None:
    person = factory.user()
    cm = factory.contact(person, ContactType.email, "p@example.com")
    made = client.post(
        f"/api/v1/users/{person.id}/notification-rules",
        json={"contact_method_id": cm, "delay_seconds": 0, "repeat_every_seconds": True},
        headers=admin_headers(),
    )
    assert made.status_code == 422
    assert _fields(made.json()) == {"repeat_every_seconds"}
    rule = factory.rule(person, cm, 0)
    changed = client.patch(
        f"/api/v1/notification-rules/{rule}", json={"delay_seconds": True}, headers=admin_headers()
    )
    assert changed.status_code == 422
    assert _fields(changed.json()) == {"delay_seconds"}


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
