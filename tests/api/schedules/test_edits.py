"""Edits take effect from an instant and never change the timeline before it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.api.schedules.conftest import T0, Api, layer, shifts

NOW = datetime(2024, 3, 10, 15, 30, tzinfo=UTC)
PAST = {"since": "2024-03-01T00:00:00Z", "until": NOW.isoformat()}
NIGHTS = [{"start": "20:00", "end": "08:00"}]


def _setup(api: Api, ids: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    ids = ids or [p.id for p in api.users("Ada", "Bob", "Cat", "Dan")]
    api.clock.now = T0
    created = api.schedule(
        [
            layer(ids[:3], "2024-03-01T09:00:00+01:00", name="Base"),
            layer([ids[3]], "2024-03-01T00:00:00+01:00", restrictions=NIGHTS, name="Nights"),
        ],
        time_zone="Europe/Berlin",
    )
    api.clock.now = NOW
    return created, ids


def _timeline(api: Api, sid: str, **window: Any) -> Any:
    """Final shifts, each layer's shifts (layers empty in the window left out) and gaps."""
    answer = api.get(f"/schedules/{sid}/timeline", **window)
    layers = [shifts(x) for x in answer["layers"] if x]
    return shifts(answer["final"]), layers, answer["gaps"]


Edit = Callable[[Api, dict[str, Any], list[str]], None]


