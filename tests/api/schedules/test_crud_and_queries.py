"""Create/read schedules; on-call, timelines and next shifts through the API match the core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules import queries, service
from schedules.core.timeline import on_call_user, timeline
from schedules.core.values import Shift
from store.db import Database
from tests.api.schedules.conftest import Api, at, layer, shifts
from tests.conftest import admin_headers


def test_create_read_list_and_round_trip(api: Api) -> None:
    ada, bob = api.users("Ada", "Bob")
    business = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]
    created = api.schedule(
        [
            layer([ada.id, bob.id], "2024-03-04T09:00:00+01:00", unit="weeks", name="Base"),
            layer([bob.id], "2024-03-04T09:00:00+01:00", restrictions=business, name="Day"),
        ],
        time_zone="Europe/Berlin",
    )
    assert created["ical_url"].startswith("http://testserver/calendars/schedules/")
    assert created["webcal_url"].startswith("webcal://testserver/")
    assert [x["name"] for x in created["layers"]] == ["Base", "Day"]
    assert created["layers"][1]["restrictions"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    ]
    assert created["layers"][0]["rotation"] == {
        "handoff": "2024-03-04T09:00:00+01:00",
        "shift_length": 1,
        "shift_unit": "weeks",
    }
    fetched = api.get(f"/schedules/{created['id']}")
    assert fetched == created
    listing = api.get("/schedules")
    assert [s["id"] for s in listing["items"]] == [created["id"]]
    assert listing["next"] is None
    # What GET answers fits back into PUT unchanged: no new versions, no audit entry.
    body = {k: fetched[k] for k in ("name", "time_zone", "team_id", "layers")}
    assert api.call("PUT", f"/schedules/{created['id']}", 200, json=body) == fetched
    versions = api.get(f"/schedules/{created['id']}/layers/{created['layers'][0]['id']}/versions")
    assert len(versions["items"]) == 1


def test_unknown_schedule_is_404_and_missing_token_401(api: Api) -> None:
    api.get("/schedules/nope", status=404)
    api.get("/schedules/nope/oncall", status=404)
    response = api.client.get("/api/v1/schedules")
    assert response.status_code == 401


def test_rotate_ical_replaces_the_feed_url(api: Api, database: Database) -> None:
    (ada,) = api.users("Ada")
    created = api.schedule([layer([ada.id], "2024-01-01T00:00:00Z")])
    old_token = created["ical_url"].rsplit("/", 1)[1].removesuffix(".ics")
    rotated = api.post(f"/schedules/{created['id']}/rotate-ical", {}, status=200)
    assert rotated["ical_url"] != created["ical_url"]
    new_token = rotated["ical_url"].rsplit("/", 1)[1].removesuffix(".ics")
    with database.transaction() as session:
        assert service.schedule_by_feed_token(session, old_token) is None
        found = service.schedule_by_feed_token(session, new_token)
        assert found is not None and found.id == created["id"]


def _world(api: Api) -> tuple[dict[str, Any], list[str]]:
    ada, bob, cat, dan = (p.id for p in api.users("Ada", "Bob", "Cat", "Dan"))
    nights = [{"start": "20:00", "end": "08:00", "days": ["mon", "tue", "wed", "thu", "fri"]}]
    created = api.schedule(
        [
            layer([ada, bob, cat], "2024-03-04T09:00:00-05:00", unit="days"),
            layer(
                [dan, cat],
                "2024-03-04T20:00:00-05:00",
                unit="hours",
                length=12,
                restrictions=nights,
            ),
        ],
        time_zone="America/New_York",
    )
    sid = created["id"]
    api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": bob, "start": "2024-03-12T06:00:00Z", "end": "2024-03-13T02:30:00Z"},
    )
    api.post(
        f"/schedules/{sid}/overrides",
        {"user_id": dan, "start": "2024-03-12T12:00:00Z", "end": "2024-03-12T13:00:00Z"},
    )
    return created, [ada, bob, cat, dan]


def test_timeline_and_oncall_match_the_pure_core(api: Api, database: Database) -> None:
    created, _ = _world(api)
    sid = created["id"]
    with database.transaction() as session:
        pure = service.load_schedule(session, sid)
    windows = [
        ("2024-03-08T00:00:00Z", "2024-03-15T00:00:00Z", False),
        ("2024-03-10T01:30:00-05:00", "2024-03-10T23:00:00-04:00", True),
        ("2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z", False),
    ]
    for since, until, overflow in windows:
        answer = api.get(
            f"/schedules/{sid}/timeline", since=since, until=until, overflow=str(overflow).lower()
        )
        expected = timeline(pure, at(since), at(until), overflow=overflow)

        def rows(items: tuple[Shift, ...]) -> list[tuple[Any, ...]]:
            return [(s.start, s.end, s.user_id, s.layer, s.override_id) for s in items]

        assert shifts(answer["final"]) == rows(expected.final)
        assert [shifts(x) for x in answer["layers"]] == [rows(x) for x in expected.layers]
        assert [(at(g["start"]), at(g["end"])) for g in answer["gaps"]] == [
            (g.start, g.end) for g in expected.gaps
        ]
        layer_ids = [x["id"] for x in created["layers"]]
        assert all(
            s["layer_id"] == (None if s["layer"] is None else layer_ids[s["layer"]])
            for s in answer["final"]
        )
    # on-call at every boundary of a week and at odd instants agrees with the core
    week = api.get(
        f"/schedules/{sid}/timeline", since="2024-03-09T00:00:00Z", until="2024-03-16T00:00:00Z"
    )
    instants = {at(s["start"]) for s in week["final"]} | {at(g["start"]) for g in week["gaps"]}
    instants |= {datetime(2024, 3, 9, tzinfo=UTC) + timedelta(minutes=397 * k) for k in range(25)}
    for instant in sorted(instants):
        answer = api.get(f"/schedules/{sid}/oncall", at=instant.isoformat())
        expected_user = on_call_user(pure, instant)
        assert [u["id"] for u in answer["users"]] == (
            [] if expected_user is None else [expected_user]
        )
        with database.transaction() as session:
            point = queries.on_call_shift(session, sid, instant, whole=False)
            assert (point.user_id if point else None) == expected_user
        if answer["shift"] is not None:
            assert at(answer["shift"]["start"]) <= instant < at(answer["shift"]["end"])


def test_oncall_defaults_to_now_and_names_the_person(api: Api) -> None:
    ada, bob = api.users("Ada", "Bob")
    sid = api.schedule([layer([ada.id, bob.id], "2024-03-01T00:00:00Z")])["id"]
    api.clock.now = datetime(2024, 3, 2, 5, tzinfo=UTC)
    answer = api.get(f"/schedules/{sid}/oncall")
    assert answer["at"] == "2024-03-02T05:00:00Z"
    assert answer["users"] == [{"id": bob.id, "name": "Bob"}]
    assert answer["shift"]["start"] == "2024-03-02T00:00:00Z"
    assert answer["shift"]["end"] == "2024-03-03T00:00:00Z"
    nobody = api.get(f"/schedules/{sid}/oncall", at="2023-01-01T00:00:00Z")
    assert nobody["users"] == [] and nobody["shift"] is None


def test_daily_0900_handoff_in_new_york_across_both_dst_changes(api: Api) -> None:
    ada, bob = api.users("Ada", "Bob")
    sid = api.schedule(
        [layer([ada.id, bob.id], "2024-03-01T09:00:00-05:00")], time_zone="America/New_York"
    )["id"]
    for since, until, lengths in (
        ("2024-03-08T09:00:00-05:00", "2024-03-12T09:00:00-04:00", [24, 23, 24, 24]),
        ("2024-11-01T09:00:00-04:00", "2024-11-05T09:00:00-05:00", [24, 25, 24, 24]),
    ):
        answer = api.get(f"/schedules/{sid}/timeline", since=since, until=until)
        final = shifts(answer["final"])
        assert [(e - s) / timedelta(hours=1) for s, e, *_ in final] == lengths
        for s, *_ in final:
            local = s.astimezone(ZoneInfo("America/New_York"))
            assert (local.hour, local.minute) == (9, 0)
        assert answer["gaps"] == []
    assert (
        api.get(f"/schedules/{sid}/oncall", at="2024-03-10T08:59:00-04:00")["users"][0]["id"]
        != api.get(f"/schedules/{sid}/oncall", at="2024-03-10T09:00:00-04:00")["users"][0]["id"]
    )


def test_window_clipping_overflow_and_gaps(api: Api) -> None:
    (ada,) = api.users("Ada")
    sid = api.schedule(
        [
            layer(
                [ada.id],
                "2024-03-04T00:00:00Z",
                start="2024-03-04T00:00:00Z",
                end="2024-03-06T00:00:00Z",
            )
        ]
    )["id"]
    clipped = api.get(
        f"/schedules/{sid}/timeline", since="2024-03-05T00:00:00Z", until="2024-03-07T00:00:00Z"
    )
    assert shifts(clipped["final"]) == [
        (at("2024-03-05T00:00:00Z"), at("2024-03-06T00:00:00Z"), ada.id, 0, None)
    ]
    assert clipped["gaps"] == [{"start": "2024-03-06T00:00:00Z", "end": "2024-03-07T00:00:00Z"}]
    whole = api.get(
        f"/schedules/{sid}/timeline",
        since="2024-03-05T00:00:00Z",
        until="2024-03-05T01:00:00Z",
        overflow="true",
    )
    assert shifts(whole["final"]) == [
        (at("2024-03-04T00:00:00Z"), at("2024-03-06T00:00:00Z"), ada.id, 0, None)
    ]
    default = api.get(f"/schedules/{sid}/timeline", since="2024-03-05T00:00:00Z")
    assert default["until"] == "2024-03-12T00:00:00Z"


def test_next_shift_for_a_user(api: Api, database: Database) -> None:
    ada, bob, cat = api.users("Ada", "Bob", "Cat")
    sid = api.schedule([layer([ada.id, bob.id], "2024-03-01T00:00:00Z")])["id"]
    second = api.schedule([layer([cat.id, bob.id], "2024-03-01T12:00:00Z", length=3)])["id"]
    answer = api.get(f"/users/{bob.id}/next-shift", after="2024-03-01T01:00:00Z")
    assert answer["shift"]["schedule_id"] == sid
    assert (answer["shift"]["start"], answer["shift"]["end"]) == (
        "2024-03-02T00:00:00Z",
        "2024-03-03T00:00:00Z",
    )
    in_second = api.get(
        f"/schedules/{second}/next-shift", user_id=bob.id, after="2024-03-01T01:00:00Z"
    )
    assert in_second["shift"]["start"] == "2024-03-04T12:00:00Z"
    assert in_second["shift"]["schedule_name"] == "Primary"
    running = api.get(f"/users/{ada.id}/next-shift", after="2024-03-01T01:00:00Z")
    assert running["shift"]["start"] == "2024-03-03T00:00:00Z"  # the running one is not "next"
    nothing = api.get(f"/users/{cat.id}/next-shift", after="2024-03-01T13:00:00Z", horizon_days=2)
    assert nothing["shift"] is None
    api.get("/users/nobody/next-shift", status=404)
    with database.transaction() as session:
        assert queries.schedule_ids_for_user(session, bob.id) == sorted([sid, second])
        assert queries.schedule_ids_for_user(session, ada.id) == [sid]


def test_delete_schedule_refused_while_a_policy_targets_it(api: Api) -> None:
    (ada,) = api.users("Ada")
    sid = api.schedule([layer([ada.id], "2024-01-01T00:00:00Z")])["id"]
    policy = api.post(
        "/escalation-policies",
        {
            "name": "P",
            "tiers": [{"delay_seconds": 60, "targets": [{"type": "schedule", "id": sid}]}],
        },
    )
    response = api.client.delete(f"/api/v1/schedules/{sid}", headers=admin_headers())
    assert response.status_code == 409, response.text
    api.call("DELETE", f"/escalation-policies/{policy['id']}", 204)
    api.call("DELETE", f"/schedules/{sid}", 204)
    api.get(f"/schedules/{sid}", status=404)
