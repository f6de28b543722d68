"""Calendar imports and SSRF: a URL on a private network is 422 unless the setting allows it;
the engine refuses it too; errors say what failed and never echo what a server sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.engine import build_engine
from calendars.refresh import calendar_fetcher, refresh_due
from store.db import Database
from store.settings import Settings
from tests.calendars.support import Clock, feed_client, make_schedule
from tests.conftest import admin_headers

SECRET = b"internal-only: db password hunter2"
client_of = contextmanager(feed_client)


class Internal:
    """A loopback server playing an internal service (or a cloud metadata endpoint)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits.append(self.path)
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(SECRET)))
                self.end_headers()
                self.wfile.write(SECRET)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/latest/meta-data"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def internal() -> Iterator[Internal]:
    server = Internal()
    yield server
    server.close()


@pytest.fixture
def api(settings: Settings, database: Database) -> Iterator[TestClient]:
    assert settings.allow_private_urls is False  # the default
    yield from feed_client(settings, database, Clock())


@pytest.fixture
def imports_path(api: TestClient) -> str:
    return f"/api/v1/schedules/{make_schedule(api, 'Support', [])['id']}/imports"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/latest/meta-data",
        "http://localhost:{port}/team.ics",
        "webcal://127.0.0.1:{port}/team.ics",
        "http://[::1]:{port}/team.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/team.ics",
        "http://[fd00::1]/team.ics",
        "http://100.64.0.1/team.ics",
    ],
)
def test_an_import_from_a_private_address_is_422_and_nothing_is_fetched(
    api: TestClient, imports_path: str, internal: Internal, url: str
) -> None:
    port = internal.server.server_address[1]
    answer = api.post(imports_path, json={"url": url.format(port=port)}, headers=admin_headers())
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"
    assert "only public addresses may be fetched" in answer.json()["detail"]
    assert api.get(imports_path, headers=admin_headers()).json()["items"] == []
    assert internal.hits == []


def test_the_setting_allows_private_addresses(
    settings: Settings, database: Database, internal: Internal
) -> None:
    private_ok = settings.model_copy(update={"allow_private_urls": True})
    with client_of(private_ok, database, Clock()) as api:
        path = f"/api/v1/schedules/{make_schedule(api, 'Support', [])['id']}/imports"
        made = api.post(path, json={"url": internal.url}, headers=admin_headers())
    assert made.status_code == 201, made.text


def _saved_with_the_setting(settings: Settings, database: Database, url: str) -> str:
    """An import of ``url`` saved while private addresses were allowed; its API path."""
    private_ok = settings.model_copy(update={"allow_private_urls": True})
    with client_of(private_ok, database, Clock()) as api:
        path = f"/api/v1/schedules/{make_schedule(api, 'Support', [])['id']}/imports"
        made = api.post(path, json={"url": url}, headers=admin_headers())
    assert made.status_code == 201, made.text
    return f"{path}/{made.json()['id']}"


def test_the_engine_refuses_a_private_address_saved_earlier(
    api: TestClient, settings: Settings, database: Database, internal: Internal
) -> None:
    """Settings change, and DNS answers change: the engine checks again at every fetch."""
    link = _saved_with_the_setting(settings, database, internal.url)
    engine = build_engine(database, settings, clock=Clock())  # WATCHBILL_ALLOW_PRIVATE_URLS unset
    engine.run_periodic()
    stored = api.get(link, headers=admin_headers()).json()
    assert stored["status"] == "error"
    assert "refused" in stored["last_error"] and "loopback" in stored["last_error"]
    assert internal.hits == []


@pytest.mark.parametrize("status", [200, 500])
def test_errors_say_what_failed_and_never_echo_the_answer(
    api: TestClient, settings: Settings, database: Database, internal: Internal, status: int
) -> None:
    internal.status = status
    link = _saved_with_the_setting(settings, database, internal.url)
    assert refresh_due(database, Clock().now, fetch=calendar_fetcher(allow_private=True)) == 1
    error = api.get(link, headers=admin_headers()).json()["last_error"]
    assert internal.hits == ["/latest/meta-data"]
    expected = "answered 500" if status == 500 else "not a calendar"
    assert expected in error
    for fragment in (b"internal-only", b"hunter2", b"password"):
        assert fragment.decode() not in error
