"""A real calendar client: vdirsyncer syncs a feed served by a running ``watchbill serve``.

vdirsyncer's ``http`` storage stores one ``.ics`` file per event. It replaces every UID with a
hash of the event's content (it does not trust UIDs of read-only feeds), so the files are
matched to the feed by their times; a file changes exactly when its event's content does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.calendars.support import Event, expected, parse_feed, window
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.slow

VDIRSYNCER = shutil.which("vdirsyncer")
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env.update(
        WATCHBILL_DATABASE_URL=database_url,
        WATCHBILL_ADMIN_TOKEN=ADMIN_TOKEN,
        WATCHBILL_PUBLIC_URL=base,
    )
    process = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--no-engine",
         "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    pytest.fail(f"watchbill serve did not come up: {process.communicate()[1]}")
                time.sleep(0.1)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


class Vdir:
    def __init__(self, root: Path, url: str) -> None:
        self.store = root / "calendar"
        self.store.mkdir(parents=True)
        self.config = root / "vdirsyncer.conf"
        self.config.write_text(
            "[general]\n"
            f'status_path = "{root / "status"}/"\n\n'
            "[pair oncall]\n"
            'a = "feed"\nb = "local"\ncollections = null\nconflict_resolution = "a wins"\n\n'
            f'[storage feed]\ntype = "http"\nurl = "{url}"\n\n'
            f'[storage local]\ntype = "filesystem"\npath = "{self.store}/"\nfileext = ".ics"\n'
        )

    def run(self, *args: str) -> str:
        assert VDIRSYNCER is not None
        done = subprocess.run(
            [VDIRSYNCER, "-c", str(self.config), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.store.glob("*.ics"))}

    def events(self) -> dict[tuple[datetime, datetime], Event]:
        out: dict[tuple[datetime, datetime], Event] = {}
        for body in self.files().values():
            _, events = parse_feed(body)
            assert len(events) == 1  # one event per file
            out[(events[0].start, events[0].end)] = events[0]
        return out


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.mark.skipif(VDIRSYNCER is None, reason="vdirsyncer is not installed (see .ci/apt-packages)")
def test_vdirsyncer_stores_the_feed_and_follows_an_edit(
    server: httpx.Client, tmp_path: Path
) -> None:
    ids = [
        _post(server, "/api/v1/users", {"name": n, "email": f"{n}@example.com",
                                        "time_zone": "UTC"})["id"]
        for n in ("ada", "bob", "cy")
    ]  # fmt: skip
    anchor = "2026-01-01T09:00:00-05:00"
    schedule = _post(
        server,
        "/api/v1/schedules",
        {
            "name": "Primary",
            "time_zone": "America/New_York",
            "layers": [
                {"name": "Daily", "start": anchor, "users": ids,
                 "rotation": {"handoff": anchor, "shift_length": 1, "shift_unit": "days"}},
                {"name": "Nights", "start": anchor, "users": [ids[2]],
                 "rotation": {"handoff": anchor, "shift_length": 1, "shift_unit": "weeks"},
                 "restrictions": [{"days": ["sat"], "start": "22:00", "end": "06:00"}]},
            ],
        },
    )  # fmt: skip
    assert schedule["ical_url"].startswith(str(server.base_url))
    vdir = Vdir(tmp_path / "client", schedule["ical_url"])
    vdir.run("discover")
    vdir.run("sync")

    now = datetime.now(UTC)
    _, feed = parse_feed(server.get(schedule["ical_url"]).content)
    stored = vdir.events()
    assert len(stored) == len(feed) == len({e.uid for e in feed}) > 150
    since, until = window(now)
    want = expected(server, schedule["id"], since, until)
    assert sorted(stored) == [(s.start, s.end) for s in want]
    names = dict(zip(ids, ("ada", "bob", "cy"), strict=True))
    for span in want:
        event = stored[(span.start, span.end)]
        assert event.summary == f"On call: {names[span.user_id]} — Primary"
        assert event.sequence == 0

    before = vdir.files()
    assert "Copying" not in vdir.run("sync")  # nothing changed: nothing to do
    assert vdir.files() == before

    # Hand the last three hours of the shift starting in ten days to the next person.
    shift = next(s for s in want if s.start > now + timedelta(days=10))
    after_it = want[want.index(shift) + 1]
    _post(server, f"/api/v1/schedules/{schedule['id']}/overrides",
          {"user_id": after_it.user_id, "start": (shift.end - timedelta(hours=3)).isoformat(),
           "end": shift.end.isoformat()})  # fmt: skip
    vdir.run("sync")
    updated = vdir.events()
    _, feed = parse_feed(server.get(schedule["ical_url"]).content)
    assert sorted(updated) == sorted((e.start, e.end) for e in feed)
    moved = {(shift.start, shift.end - timedelta(hours=3)),
             (shift.end - timedelta(hours=3), after_it.end)}  # fmt: skip
    assert set(updated) - set(stored) == moved
    assert all(updated[key].sequence == 1 for key in moved)
    unchanged = set(before.values()) & set(vdir.files().values())
    assert len(unchanged) == len(before) - 2  # every other file is untouched
