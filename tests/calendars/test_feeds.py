"""Schedule and user feeds over HTTP, checked shift by shift against the timeline API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

from store.db import Database
from store.settings import Settings
from tests.calendars.support import (
    NY,
    START,
    Clock,
    Event,
    daily_layer,
    expected,
    feed_client,
    make_schedule,
    make_user,
    override,
    parse_feed,
    path_of,
    window,
)
from tests.conftest import admin_headers


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(settings: Settings, database: Database, clock: Clock) -> Iterator[TestClient]:
    yield from feed_client(settings, database, clock)


class World:
    """Three people on a daily 09:00 New York rotation, a weekday lunch layer for a fourth,
    two overrides, and an escalation policy that pages the schedule at level 2."""

    def __init__(self, api: TestClient) -> None:
        self.ada, self.bob, self.cy, self.dee = (
            make_user(api, n) for n in ("Ada", "Bob", "Cy", "Dee")
        )
        self.names = {self.ada: "Ada", self.bob: "Bob", self.cy: "Cy", self.dee: "Dee"}
        lunch = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00", "end": "13:30"}]
        self.schedule = make_schedule(
            api,
            "Platform, primary",
            [
                daily_layer("Daily", [self.ada, self.bob, self.cy]),
                daily_layer("Lunch cover", [self.dee], restrictions=lunch),
            ],
        )
        self.id = self.schedule["id"]
        # Bob covers a Sunday across the DST change; Cy takes an afternoon in April.
        override(api, self.id, self.bob, "2026-03-07T20:00:00-05:00", "2026-03-08T15:00:00-04:00")
        override(api, self.id, self.cy, "2026-04-14T15:00:00-04:00", "2026-04-14T18:00:00-04:00")
        policy = api.post(
            "/api/v1/escalation-policies",
            json={
                "name": "Platform",
                "tiers": [
                    {"delay_seconds": 300, "targets": [{"type": "user", "id": self.ada}]},
                    {"delay_seconds": 300, "targets": [{"type": "schedule", "id": self.id}]},
                ],
            },
            headers=admin_headers(),
        )
        assert policy.status_code == 201, policy.text
        self.policy = policy.json()["id"]
        self.feed = path_of(self.schedule["ical_url"])


@pytest.fixture
def world(api: TestClient) -> World:
    return World(api)


def _get(api: TestClient, path: str, **headers: str) -> tuple[bytes, list[Event], dict[str, str]]:
    answer = api.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    _, events = parse_feed(answer.content)
    return answer.content, events, dict(answer.headers)


def test_schedule_feed_matches_the_timeline_shift_by_shift(api: TestClient, world: World) -> None:
    answer = api.get(world.feed)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar, events = parse_feed(answer.content)
    # icalendar leaves NAME / X-WR-CALNAME undecoded: TEXT escaping of the comma stays visible.
    assert str(calendar["X-WR-CALNAME"]) == "Platform\\, primary"
    assert str(calendar["X-WR-TIMEZONE"]) == NY
    assert calendar.get("REFRESH-INTERVAL") is not None

    since, until = window(START)
    want = expected(api, world.id, since, until)
    got = [(e.start, e.end, e.summary) for e in events]
    assert got == [
        (s.start, s.end, f"On call: {world.names[s.user_id]} — Platform, primary") for s in want
    ]
    assert len({e.uid for e in events}) == len(events)
    # 09:00 New York is 14:00 UTC before 2026-03-08 and 13:00 UTC after it.
    starts = {e.start for e in events}
    assert datetime(2026, 3, 3, 14, tzinfo=UTC) in starts
    assert datetime(2026, 3, 10, 13, tzinfo=UTC) in starts
    # The override ran Bob's Sunday from Saturday evening across the change, as one event.
    bob = next(e for e in events if e.start == datetime(2026, 3, 8, 1, tzinfo=UTC))
    assert bob.end == datetime(2026, 3, 8, 19, tzinfo=UTC)
    assert bob.summary.startswith("On call: Bob")
    # Weekday lunches of Dee cut the daily shifts (restrictions), never weekend ones.
    lunch = [e for e in events if e.summary.startswith("On call: Dee")]
    assert lunch and all(e.start.astimezone(UTC).weekday() < 5 for e in lunch)
    assert all(e.end - e.start == timedelta(minutes=90) for e in lunch)
    for event in events:
        assert "Escalation: Platform (level 2)" in event.description
        assert world.id in event.description
        assert event.sequence == 0 and event.stamp == event.last_modified == START
    assert "From: layer Lunch cover" in lunch[0].description
    assert "From: override" in bob.description


def test_same_feed_twice_is_byte_identical(api: TestClient, world: World) -> None:
    first, events, head = _get(api, world.feed)
    second, again, head2 = _get(api, world.feed)
    assert first == second and head["etag"] == head2["etag"]
    assert head["etag"].startswith('"') and not head["etag"].startswith("W/")
    assert [e.uid for e in events] == [e.uid for e in again]


def test_an_edited_shift_keeps_its_uid_and_bumps_sequence(
    api: TestClient, world: World, clock: Clock
) -> None:
    _, before, head = _get(api, world.feed)
    by_start = {e.start: e for e in before}
    # Bob holds Saturday 2026-03-21 09:00 → Sunday 09:00 (EDT), Cy the Sunday after; Cy takes
    # Bob's last three hours: Bob's event ends earlier and Cy's starts earlier. Both are
    # updates (same UID, SEQUENCE 1), not new events.
    bob = by_start[datetime(2026, 3, 21, 13, tzinfo=UTC)]
    cy = by_start[datetime(2026, 3, 22, 13, tzinfo=UTC)]
    assert bob.summary.startswith("On call: Bob") and cy.summary.startswith("On call: Cy")
    clock.now = START + timedelta(hours=2)
    override(api, world.id, world.cy, "2026-03-22T06:00:00-04:00", "2026-03-22T09:00:00-04:00")
    _, after, head2 = _get(api, world.feed)
    assert head2["etag"] != head["etag"]
    assert len(after) == len(before)
    changed = {e.uid: e for e in after}
    assert changed[bob.uid].end == datetime(2026, 3, 22, 10, tzinfo=UTC)
    assert changed[cy.uid].start == datetime(2026, 3, 22, 10, tzinfo=UTC)
    for uid in (bob.uid, cy.uid):
        assert changed[uid].sequence == 1
        assert changed[uid].last_modified == clock.now
    untouched = [e for e in after if e.uid not in (bob.uid, cy.uid)]
    assert {e.uid for e in untouched} == {e.uid for e in before} - {bob.uid, cy.uid}
    assert all(e.sequence == 0 and e.last_modified == START for e in untouched)
    assert all(e.stamp == clock.now for e in after)  # DTSTAMP: the newest change


def test_uids_survive_the_window_moving_on(api: TestClient, world: World, clock: Clock) -> None:
    _, before, _ = _get(api, world.feed)
    clock.now = START + timedelta(days=3)
    _, after, _ = _get(api, world.feed)
    old = {(e.start, e.end): e.uid for e in before}
    shared = [e for e in after if (e.start, e.end) in old]
    assert len(shared) > 150
    assert all(old[(e.start, e.end)] == e.uid and e.sequence == 0 for e in shared)
    since, until = window(clock.now)
    want = expected(api, world.id, since, until)
    assert [(e.start, e.end) for e in after] == [(s.start, s.end) for s in want]


def test_conditional_requests_answer_304(api: TestClient, world: World, clock: Clock) -> None:
    first = api.get(world.feed)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = api.get(world.feed, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b"" and again.headers["etag"] == etag
    assert api.get(world.feed, headers={"If-Modified-Since": modified}).status_code == 304
    assert api.get(world.feed, headers={"If-None-Match": '"old"'}).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    both = {"If-None-Match": '"old"', "If-Modified-Since": modified}
    assert api.get(world.feed, headers=both).status_code == 200
    older = "Sat, 01 Jan 2000 00:00:00 GMT"
    assert api.get(world.feed, headers={"If-Modified-Since": older}).status_code == 200
    assert api.get(world.feed, headers={"If-Modified-Since": "garbage"}).status_code == 200
    clock.now = START + timedelta(minutes=5)
    override(api, world.id, world.dee, "2026-05-01T00:00:00Z", "2026-05-01T02:00:00Z")
    changed = api.get(world.feed, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.headers["last-modified"] == "Sun, 01 Mar 2026 12:05:00 GMT"
    assert api.get(world.feed, headers={"If-Modified-Since": modified}).status_code == 200
    head = api.head(world.feed)
    assert head.status_code == 200 and head.headers["etag"] == changed.headers["etag"]


def test_feeds_need_no_bearer_token_and_rotation_kills_the_old_url(
    api: TestClient, world: World
) -> None:
    assert api.get(world.feed).status_code == 200  # no Authorization header
    rotated = api.post(f"/api/v1/schedules/{world.id}/rotate-ical", headers=admin_headers())
    assert rotated.status_code == 200, rotated.text
    gone = api.get(world.feed)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    new = path_of(rotated.json()["ical_url"])
    assert new != world.feed and api.get(new).status_code == 200
    assert rotated.json()["webcal_url"] == "webcal://" + rotated.json()["ical_url"].split("://")[1]
    user = api.get(f"/api/v1/users/{world.ada}", headers=admin_headers()).json()
    old_user_feed = path_of(user["ical_url"])
    assert api.get(old_user_feed).status_code == 200
    again = api.post(f"/api/v1/users/{world.ada}/rotate-ical", headers=admin_headers())
    assert again.status_code == 200
    assert api.get(old_user_feed).status_code == 404
    assert api.get(path_of(again.json()["ical_url"])).status_code == 200
    for bad in ("/calendars/schedules/nope.ics", "/calendars/users/.ics", "/calendars/users/x"):
        assert api.get(bad).status_code == 404, bad


def test_user_feed_spans_every_schedule_and_is_labelled(api: TestClient, world: World) -> None:
    ops = make_schedule(api, "Ops secondary", [daily_layer("Weekly-ish", [world.cy, world.ada])])
    db = make_schedule(api, "Databases", [daily_layer("DBA", [world.dee, world.bob], hour=18)])
    override(api, db["id"], world.ada, "2026-03-20T10:00:00Z", "2026-03-21T10:00:00Z")
    user = api.get(f"/api/v1/users/{world.ada}", headers=admin_headers()).json()
    calendar, events = parse_feed(api.get(path_of(user["ical_url"])).content)
    assert str(calendar["X-WR-CALNAME"]) == "On call: Ada"
    since, until = window(START)
    want = []
    for schedule_id, name in ((world.id, "Platform, primary"), (ops["id"], "Ops secondary"),
                              (db["id"], "Databases")):  # fmt: skip
        for span in expected(api, schedule_id, since, until):
            if span.user_id == world.ada:
                want.append((span.start, span.end, f"On call: Ada — {name}"))
    got = sorted((e.start, e.end, e.summary) for e in events)
    assert got == sorted(want)
    assert {s for _, _, s in got} == {
        "On call: Ada — Platform, primary",
        "On call: Ada — Ops secondary",
        "On call: Ada — Databases",
    }
    assert len({e.uid for e in events}) == len(events)


def test_gaps_show_uncovered_time(api: TestClient, clock: Clock) -> None:
    eve = make_user(api, "Eve")
    hours = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]
    schedule = make_schedule(api, "Office hours", [daily_layer("Day", [eve], restrictions=hours)])
    feed = path_of(schedule["ical_url"])
    _, plain = parse_feed(api.get(feed).content)
    assert plain and all(e.categories == "On call" for e in plain)
    _, both = parse_feed(api.get(feed, params={"gaps": "true"}).content)
    gaps = [e for e in both if e.categories == "Coverage gap"]
    assert gaps and all(e.summary == "Nobody on call — Office hours" for e in gaps)
    assert [e for e in both if e.categories == "On call"] == plain
    ordered = sorted(both, key=lambda e: e.start)
    for left, right in pairwise(ordered):
        assert left.end == right.start  # shifts and gaps tile the time without overlap
        assert left.categories != right.categories
    since, until = window(START)
    assert ordered[0].start <= since and ordered[-1].end >= until
    user = api.get(f"/api/v1/users/{eve}", headers=admin_headers()).json()
    _, mine = parse_feed(api.get(path_of(user["ical_url"]), params={"gaps": "true"}).content)
    assert [(e.start, e.end) for e in mine] == [(e.start, e.end) for e in plain]


def test_alarm_option_adds_a_reminder_to_shifts_only(api: TestClient, world: World) -> None:
    _, events = parse_feed(api.get(world.feed, params={"alarm_minutes": 15, "gaps": 1}).content)
    assert events and all(
        e.alarms == (timedelta(minutes=-15),) for e in events if e.categories == "On call"
    )
    _, plain = parse_feed(api.get(world.feed).content)
    assert all(e.alarms == () for e in plain)
    _, zero = parse_feed(api.get(world.feed, params={"alarm_minutes": 0}).content)
    assert all(e.alarms == (timedelta(0),) for e in zero)


def test_window_options_and_caps(api: TestClient, world: World) -> None:
    _, short, _ = _get(api, world.feed + "?past_days=0&future_days=7")
    since, until = window(START, 0, 7)
    assert [(e.start, e.end) for e in short] == [
        (s.start, s.end) for s in expected(api, world.id, since, until)
    ]
    _, year, _ = _get(api, world.feed + "?past_days=0&future_days=366")
    assert len(year) > 600
    for query, field in (
        ("past_days=367", "past_days"),
        ("future_days=0", "future_days"),
        ("past_days=200&future_days=200", "future_days"),
        ("future_days=abc", "future_days"),
        ("alarm_minutes=-1", "alarm_minutes"),
        ("alarm_minutes=99999999", "alarm_minutes"),
        ("gaps=maybe", "gaps"),
    ):
        answer = api.get(f"{world.feed}?{query}")
        assert answer.status_code == 422, query
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == field, query


def test_every_kind_of_input_change_shows_at_once(
    api: TestClient, world: World, clock: Clock
) -> None:
    """The fast 304 path must notice renames of people, schedules and policies too."""
    first = api.get(world.feed)
    etag = first.headers["etag"]
    # An edit to another schedule: the feed stays the same bytes, ETag and Last-Modified.
    other = make_schedule(api, "Other", [daily_layer("X", [world.ada, world.bob])])
    override(api, other["id"], world.cy, "2026-03-20T00:00:00Z", "2026-03-21T00:00:00Z")
    clock.now = START + timedelta(minutes=1)
    same = api.get(world.feed, headers={"If-None-Match": etag})
    assert (
        same.status_code == 304 and same.headers["last-modified"] == first.headers["last-modified"]
    )

    def changed(step: str) -> list[Event]:
        nonlocal etag
        answer = api.get(world.feed, headers={"If-None-Match": etag})
        assert answer.status_code == 200, step
        assert answer.headers["etag"] != etag, step
        etag = answer.headers["etag"]
        return parse_feed(answer.content)[1]

    renamed = api.patch(f"/api/v1/users/{world.dee}", json={"name": "Deirdre"},
                        headers=admin_headers())  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    events = changed("user renamed")
    dee = [e for e in events if "Deirdre" in e.summary]
    assert dee and all(e.sequence == 1 for e in dee)
    assert all(e.sequence == 0 for e in events if e not in dee)
    moved = api.patch(f"/api/v1/schedules/{world.id}", json={"name": "Platform"},
                      headers=admin_headers())  # fmt: skip
    assert moved.status_code == 200, moved.text
    events = changed("schedule renamed")
    assert all(e.summary.endswith("— Platform") for e in events)
    policy = api.put(
        f"/api/v1/escalation-policies/{world.policy}",
        json={"name": "Platform", "tiers": [
            {"delay_seconds": 60, "targets": [{"type": "schedule", "id": world.id}]}]},
        headers=admin_headers(),
    )  # fmt: skip
    assert policy.status_code == 200, policy.text
    events = changed("policy edited")
    assert all("Escalation: Platform (level 1)" in e.description for e in events)
    assert api.get(world.feed, headers={"If-None-Match": etag}).status_code == 304
