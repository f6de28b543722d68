"""Helpers for feed tests: a clock the test moves, API set-up, parsing feeds back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import Database
from store.settings import Settings
from tests.conftest import admin_headers

NY = "America/New_York"
#: 2026-03-08 is the spring-forward day in New York; a 30 + 180 day window covers it and more.
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """The app's clock; tests move it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def feed_client(settings: Settings, database: Database, clock: Clock) -> Iterator[TestClient]:
    app = create_app(settings, database, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def make_user(client: TestClient, name: str) -> str:
    email = f"{name.lower().replace(' ', '.')}@example.com"
    answer = client.post(
        "/api/v1/users",
        json={"name": name, "email": email, "time_zone": "UTC"},
        headers=admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def daily_layer(
    name: str, users: list[str], *, hour: int = 9, restrictions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A daily rotation handing off at ``hour``:00 New York time since 2026-01-01."""
    handoff = f"2026-01-01T{hour:02d}:00:00-05:00"
    layer: dict[str, Any] = {
        "name": name,
        "start": handoff,
        "users": users,
        "rotation": {"handoff": handoff, "shift_length": 1, "shift_unit": "days"},
    }
    if restrictions:
        layer["restrictions"] = restrictions
    return layer


def make_schedule(
    client: TestClient, name: str, layers: list[dict[str, Any]], time_zone: str = NY
) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/schedules",
        json={"name": name, "time_zone": time_zone, "layers": layers},
        headers=admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def override(client: TestClient, schedule_id: str, user: str, start: str, end: str) -> str:
    answer = client.post(
        f"/api/v1/schedules/{schedule_id}/overrides",
        json={"user_id": user, "start": start, "end": end},
        headers=admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def path_of(url: str) -> str:
    """The path of an ``ical_url`` (the test client has its own base URL)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    sequence: int
    last_modified: datetime
    stamp: datetime
    categories: str
    alarms: tuple[timedelta, ...]


def parse_feed(body: bytes) -> tuple[icalendar.Calendar, list[Event]]:
    """Parse a feed with icalendar; check each VEVENT's required properties on the way."""
    calendar = icalendar.Calendar.from_ical(body)
    events: list[Event] = []
    for component in calendar.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
            assert component.get(prop) is not None, f"{prop} missing"
        start, end = component.decoded("DTSTART"), component.decoded("DTEND")
        assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
        alarms = tuple(a.decoded("TRIGGER") for a in component.walk("VALARM"))
        categories = component.get("CATEGORIES")
        events.append(
            Event(
                uid=str(component["UID"]),
                start=start,
                end=end,
                summary=str(component["SUMMARY"]),
                description=str(component.get("DESCRIPTION", "")),
                sequence=int(str(component["SEQUENCE"])),
                last_modified=component.decoded("LAST-MODIFIED"),
                stamp=component.decoded("DTSTAMP"),
                categories=categories.to_ical().decode() if categories is not None else "",
                alarms=alarms,
            )
        )
    return calendar, events


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    user_id: str


def timeline_shifts(
    client: httpx.Client | TestClient, schedule_id: str, since: datetime, until: datetime
) -> list[Span]:
    """The timeline API's final shifts, touching pieces of one person merged (as in feeds)."""
    answer = client.get(
        f"/api/v1/schedules/{schedule_id}/timeline",
        params={"since": since.isoformat(), "until": until.isoformat()},
        headers=admin_headers(),
    )
    assert answer.status_code == 200, answer.text
    merged: list[Span] = []
    for item in answer.json()["final"]:
        start = datetime.fromisoformat(item["start"]).astimezone(UTC)
        end = datetime.fromisoformat(item["end"]).astimezone(UTC)
        if merged and merged[-1].end == start and merged[-1].user_id == item["user_id"]:
            merged[-1] = Span(merged[-1].start, end, item["user_id"])
        else:
            merged.append(Span(start, end, item["user_id"]))
    return merged


def window(now: datetime, past_days: int = 30, future_days: int = 180) -> tuple[datetime, datetime]:
    """The window a feed covers (whole UTC days around ``now``)."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=past_days), today + timedelta(days=future_days)


def expected(
    client: httpx.Client | TestClient, schedule_id: str, since: datetime, until: datetime
) -> list[Span]:
    """Merged timeline shifts meeting ``[since, until)``, whole (fetched with a margin)."""
    margin = timedelta(days=7)
    spans = timeline_shifts(client, schedule_id, since - margin, until + margin)
    inner = [s for s in spans if s.end > since and s.start < until]
    assert inner and inner[0].start > since - margin and inner[-1].end < until + margin
    return inner
