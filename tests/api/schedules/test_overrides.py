"""Overrides: win over layers, no overlaps per person, deleting keeps the past."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.api.schedules.conftest import Api, at, layer, shifts


def _schedule(api: Api) -> tuple[str, list[str]]:
    ids = [p.id for p in api.users("Ada", "Bob", "Cat")]
    sid = api.schedule([layer(ids[:2], "2024-03-01T00:00:00Z")])["id"]
    api.clock.now = datetime(2024, 3, 5, 12, tzinfo=UTC)
    return sid, ids


def test_an_override_wins_and_the_newest_wins_among_overlapping_ones(api: Api) -> None:
    sid, (_ada, bob, cat) = _schedule(api)
    first = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat, "start": "2024-03-06T06:00:00Z", "end": "2024-03-06T18:00:00Z"},
    )
    assert first["user_id"] == cat and first["cancelled_at"] is None
    newer = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": bob, "start": "2024-03-06T10:00:00+01:00", "end": "2024-03-06T12:00:00Z"},
    )
    answer = api.get(
        f"/schedules/{sid}/timeline", since="2024-03-06T00:00:00Z", until="2024-03-07T00:00:00Z"
    )
    assert shifts(answer["final"]) == [
        (at("2024-03-06T00:00:00Z"), at("2024-03-06T06:00:00Z"), bob, 0, None),
        (at("2024-03-06T06:00:00Z"), at("2024-03-06T09:00:00Z"), cat, None, first["id"]),
        (at("2024-03-06T09:00:00Z"), at("2024-03-06T12:00:00Z"), bob, None, newer["id"]),
        (at("2024-03-06T12:00:00Z"), at("2024-03-06T18:00:00Z"), cat, None, first["id"]),
        (at("2024-03-06T18:00:00Z"), at("2024-03-07T00:00:00Z"), bob, 0, None),
    ]
    oncall = api.get(f"/schedules/{sid}/oncall", at="2024-03-06T07:00:00Z")
    assert oncall["users"][0]["id"] == cat
    assert oncall["shift"]["override_id"] == first["id"]
    assert api.get(f"/schedules/{sid}/overrides/{first['id']}") == first
    listed = api.get(f"/schedules/{sid}/overrides", user_id=cat)["items"]
    assert [o["id"] for o in listed] == [first["id"]]
    none_later = api.get(f"/schedules/{sid}/overrides", since="2024-03-07T00:00:00Z")["items"]
    assert none_later == []


def test_overlapping_overrides_for_the_same_person_are_refused(api: Api) -> None:
    sid, (_ada, bob, cat) = _schedule(api)
    path = f"/schedules/{sid}/overrides"
    api.post(path, {"user_id": cat, "start": "2024-03-06T06:00:00Z", "end": "2024-03-06T18:00:00Z"})
    clash = api.post(
        path,
        {"user_id": cat, "start": "2024-03-06T17:00:00Z", "end": "2024-03-07T18:00:00Z"},
        status=422,
    )
    assert clash["errors"][0]["field"] == "start"
    # touching is fine, and another person may overlap
    api.post(path, {"user_id": cat, "start": "2024-03-06T18:00:00Z", "end": "2024-03-07T00:00:00Z"})
    api.post(path, {"user_id": bob, "start": "2024-03-06T07:00:00Z", "end": "2024-03-06T08:00:00Z"})


def test_deleting_a_future_override_removes_it(api: Api) -> None:
    sid, (_ada, bob, cat) = _schedule(api)
    created = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat, "start": "2024-03-06T06:00:00Z", "end": "2024-03-06T18:00:00Z"},
    )
    api.call("DELETE", f"/schedules/{sid}/overrides/{created['id']}", 204)
    api.get(f"/schedules/{sid}/overrides/{created['id']}", status=404)
    assert api.get(f"/schedules/{sid}/oncall", at="2024-03-06T07:00:00Z")["users"][0]["id"] == bob


def test_deleting_a_started_override_truncates_it_and_keeps_the_past(api: Api) -> None:
    sid, (ada, _bob, cat) = _schedule(api)
    api.clock.now = datetime(2024, 3, 5, 6, tzinfo=UTC)
    created = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat, "start": "2024-03-05T06:00:00Z", "end": "2024-03-06T06:00:00Z"},
    )
    api.clock.now = datetime(2024, 3, 5, 12, tzinfo=UTC)
    window: dict[str, Any] = {"since": "2024-03-05T00:00:00Z", "until": "2024-03-05T12:00:00Z"}
    past = api.get(f"/schedules/{sid}/timeline", **window)
    cut = api.call("DELETE", f"/schedules/{sid}/overrides/{created['id']}", 200)
    assert cut["end"] == "2024-03-05T12:00:00Z"
    assert cut["cancelled_at"] == "2024-03-05T12:00:00Z"
    assert api.get(f"/schedules/{sid}/timeline", **window) == past
    assert api.get(f"/schedules/{sid}/oncall", at="2024-03-05T13:00:00Z")["users"][0]["id"] == ada
    api.clock.now = datetime(2024, 3, 8, tzinfo=UTC)
    over = api.call("DELETE", f"/schedules/{sid}/overrides/{created['id']}", 409)
    assert over["status"] == 409
    entries = api.get("/audit", entity_type="schedule_overrides", entity_id=created["id"])["items"]
    assert [e["action"] for e in entries] == ["truncate", "create"]
    assert entries[0]["before"]["end"].startswith("2024-03-06T06:00:00")
    assert entries[0]["after"]["end"].startswith("2024-03-05T12:00:00")


def test_override_of_another_schedule_is_not_found(api: Api) -> None:
    sid, (ada, _bob, cat) = _schedule(api)
    other = api.schedule([layer([ada], "2024-03-01T00:00:00Z")])["id"]
    created = api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": cat, "start": "2024-03-06T06:00:00Z", "end": "2024-03-06T18:00:00Z"},
    )
    api.get(f"/schedules/{other}/overrides/{created['id']}", status=404)
    api.call("DELETE", f"/schedules/{other}/overrides/{created['id']}", 404)


def test_an_override_in_the_past_is_refused_naming_start_and_the_past_stays(api: Api) -> None:
    sid, (_ada, bob, cat) = _schedule(api)  # now: 2024-03-05 12:00 UTC
    path = f"/schedules/{sid}/overrides"
    yesterday = {"since": "2024-03-04T00:00:00Z", "until": "2024-03-05T00:00:00Z"}
    before = api.client.get(
        f"/api/v1/schedules/{sid}/timeline", params=yesterday, headers=api.headers
    ).content
    refused = api.post(
        path,
        {"user_id": cat, "start": "2024-03-04T06:00:00Z", "end": "2024-03-04T18:00:00Z"},
        status=422,
    )
    assert refused["errors"][0]["field"] == "start"
    assert "past" in refused["detail"]
    # Even one that runs on into the future: it would rewrite the part already gone.
    api.post(
        path,
        {"user_id": cat, "start": "2024-03-05T11:58:00Z", "end": "2024-03-05T18:00:00Z"},
        status=422,
    )
    after = api.client.get(
        f"/api/v1/schedules/{sid}/timeline", params=yesterday, headers=api.headers
    ).content
    assert after == before
    assert api.get(f"/schedules/{sid}/oncall", at="2024-03-04T07:00:00Z")["users"][0]["id"] != cat
    assert api.get(f"/schedules/{sid}/overrides")["items"] == []

    # A minute of grace for clock differences; now and later as before.
    skewed = api.post(
        path, {"user_id": cat, "start": "2024-03-05T11:59:10Z", "end": "2024-03-05T13:00:00Z"}
    )
    assert skewed["start"] == "2024-03-05T11:59:10Z"
    api.post(path, {"user_id": bob, "start": "2024-03-05T12:00:00Z", "end": "2024-03-05T12:30:00Z"})
    api.post(path, {"user_id": bob, "start": "2024-03-09T00:00:00Z", "end": "2024-03-10T00:00:00Z"})