def _put_new_users(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    layers = [dict(s["layers"][0], users=[ids[2], ids[3], ids[0]]), s["layers"][1]]
    body = {"name": "Renamed", "time_zone": s["time_zone"], "layers": layers}
    api.call("PUT", f"/schedules/{s['id']}", 200, json=body)


def _put_replace_all_layers(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    new = layer([ids[1]], "2024-02-01T00:00:00Z", name="Fresh", unit="hours", length=6)
    body = {"name": "X", "time_zone": s["time_zone"], "layers": [new], "keep_current": False}
    api.call("PUT", f"/schedules/{s['id']}", 200, json=body)


def _patch_rotation(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    rotation = {"handoff": "2024-01-01T18:00:00Z", "shift_length": 8, "shift_unit": "hours"}
    api.call(
        "PATCH",
        f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}",
        200,
        json={"rotation": rotation, "keep_current": False},
    )


def _patch_restrictions(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    api.call(
        "PATCH",
        f"/schedules/{s['id']}/layers/{s['layers'][1]['id']}",
        200,
        json={"restrictions": [{"start": "12:00", "end": "13:00", "days": ["sun"]}]},
    )


def _patch_start_earlier_and_end(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    api.call(
        "PATCH",
        f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}",
        200,
        json={"start": "2023-01-01T00:00:00Z", "end": "2024-03-11T00:00:00Z"},
    )


def _add_top_layer(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    api.post(f"/schedules/{s['id']}/layers", layer([ids[1]], "2024-01-01T00:00:00Z"))


def _end_layer(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    api.call("DELETE", f"/schedules/{s['id']}/layers/{s['layers'][1]['id']}", 204)


def _patch_schedule_layers_future(api: Api, s: dict[str, Any], ids: list[str]) -> None:
    layers = [dict(s["layers"][0], users=[ids[3]])]
    api.call(
        "PATCH",
        f"/schedules/{s['id']}",
        200,
        json={"layers": layers, "effective_from": "2024-03-12T00:00:00Z"},
    )


EDITS: dict[str, Edit] = {
    "put new users": _put_new_users,
    "put replacing every layer": _put_replace_all_layers,
    "patch rotation": _patch_rotation,
    "patch restrictions": _patch_restrictions,
    "patch start and end": _patch_start_earlier_and_end,
    "add a top layer": _add_top_layer,
    "end a layer": _end_layer,
    "patch layers from a future instant": _patch_schedule_layers_future,
}


def test_an_edit_never_changes_the_timeline_before_it(api: Api) -> None:
    ids: list[str] = []
    for name, edit in sorted(EDITS.items()):
        s, ids = _setup(api, ids)  # a schedule of its own for each edit
        before = _timeline(api, s["id"], **PAST)
        later = {"since": NOW.isoformat(), "until": "2024-03-20T00:00:00Z"}
        future_before = _timeline(api, s["id"], **later)
        edit(api, s, ids)
        assert _timeline(api, s["id"], **PAST) == before, name
        assert _timeline(api, s["id"], **later) != future_before, f"{name} changed nothing"


def test_a_future_edit_keeps_everything_before_its_instant(api: Api) -> None:
    s, ids = _setup(api)
    window = {"since": "2024-03-01T00:00:00Z", "until": "2024-03-12T00:00:00Z"}
    before = _timeline(api, s["id"], **window)
    _patch_schedule_layers_future(api, s, ids)
    assert _timeline(api, s["id"], **window) == before
    after = api.get(f"/schedules/{s['id']}/oncall", at="2024-03-12T10:00:00Z")
    assert after["users"][0]["id"] == ids[3]
    shown_now = api.get(f"/schedules/{s['id']}")["layers"][0]["users"]
    shown_later = api.get(f"/schedules/{s['id']}", at="2024-03-13T00:00:00Z")["layers"][0]["users"]
    assert shown_now == ids[:3] and shown_later == [ids[3]]


def test_an_earlier_edit_supersedes_a_scheduled_one(api: Api) -> None:
    s, ids = _setup(api)
    base = s["layers"][0]["id"]
    path = f"/schedules/{s['id']}/layers/{base}"
    api.call("PATCH", path, 200, json={"users": [ids[3]], "effective_from": "2024-03-15T00:00:00Z"})
    api.call("PATCH", path, 200, json={"users": [ids[1]], "effective_from": "2024-03-12T00:00:00Z"})
    versions = api.get(f"{path}/versions")["items"]
    assert [v["effective_from"] for v in versions] == [None, "2024-03-12T00:00:00Z"]
    assert versions[1]["users"] == [ids[1]]
    assert (
        api.get(f"/schedules/{s['id']}/oncall", at="2024-03-16T10:00:00Z")["users"][0]["id"]
        == (ids[1])
    )


def test_adding_a_user_mid_shift_keeps_the_current_person(api: Api) -> None:
    ada, bob, cat = (p.id for p in api.users("Ada", "Bob", "Cat"))
    s = api.schedule([layer([ada, bob], "2024-03-01T00:00:00Z")])
    api.clock.now = datetime(2024, 3, 2, 10, tzinfo=UTC)  # Bob's shift, 00:00 to 24:00
    path = f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}"
    api.call("PATCH", path, 200, json={"users": [ada, cat, bob]})

    def who(instant: str) -> str:
        return str(api.get(f"/schedules/{s['id']}/oncall", at=instant)["users"][0]["id"])

    assert who("2024-03-02T10:00:00Z") == bob
    assert who("2024-03-02T23:59:00Z") == bob
    assert who("2024-03-03T00:00:00Z") == ada  # Bob's successor in the new order
    assert who("2024-03-04T00:00:00Z") == cat
    assert who("2024-03-05T00:00:00Z") == bob
    assert who("2024-03-01T12:00:00Z") == ada  # the past is as it was
    [_, version] = api.get(f"{path}/versions")["items"]
    assert version["holdover"] == {"user_id": bob, "until": "2024-03-03T00:00:00Z"}
    assert version["effective_from"] == "2024-03-02T10:00:00Z"


def test_without_keep_current_the_new_list_applies_at_once(api: Api) -> None:
    ada, bob, cat = (p.id for p in api.users("Ada", "Bob", "Cat"))
    s = api.schedule([layer([ada, bob], "2024-03-01T00:00:00Z")])
    api.clock.now = datetime(2024, 3, 2, 10, tzinfo=UTC)
    body = dict(s["layers"][0], users=[ada, cat, bob])
    api.call(
        "PUT",
        f"/schedules/{s['id']}",
        200,
        json={"name": "P", "time_zone": "UTC", "layers": [body], "keep_current": False},
    )
    now = api.get(f"/schedules/{s['id']}/oncall")
    assert now["users"][0]["id"] == cat  # slot 1 of the same grid goes to users[1]


def test_reordering_existing_layers_is_refused(api: Api) -> None:
    s, _ = _setup(api)
    body = {"name": "P", "time_zone": s["time_zone"], "layers": s["layers"][::-1]}
    answer = api.call("PUT", f"/schedules/{s['id']}", 422, json=body)
    assert answer["errors"][0]["field"] == "layers"


def test_effective_from_in_the_past_is_refused(api: Api) -> None:
    s, ids = _setup(api)
    answer = api.call(
        "PATCH",
        f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}",
        422,
        json={"users": [ids[0]], "effective_from": "2024-03-09T00:00:00Z"},
    )
    assert answer["errors"][0]["field"] == "effective_from"
    answer = api.call(
        "DELETE",
        f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}",
        422,
        params={"at": "2024-03-09T00:00:00Z"},
    )
    assert answer["errors"][0]["field"] == "at"


def test_time_zone_changes_only_before_any_shift(api: Api) -> None:
    s, ids = _setup(api)
    answer = api.call("PATCH", f"/schedules/{s['id']}", 422, json={"time_zone": "Asia/Tokyo"})
    assert answer["errors"][0]["field"] == "time_zone"
    future = api.schedule([layer(ids[:2], "2024-04-01T09:00:00Z")])
    moved = api.call("PATCH", f"/schedules/{future['id']}", 200, json={"time_zone": "Asia/Tokyo"})
    assert moved["time_zone"] == "Asia/Tokyo"


def test_schedule_edits_are_audited_with_before_and_after(api: Api) -> None:
    s, ids = _setup(api)
    _put_new_users(api, s, ids)
    entries = api.get("/audit", entity_type="schedules", entity_id=s["id"])["items"]
    assert [e["action"] for e in entries] == ["update", "create"]
    update = entries[0]
    assert update["before"]["name"] == "Primary" and update["after"]["name"] == "Renamed"
    before_versions = update["before"]["layers"][0]["versions"]
    after_versions = update["after"]["layers"][0]["versions"]
    assert len(before_versions) == 1 and len(after_versions) == 2
    assert after_versions[1]["users"] == [ids[2], ids[3], ids[0]]
    assert after_versions[1]["effective_from"].startswith("2024-03-10T15:30:00")
    assert "ical_token" not in update["after"]


def test_put_without_layer_ids_edits_the_running_layers_by_position(api: Api) -> None:
    s, ids = _setup(api)
    base, nights = (x["id"] for x in s["layers"])
    who_now = api.get(f"/schedules/{s['id']}/oncall", at="2024-03-10T15:30:00Z")["users"]
    edited = {k: v for k, v in s["layers"][0].items() if k != "id"}
    edited["users"] = [ids[1], ids[0]]
    body = {"name": "P", "time_zone": s["time_zone"], "layers": [edited]}
    answer = api.call("PUT", f"/schedules/{s['id']}", 200, json=body)
    assert [x["id"] for x in answer["layers"]] == [base, nights]
    assert api.get(f"/schedules/{s['id']}/oncall", at="2024-03-10T15:30:00Z")["users"] == who_now
    assert len(api.get(f"/schedules/{s['id']}/layers/{base}/versions")["items"]) == 2
    [_, ended] = api.get(f"/schedules/{s['id']}/layers/{nights}/versions")["items"]
    assert ended["end"] == "2024-03-10T16:30:00+01:00"


def test_changing_the_rotation_keeps_the_current_person_then_their_successor(api: Api) -> None:
    ada, bob, cat = (p.id for p in api.users("Ada", "Bob", "Cat"))
    s = api.schedule([layer([ada, bob, cat], "2024-03-01T00:00:00Z")])
    api.clock.now = datetime(2024, 3, 2, 10, tzinfo=UTC)  # Bob's day
    rotation = {"handoff": "2024-03-01T00:00:00Z", "shift_length": 12, "shift_unit": "hours"}
    api.call(
        "PATCH",
        f"/schedules/{s['id']}/layers/{s['layers'][0]['id']}",
        200,
        json={"rotation": rotation},
    )
    answer = api.get(
        f"/schedules/{s['id']}/timeline", since="2024-03-01T00:00:00Z", until="2024-03-04T12:00:00Z"
    )
    assert [(x[0].isoformat(), x[2]) for x in shifts(answer["final"])] == [
        ("2024-03-01T00:00:00+00:00", ada),
        ("2024-03-02T00:00:00+00:00", bob),  # kept until the end of the old day shift
        ("2024-03-03T00:00:00+00:00", cat),
        ("2024-03-03T12:00:00+00:00", ada),
        ("2024-03-04T00:00:00+00:00", bob),
    ]
