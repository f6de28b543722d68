"""Benchmark calendar feeds served by the API: ``python -m bench.bench_calendars_feed``.

A busy schedule (8-hour shifts of five people, a weekend-days layer, 24 overrides) on a fresh
SQLite database; its one-year feed (``past_days=0&future_days=366``, ~1,150 events) is fetched
end to end through the app: in process with Starlette's TestClient, and over loopback HTTP
from uvicorn. Targets: a feed built and rendered ≤ 100 ms; a 304 ≤ 5 ms.

* "build + render": the validator row is removed and the body cache emptied before each
  request, so the whole path runs (load, timeline, UID/SEQUENCE rows, render, ETag);
* "304": ``If-None-Match`` with the current ETag (inputs read and hashed; nothing built);
* "200 unchanged": no validator; the body comes from the in-process cache (information).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete

from api.app import create_app
from calendars.models import FeedRender
from calendars.service import body_cache_clear
from store import migrate
from store.db import Database
from store.settings import Settings

RENDER_TARGET_MS = 100.0
NOT_MODIFIED_TARGET_MS = 5.0
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ADMIN = "bench-admin-token"
QUERY = "?past_days=0&future_days=366"


def measure(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and p95 wall time in milliseconds (after three warm-up calls)."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * len(samples)))]


def report(label: str, figures: tuple[float, float], target: float | None) -> bool:
    median, p95 = figures
    ok = target is None or median <= target
    goal = (
        ""
        if target is None
        else f"(target median <= {target:.0f} ms) " + ("OK" if ok else "OVER TARGET")
    )
    print(f"{label:<44} median {median:7.2f} ms   p95 {p95:7.2f} ms  {goal}")
    return ok


def busy_schedule(client: TestClient) -> str:
    """Create the schedule; return its feed path."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    ids = []
    for n in range(7):
        user = {"name": f"Person {n}", "email": f"p{n}@example.org", "time_zone": "UTC"}
        ids.append(client.post("/api/v1/users", json=user, headers=headers).json()["id"])
    anchor = "2025-01-01T08:00:00-05:00"
    layers = [
        {"name": "Follow the sun", "start": anchor, "users": ids[:5],
         "rotation": {"handoff": anchor, "shift_length": 8, "shift_unit": "hours"}},
        {"name": "Weekend days", "start": anchor, "users": ids[5:7],
         "rotation": {"handoff": anchor, "shift_length": 1, "shift_unit": "weeks"},
         "restrictions": [{"days": ["sat", "sun"], "start": "08:00", "end": "16:00"}]},
    ]  # fmt: skip
    body = {"name": "Platform primary", "time_zone": "America/New_York", "layers": layers}
    schedule = client.post("/api/v1/schedules", json=body, headers=headers).json()
    for k in range(24):
        start = NOW + timedelta(days=15 * k, hours=3)
        override = {"user_id": ids[k % 7], "start": start.isoformat(),
                    "end": (start + timedelta(hours=2)).isoformat()}  # fmt: skip
        answer = client.post(
            f"/api/v1/schedules/{schedule['id']}/overrides", json=override, headers=headers
        )
        assert answer.status_code == 201, answer.text
    return "/calendars/schedules/" + str(schedule["ical_url"]).rsplit("/", 1)[1] + QUERY


def forget(database: Database) -> None:
    with database.transaction() as session:
        session.execute(delete(FeedRender))
    body_cache_clear()


def run(label: str, get: Callable[..., Any], database: Database, path: str) -> bool:
    print(f"-- {label}")
    forget(database)
    etag = get(path).headers["etag"]

    def build() -> None:
        forget(database)
        assert get(path).status_code == 200

    def not_modified() -> None:
        assert get(path, headers={"If-None-Match": etag}).status_code == 304

    ok = report("one-year feed: build + render (200)", measure(build, 30), RENDER_TARGET_MS)
    ok &= report("one-year feed: If-None-Match (304)", measure(not_modified, 300),
                 NOT_MODIFIED_TARGET_MS)  # fmt: skip
    report("one-year feed: unchanged, cached body (200)", measure(lambda: get(path), 100), None)
    report("baseline: GET /healthz (transport + app)", measure(lambda: get("/healthz"), 300), None)
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(database.engine)
        settings = Settings(
            _env_file=None,
            database_url=database.url,
            admin_token=SecretStr(ADMIN),
            public_url="http://127.0.0.1",
        )
        app = create_app(settings, database, clock=lambda: NOW)
        with TestClient(app) as client:
            path = busy_schedule(client)
            begin = time.perf_counter()
            first = client.get(path)
            took = (time.perf_counter() - begin) * 1000
            events = first.text.count("BEGIN:VEVENT")
            print(f"one-year feed: {events} events, {len(first.content) / 1024:.0f} KiB; "
                  f"first build ever (stores {events} UID rows): {took:.0f} ms")  # fmt: skip
            assert events >= 1000
            ok = run("in process (TestClient)", client.get, database, path)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            ok &= run("loopback HTTP (uvicorn, keep-alive)", http.get, database, path)
        server.should_exit = True
        thread.join()
        database.dispose()
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
