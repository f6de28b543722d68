"""Answers name people beside their ids: shifts, on-call answers, overrides, memberships."""

from __future__ import annotations

from tests.api.schedules.conftest import Api, layer
from tests.conftest import admin_headers


def test_timeline_and_oncall_shifts_carry_user_names(api: Api) -> None:
    ada, grace = api.users("Ada Lovelace", "Grace Hopper")
    schedule = api.schedule([layer([ada.id, grace.id], "2024-03-01T09:00:00+00:00")])
    timeline = api.get(
        f"/schedules/{schedule['id']}/timeline",
        since="2024-03-01T12:00:00+00:00",
        until="2024-03-03T12:00:00+00:00",
    )
    names = {(s["user_id"], s["user_name"]) for s in timeline["final"]}
    assert names == {(ada.id, "Ada Lovelace"), (grace.id, "Grace Hopper")}
    assert {s["user_name"] for s in timeline["layers"][0]} == {"Ada Lovelace", "Grace Hopper"}
    oncall = api.get(f"/schedules/{schedule['id']}/oncall", at="2024-03-01T12:00:00+00:00")
    assert oncall["users"] == [{"id": ada.id, "name": "Ada Lovelace"}]
    assert oncall["shift"]["user_name"] == "Ada Lovelace"


def test_overrides_carry_the_user_name(api: Api) -> None:
    ada, grace = api.users("Ada Lovelace", "Grace Hopper")
    schedule = api.schedule([layer([ada.id], "2024-03-01T09:00:00+00:00")])
    made = api.post(
        f"/schedules/{schedule['id']}/overrides",
        {"user_id": grace.id, "start": "2024-03-02T09:00:00+00:00", "end": "2024-03-02T17:00:00Z"},
    )
    assert made["user_name"] == "Grace Hopper"
    listed = api.get(f"/schedules/{schedule['id']}/overrides")
    assert [o["user_name"] for o in listed["items"]] == ["Grace Hopper"]


def test_memberships_carry_the_user_name(api: Api) -> None:
    (ada,) = api.users("Ada Lovelace")
    team = api.post("/teams", {"name": "Payments"})
    added = api.post(f"/teams/{team['id']}/members", {"user_id": ada.id, "role": "responder"})
    assert added["user_name"] == "Ada Lovelace"
    listed = api.get(f"/teams/{team['id']}/members")
    assert [(m["user_id"], m["user_name"]) for m in listed["items"]] == [(ada.id, "Ada Lovelace")]


def test_users_can_be_found_by_email(api: Api) -> None:
    ada, _grace = api.users("Ada Lovelace", "Grace Hopper")
    found = api.get("/users", email=ada.email.upper())
    assert [u["id"] for u in found["items"]] == [ada.id]
    assert api.get("/users", email="nobody@example.com")["items"] == []
    assert len(api.get("/users")["items"]) == 2
    too_long = api.client.get("/api/v1/users", params={"email": "x" * 400}, headers=admin_headers())
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == "email: must be at most 320 characters"
