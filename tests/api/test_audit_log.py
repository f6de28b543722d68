from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import admin_headers
from tests.factories import Factory


def test_profile_change_is_audited_with_before_and_after(
    client: TestClient, factory: Factory
) -> None:
    person = factory.user(name="Linus", time_zone="Europe/Helsinki")
    response = client.patch(
        f"/api/v1/users/{person.id}",
        json={"time_zone": "America/Los_Angeles"},
        headers=person.headers,
    )
    assert response.status_code == 200
    entries = client.get(
        "/api/v1/audit", params={"entity_id": person.id}, headers=admin_headers()
    ).json()["items"]
    update = next(e for e in entries if e["action"] == "update")
    assert update["actor"] == f"user:{person.email}"
    assert update["actor_user_id"] == person.id
    assert update["entity_type"] == "users"
    assert update["before"]["time_zone"] == "Europe/Helsinki"
    assert update["after"]["time_zone"] == "America/Los_Angeles"
    assert "ical_token" not in update["after"], "secrets never reach the audit log"
    assert update["at"].endswith("Z") or "+00:00" in update["at"]


def test_audit_log_pages_newest_first(client: TestClient, factory: Factory) -> None:
    for _ in range(3):
        factory.user()
    first = client.get("/api/v1/audit", params={"limit": 2}, headers=admin_headers()).json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(
        "/api/v1/audit", params={"limit": 2, "cursor": first["next"]}, headers=admin_headers()
    ).json()
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert len(seen) == len(set(seen))
    times = [e["at"] for e in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)


def test_users_list_paginates_without_repeats(client: TestClient, factory: Factory) -> None:
    made = {factory.user().id for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/users", params=params, headers=admin_headers()).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert set(seen) == made and len(seen) == len(made)
