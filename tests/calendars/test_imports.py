"""Imported calendars: uploads and followed URLs become overrides; unmatched events reported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.engine import build_engine
from calendars.refresh import calendar_fetcher, refresh_due
from store.db import Database
from store.settings import Settings
from tests.calendars.support import (
    START,
    Clock,
    daily_layer,
    feed_client,
    make_schedule,
    make_user,
    parse_feed,
    path_of,
    timeline_shifts,
)
from tests.conftest import admin_headers
from tests.factories import Factory

CAL = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\n{}END:VCALENDAR\r\n"


def vevent(uid: str, start: str, end: str, summary: str, *extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{summary}",
        *extra,
        "END:VEVENT",
    ]
    return "\r\n".join(lines) + "\r\n"


#: Bob is on call every Saturday 10:00-18:00 UTC from 2026-03-07 (four weeks), attendee e-mail;
#: one Tuesday evening for Cy (named in the summary); one event nobody can be matched to.
TEAM_CALENDAR = CAL.format(
    vevent("sat@team", "20260307T100000Z", "20260307T180000Z", "Weekend cover",
           "RRULE:FREQ=WEEKLY;COUNT=4", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com")
    + vevent("tue@team", "20260310T190000Z", "20260310T230000Z", "Cy")
    + vevent("who@team", "20260312T000000Z", "20260312T060000Z", "Mystery guest")
)  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(settings: Settings, database: Database, clock: Clock) -> Iterator[TestClient]:
    # The calendar server of these tests is on loopback: allowed explicitly (test_ssrf.py
    # checks that it is refused by default).
    private_ok = settings.model_copy(update={"allow_private_urls": True})
    yield from feed_client(private_ok, database, clock)


#: The engine's fetcher with ``WATCHBILL_ALLOW_PRIVATE_URLS=true`` (the server is on loopback).
FETCH = calendar_fetcher(allow_private=True)


@pytest.fixture
def people(api: TestClient) -> dict[str, str]:
    return {name: make_user(api, name) for name in ("Ada", "Bob", "Cy")}


@pytest.fixture
def schedule(api: TestClient, people: dict[str, str]) -> dict[str, Any]:
    return make_schedule(api, "Support", [daily_layer("Ada only", [people["Ada"], people["Ada"]])])


class CalendarServer:
    """A loopback HTTP server serving one .ics that the test can change (or break)."""

    def __init__(self) -> None:
        self.body = TEAM_CALENDAR.encode()
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/team.ics"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served() -> Iterator[CalendarServer]:
    server = CalendarServer()
    yield server
    server.close()


def _who(api: TestClient, schedule_id: str, at: str) -> list[str]:
    answer = api.get(
        f"/api/v1/schedules/{schedule_id}/oncall", params={"at": at}, headers=admin_headers()
    )
    assert answer.status_code == 200, answer.text
    return [u["id"] for u in answer.json()["users"]]


def test_upload_makes_overrides_and_reports_unmatched(
    api: TestClient, people: dict[str, str], schedule: dict[str, Any]
) -> None:
    sid = schedule["id"]
    made = api.post(
        f"/api/v1/schedules/{sid}/imports",
        json={"name": "Team calendar", "ics": TEAM_CALENDAR},
        headers=admin_headers(),
    )
    assert made.status_code == 201, made.text
    report = made.json()["report"]
    assert made.json()["status"] == "ok" and made.json()["uploaded"] is True
    assert report["events"] == 6 and report["matched"] == 5
    assert report["overrides_created"] == 5
    assert [u["uid"] for u in report["unmatched"]] == ["who@team"]
    assert report["unmatched"][0]["summary"] == "Mystery guest"
    for saturday in ("2026-03-07", "2026-03-14", "2026-03-21", "2026-03-28"):
        assert _who(api, sid, f"{saturday}T12:00:00Z") == [people["Bob"]]
        assert _who(api, sid, f"{saturday}T19:00:00Z") == [people["Ada"]]
    assert _who(api, sid, "2026-04-04T12:00:00Z") == [people["Ada"]]  # COUNT=4
    assert _who(api, sid, "2026-03-10T20:00:00Z") == [people["Cy"]]
    assert _who(api, sid, "2026-03-12T03:00:00Z") == [people["Ada"]]
    stored = api.get(
        f"/api/v1/schedules/{sid}/imports/{made.json()['id']}", headers=admin_headers()
    )
    assert stored.json()["report"] == report
    # The feed shows the imported shifts like any override.
    _, events = parse_feed(api.get(path_of(schedule["ical_url"])).content)
    bob = [e for e in events if e.summary == "On call: Bob — Support"]
    assert [e.start for e in bob] == [datetime(2026, 3, d, 10, tzinfo=UTC) for d in (7, 14, 21, 28)]


def test_upload_as_multipart_file(
    api: TestClient, people: dict[str, str], schedule: dict[str, Any]
) -> None:
    answer = api.post(
        f"/api/v1/schedules/{schedule['id']}/imports/upload",
        files={"file": ("team.ics", TEAM_CALENDAR.encode(), "text/calendar")},
        data={"horizon_days": "14"},
        headers=admin_headers(),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["name"] == "team.ics" and body["horizon_days"] == 14
    # Only the next 14 days count: 2026-03-01 .. 03-15 holds two Saturdays, Cy's Tuesday
    # and the mystery event.
    assert body["report"]["events"] == 4 and body["report"]["overrides_created"] == 3


def test_bad_input_is_a_clear_4xx(
    api: TestClient, schedule: dict[str, Any], factory: Factory
) -> None:
    base = f"/api/v1/schedules/{schedule['id']}/imports"
    for body, field in (
        ({"ics": "not a calendar"}, "ics"),
        ({"ics": CAL.format("BEGIN:VEVENT\r\nUID:x\r\n")}, "ics"),
        ({}, "url"),
        ({"ics": TEAM_CALENDAR, "url": "http://127.0.0.1:9/x.ics"}, "url"),
        ({"ics": TEAM_CALENDAR, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"url": "http://x", "refresh_minutes": 1}, "refresh_minutes"),
        ({"url": "http://x", "horizon_days": 999}, "horizon_days"),
    ):
        answer = api.post(base, json=body, headers=admin_headers())
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field, body
    assert api.get(base, headers=admin_headers()).json()["items"] == []
    assert api.post("/api/v1/schedules/nope/imports", json={"ics": TEAM_CALENDAR},
                    headers=admin_headers()).status_code == 404  # fmt: skip
    outsider = factory.user()
    denied = api.post(base, json={"ics": TEAM_CALENDAR}, headers=outsider.headers)
    assert denied.status_code == 403


def test_followed_url_is_refreshed_and_reconciled(
    api: TestClient,
    database: Database,
    people: dict[str, str],
    schedule: dict[str, Any],
    served: CalendarServer,
    clock: Clock,
) -> None:
    sid = schedule["id"]
    base = f"/api/v1/schedules/{sid}/imports"
    made = api.post(base, json={"url": served.url, "refresh_minutes": 60}, headers=admin_headers())
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending" and made.json()["report"] == {}
    link = f"{base}/{made.json()['id']}"
    assert refresh_due(database, clock.now, fetch=FETCH) == 1
    first = api.get(link, headers=admin_headers()).json()
    assert first["status"] == "ok" and first["report"]["overrides_created"] == 5
    assert refresh_due(database, clock.now, fetch=FETCH) == 0  # not due again before the interval
    # The team moves Cy's evening to Wednesday and drops the last two Saturdays.
    served.body = CAL.format(
        vevent("sat@team", "20260307T100000Z", "20260307T180000Z", "Weekend cover",
               "RRULE:FREQ=WEEKLY;COUNT=2", "ATTENDEE:mailto:bob@example.com")
        + vevent("tue@team", "20260311T190000Z", "20260311T230000Z", "Cy")
    ).encode()  # fmt: skip
    clock.now = START + timedelta(minutes=61)
    assert refresh_due(database, clock.now, fetch=FETCH) == 1
    second = api.get(link, headers=admin_headers()).json()["report"]
    assert second["overrides_created"] == 1 and second["overrides_cancelled"] == 3
    assert second["unmatched"] == []
    assert _who(api, sid, "2026-03-14T12:00:00Z") == [people["Bob"]]
    assert _who(api, sid, "2026-03-21T12:00:00Z") == [people["Ada"]]
    assert _who(api, sid, "2026-03-10T20:00:00Z") == [people["Ada"]]
    assert _who(api, sid, "2026-03-11T20:00:00Z") == [people["Cy"]]
    # A broken source changes nothing and says why; the engine's job retries it later.
    served.status = 500
    clock.now += timedelta(minutes=61)
    engine = build_engine(database, api.app.state.settings, clock=clock)  # type: ignore[attr-defined]
    engine.run_periodic()
    broken = api.get(link, headers=admin_headers()).json()
    assert broken["status"] == "error" and "500" in broken["last_error"]
    assert broken["report"] == api.get(link, headers=admin_headers()).json()["report"]
    assert _who(api, sid, "2026-03-14T12:00:00Z") == [people["Bob"]]
    served.status = 200
    assert api.post(f"{link}/refresh", headers=admin_headers()).status_code == 202
    assert refresh_due(database, clock.now, fetch=FETCH) == 1
    assert api.get(link, headers=admin_headers()).json()["status"] == "ok"


def test_running_events_start_now_and_deleting_cancels_future_overrides(
    api: TestClient, people: dict[str, str], schedule: dict[str, Any], clock: Clock
) -> None:
    sid = schedule["id"]
    running = CAL.format(
        vevent("now@team", "20260301T080000Z", "20260301T200000Z", "bob@example.com on call")
        + vevent("later@team", "20260305T080000Z", "20260305T200000Z", "Bob")
    )
    made = api.post(f"/api/v1/schedules/{sid}/imports", json={"ics": running},
                    headers=admin_headers()).json()  # fmt: skip
    assert made["report"]["overrides_created"] == 2
    spans = timeline_shifts(api, sid, START - timedelta(hours=6), START + timedelta(days=5))
    bob = [s for s in spans if s.user_id == people["Bob"]]
    assert bob[0].start == START  # the past (08:00-12:00) is not rewritten
    clock.now = START + timedelta(hours=2)
    gone = api.delete(f"/api/v1/schedules/{sid}/imports/{made['id']}", headers=admin_headers())
    assert gone.status_code == 204
    spans = timeline_shifts(api, sid, START - timedelta(hours=6), START + timedelta(days=5))
    bob = [s for s in spans if s.user_id == people["Bob"]]
    assert [(s.start, s.end) for s in bob] == [(START, clock.now)]  # cut short; later removed
    assert (
        api.get(f"/api/v1/schedules/{sid}/imports", headers=admin_headers()).json()["items"] == []
    )


def test_uploads_are_refreshed_and_hand_cancelled_overrides_stay_cancelled(
    api: TestClient,
    database: Database,
    people: dict[str, str],
    schedule: dict[str, Any],
    clock: Clock,
) -> None:
    sid = schedule["id"]
    weekly = CAL.format(
        vevent("w@team", "20260302T100000Z", "20260302T120000Z", "Bob", "RRULE:FREQ=WEEKLY")
    )
    made = api.post(f"/api/v1/schedules/{sid}/imports",
                    json={"ics": weekly, "horizon_days": 20, "refresh_minutes": 1440},
                    headers=admin_headers()).json()  # fmt: skip
    assert made["report"]["overrides_created"] == 3  # 03-02, 03-09 and 03-16
    listed = api.get(f"/api/v1/schedules/{sid}/overrides", headers=admin_headers()).json()
    second = next(o for o in listed["items"] if o["start"].startswith("2026-03-09"))
    cancelled = api.delete(f"/api/v1/schedules/{sid}/overrides/{second['id']}",
                           headers=admin_headers())  # fmt: skip
    assert cancelled.status_code == 204
    clock.now = START + timedelta(days=1)  # the upload is re-read once a day
    assert refresh_due(database, clock.now, fetch=FETCH) == 1
    report = api.get(f"/api/v1/schedules/{sid}/imports/{made['id']}",
                     headers=admin_headers()).json()["report"]  # fmt: skip
    assert report["events"] == 2 and report["overrides_created"] == 0  # 03-09, 03-16
    assert report["overrides_cancelled"] == 0
    assert _who(api, sid, "2026-03-02T11:00:00Z") == [people["Bob"]]  # history
    assert _who(api, sid, "2026-03-09T11:00:00Z") == [people["Ada"]]  # stays cancelled
    assert _who(api, sid, "2026-03-16T11:00:00Z") == [people["Bob"]]
