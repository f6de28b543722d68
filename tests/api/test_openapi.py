"""The OpenAPI document tells the truth: bearer security, problems, words on every operation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.errors import PROBLEM
from tests.conftest import admin_headers


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_bearer_security_scheme_for_the_docs_authorize_button(
    client: TestClient, document: dict[str, Any]
) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme == {"type": "http", "scheme": "bearer", "description": scheme["description"]}
    secured = {f"{m} {p}" for m, p, op in operations(document) if op.get("security")}
    api = {f"{m} {p}" for m, p, _ in operations(document) if p.startswith("/api/v1/")}
    assert api and api <= secured
    assert not any(p.startswith(("/calendars/", "/v2/", "/links/")) for p in secured)
    for _, _, operation in operations(document):  # the token is no longer a header parameter
        assert all(p["name"].lower() != "authorization" for p in operation.get("parameters", []))
    assert "swagger-ui" in client.get("/docs").text


def test_every_operation_has_a_summary_a_description_and_its_own_id(
    document: dict[str, Any],
) -> None:
    ids = []
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("description"), (method, path)
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))
    feeds = document["paths"]["/calendars/schedules/{token}.ics"]
    assert set(feeds) == {"get", "head"}
    assert feeds["get"]["operationId"] != feeds["head"]["operationId"]


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for method, path, operation in operations(document):
        responses = operation["responses"]
        if operation.get("security"):
            assert "401" in responses, (method, path)
            if method != "get":
                assert "403" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"413", "422"} <= set(responses), (method, path)
        for code in ("401", "403", "404", "409", "413", "422"):
            if code in responses and not path.startswith("/links/"):
                content = responses[code].get("content", {})
                assert PROBLEM in content, (method, path, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/users"),
        ("delete", "/api/v1/schedules/{schedule_id}"),
        ("delete", "/api/v1/escalation-policies/{policy_id}"),
        ("post", "/api/v1/incidents/{incident_id}/resolve"),
        ("post", "/api/v1/services/{service_id}/maintenance-windows/{window_id}/end"),
        ("post", "/api/v1/users/{user_id}/contact-methods"),
    ],
)
def test_conflicts_are_documented_where_they_happen(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert "409" in document["paths"][path][method]["responses"]


def test_a_documented_422_is_what_is_sent(client: TestClient, document: dict[str, Any]) -> None:
    response = client.post("/api/v1/teams", json={"name": None}, headers=admin_headers())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert set(document["components"]["schemas"]["Problem"]["required"]) <= set(body)
    assert body["errors"] == [{"field": "name", "message": body["errors"][0]["message"]}]


def test_a_body_that_is_not_even_text_is_a_documented_400_naming_the_body(
    client: TestClient,
) -> None:
    response = client.post(
        "/api/v1/teams",
        content=b"\xff\xfe{",
        headers={**admin_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body"
    documented = client.get("/openapi.json").json()["paths"]["/api/v1/teams"]["post"]
    assert "400" in documented["responses"]


def test_a_broken_multipart_body_is_a_400_naming_the_body(client: TestClient) -> None:
    boundary = "0467bfad82b6b8f753fb786c7bc78fdd"
    response = client.post(
        "/api/v1/schedules/any/imports/upload",
        content=f"--{boundary}\r\n-1.3e+16--{boundary}--\r\n".encode(),
        headers={**admin_headers(), "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "body"
    assert "could not be read" in response.json()["detail"]
