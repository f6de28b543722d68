"""Users are deactivated, never erased: refused while anything still needs them, and the past
keeps their name (timelines byte for byte, overrides, incident logs, the audit log)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from escalation.models import Incident
from paging.response import actions
from people import service as people
from people.models import ContactType, User
from store.audit import Actor
from store.db import Database
from tests.api.schedules.conftest import Api, layer
from tests.factories import Person

NOW = datetime(2024, 3, 5, 12, tzinfo=UTC)
PAST = {"since": "2024-03-01T00:00:00Z", "until": "2024-03-05T00:00:00Z"}


def _setup(api: Api) -> tuple[Person, Person, Person, str, str]:
    """Ada and Bob rotate daily; Cat has a past and a future override; a policy targets Ada."""
    ada, bob, cat = api.users("Ada", "Bob", "Cat")
    api.clock.now = datetime(2024, 3, 1, tzinfo=UTC)
    sid = api.schedule([layer([ada.id, bob.id], "2024-03-01T00:00:00Z", name="Weekdays")])["id"]
    api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat.id, "start": "2024-03-02T00:00:00Z", "end": "2024-03-02T12:00:00Z"},
    )
    api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat.id, "start": "2024-03-09T00:00:00Z", "end": "2024-03-09T12:00:00Z"},
    )
    policy = api.post(
        "/escalation-policies",
        {
            "name": "Checkout",
            "tiers": [
                {"delay_seconds": 60, "targets": [{"type": "schedule", "id": sid}]},
                {"delay_seconds": 60, "targets": [{"type": "user", "id": ada.id}]},
            ],
        },
    )
    api.clock.now = NOW
    return ada, bob, cat, sid, policy["id"]


def _delete(api: Api, person: Person, status: int) -> Any:
    return api.call("DELETE", f"/users/{person.id}", status)


def _timeline_bytes(api: Api, sid: str) -> bytes:
    response = api.client.get(f"/api/v1/schedules/{sid}/timeline", params=PAST, headers=api.headers)
    assert response.status_code == 200
    content: bytes = response.content
    return content


def test_deleting_someone_still_needed_is_409_naming_every_reference(api: Api) -> None:
    ada, _bob, cat, sid, policy = _setup(api)
    problem = _delete(api, ada, 409)
    assert problem["status"] == 409 and problem["title"] == "Conflict"
    refs = problem["references"]
    assert {(r["type"], r.get("schedule_id"), r.get("policy_id")) for r in refs} == {
        ("rotation", sid, None),
        ("escalation_target", None, policy),
    }
    [rotation] = [r for r in refs if r["type"] == "rotation"]
    assert rotation["layer"] == "Weekdays" and rotation["schedule"] == "Primary"
    [target] = [r for r in refs if r["type"] == "escalation_target"]
    assert target["tier"] == 2 and target["policy"] == "Checkout"
    assert "rotation 'Weekdays' of schedule 'Primary'" in problem["detail"]
    assert "tier 2 of escalation policy 'Checkout'" in problem["detail"]

    # Cat: only the future override needs her (the past one is history).
    [override] = _delete(api, cat, 409)["references"]
    assert override["type"] == "override" and override["start"] == "2024-03-09T00:00:00Z"
    assert api.get(f"/users/{ada.id}")["active"] is True  # nothing changed


def test_deactivation_keeps_the_past_and_stops_tokens_paging_and_new_references(
    api: Api, database: Database
) -> None:
    ada, bob, cat, sid, policy = _setup(api)
    before = _timeline_bytes(api, sid)
    past_oncall = api.get(f"/schedules/{sid}/oncall", at="2024-03-02T06:00:00Z")
    assert past_oncall["users"] == [{"id": cat.id, "name": "Cat"}]
    assert api.call("GET", "/users/me", 200, headers=cat.headers)["id"] == cat.id

    # Replace Cat where she is still needed, then deactivate her.
    [future] = _delete(api, cat, 409)["references"]
    api.call("DELETE", f"/schedules/{sid}/overrides/{future['override_id']}", 204)
    assert _delete(api, cat, 204) is None

    assert _timeline_bytes(api, sid) == before
    assert api.get(f"/schedules/{sid}/oncall", at="2024-03-02T06:00:00Z") == past_oncall
    user = api.get(f"/users/{cat.id}")
    assert user["active"] is False and user["deactivated_at"] == "2024-03-05T12:00:00Z"
    assert user["name"] == "Cat"
    overrides = api.get(f"/schedules/{sid}/overrides", user_id=cat.id)["items"]
    assert [o["start"] for o in overrides] == ["2024-03-02T00:00:00Z"]
    entries = api.get("/audit", entity_type="users", entity_id=cat.id)["items"]
    assert entries[0]["action"] == "deactivate"
    assert entries[0]["after"]["name"] == "Cat"

    # Her token and her calendar address stop working; a sign-in must refuse her.
    refused = api.client.get("/api/v1/users/me", headers=cat.headers)
    assert refused.status_code == 401
    assert api.client.get(user["ical_url"].replace("http://testserver", "")).status_code == 404
    schedule_feed = api.get(f"/schedules/{sid}")["ical_url"].replace("http://testserver", "")
    assert "Cat" in api.client.get(schedule_feed, params={"past_days": 7}).text
    with database.transaction() as session:
        assert not people.may_sign_in(session.get(User, cat.id))
        assert people.may_sign_in(session.get(User, bob.id))
    # Nobody may name her again: rotations, overrides, escalation targets.
    problem = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat.id, "start": "2024-03-10T00:00:00Z", "end": "2024-03-10T06:00:00Z"},
        status=422,
    )
    assert problem["errors"][0]["field"] == "user_id" and "deactivated" in problem["detail"]
    api.post(
        "/escalation-policies",
        {
            "name": "P",
            "tiers": [{"delay_seconds": 60, "targets": [{"type": "user", "id": cat.id}]}],
        },
        status=422,
    )
    api.post("/schedules", {"name": "S", "time_zone": "UTC", "layers": [
        layer([cat.id], "2024-03-06T00:00:00Z")]}, status=422)  # fmt: skip
    # Deactivating twice is harmless; the user is still listed, marked inactive.
    assert _delete(api, cat, 204) is None
    listed = {u["id"]: u["active"] for u in api.get("/users")["items"]}
    assert listed[cat.id] is False and listed[ada.id] is True
    del ada, bob, policy


def test_a_deactivated_person_cannot_act_on_an_incident_they_were_paged_for(
    api: Api, database: Database
) -> None:
    ada, bob, _cat, _sid, _policy = _setup(api)
    api.factory.rule(bob, api.factory.contact(bob, ContactType.sms, "+12015550102"))
    body = {"name": "Bob's", "tiers": [{"delay_seconds": 60, "targets": [
        {"type": "user", "id": bob.id}]}]}  # fmt: skip
    bobs = api.post("/escalation-policies", body)["id"]
    service = api.post("/services", {"name": "S", "escalation_policy_id": bobs})["id"]
    incident = api.post("/incidents", {"service_id": service, "title": "down"})["id"]
    # Bob may act: he was paged for it (no team role needed).
    actor = Actor(user_id=bob.id, is_admin=False, label=f"user:{bob.email}")
    with database.transaction() as session:
        found = session.get(Incident, incident)
        assert found is not None and actions.may_act(session, actor, found)
    api.call("PUT", f"/escalation-policies/{bobs}", 200, json={**body, "tiers": [
        {"delay_seconds": 60, "targets": [{"type": "user", "id": ada.id}]}]})  # fmt: skip
    assert _delete(api, bob, 409)["references"][0]["type"] == "rotation"
    with database.transaction() as session:
        row = session.scalar(select(User).where(User.id == bob.id))
        assert row is not None
        row.deactivated_at = NOW  # as DELETE would once his rotation is handed over
    with database.transaction() as session:
        found = session.get(Incident, incident)
        assert found is not None and not actions.may_act(session, actor, found)
    # The incident log keeps his name.
    log = api.get(f"/incidents/{incident}")["log"]
    assert any(e["kind"] == "notify_tier" and "Bob" in e["message"] for e in log)
