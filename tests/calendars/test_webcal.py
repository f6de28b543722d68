"""``webcal://`` imports are fetched as subscription clients fetch them: https first, plain
http where the server has no TLS (so Watchbill can import its own ``webcal_url`` from a
plain-http deployment), never http when the server has TLS with a bad certificate."""

from __future__ import annotations

import itertools
import ssl
import threading
from collections.abc import Iterator, Mapping

import httpx
import pytest
import uvicorn

from api.app import create_app
from calendars import webcal
from calendars.refresh import calendar_fetcher, refresh_due
from store.db import Database
from store.settings import Settings
from tests.calendars.support import Clock, daily_layer
from tests.conftest import admin_headers
from tests.fakes.tls_relay import TlsRelay
from tests.waiting import wait_until


def test_webcal_means_https_then_http() -> None:
    assert webcal.subscription_urls("webcal://example.com/a.ics") == [
        "https://example.com/a.ics",
        "http://example.com/a.ics",
    ]
    assert webcal.subscription_urls("WEBCAL://example.com:8080/a.ics?x=1") == [
        "https://example.com:8080/a.ics?x=1",
        "http://example.com:8080/a.ics?x=1",
    ]
    assert webcal.subscription_urls("webcals://example.com/a") == ["https://example.com/a"]
    assert webcal.subscription_urls("http://example.com/a") == ["http://example.com/a"]
    with pytest.raises(webcal.UnsupportedUrl, match="use http, https or webcal"):
        webcal.subscription_urls("ftp://example.com/a.ics")


def _chained(*errors: BaseException) -> BaseException:
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


def test_only_a_server_without_tls_is_tried_over_http() -> None:
    plain = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    plain.reason = "WRONG_VERSION_NUMBER"
    assert webcal.speaks_no_tls(_chained(httpx.ConnectError("x"), plain))
    assert webcal.speaks_no_tls(_chained(httpx.ConnectError("x"), ConnectionRefusedError()))
    bad_certificate = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert not webcal.speaks_no_tls(_chained(httpx.ConnectError("x"), bad_certificate))
    assert not webcal.speaks_no_tls(httpx.ConnectError("name or service not known"))


LOOPBACK = calendar_fetcher(allow_private=True)


class Live:
    """Watchbill on a plain-http loopback port, its public URL set to it."""

    def __init__(self, settings: Settings, database: Database, clock: Clock) -> None:
        server = uvicorn.Server(uvicorn.Config("", host="127.0.0.1", port=0))
        sock = server.config.bind_socket()
        self.port = int(sock.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        # Everything here is on loopback, which outbound fetches refuse unless allowed.
        live = settings.model_copy(update={"public_url": self.base, "allow_private_urls": True})
        app = create_app(live, database, clock=clock)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=10)
        self.http = httpx.Client(base_url=self.base, headers=admin_headers(), timeout=10)

    def post(self, path: str, body: Mapping[str, object]) -> dict[str, object]:
        answer = self.http.post(f"/api/v1{path}", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def live(settings: Settings, database: Database, clock: Clock) -> Iterator[Live]:
    running = Live(settings, database, clock)
    yield running
    running.close()


def _people(live: Live) -> dict[str, str]:
    made = {}
    for name in ("Ada", "Bob", "Cy"):
        body = {"name": name, "email": f"{name.lower()}@example.com", "time_zone": "UTC"}
        made[name] = str(live.post("/users", body)["id"])
    return made


def _schedule(live: Live, name: str, users: list[str]) -> dict[str, object]:
    body = {"name": name, "time_zone": "America/New_York", "layers": [daily_layer(name, users)]}
    return live.post("/schedules", body)


def test_watchbill_imports_its_own_webcal_url_over_plain_http(
    live: Live, database: Database, clock: Clock
) -> None:
    people = _people(live)
    source = _schedule(live, "Primary", [people["Ada"], people["Bob"]])
    target = _schedule(live, "Shadow", [people["Cy"]])
    assert str(source["webcal_url"]).startswith(f"webcal://127.0.0.1:{live.port}/")
    made = live.post(
        f"/schedules/{target['id']}/imports",
        {"name": "Primary's feed", "url": source["webcal_url"], "refresh_minutes": 60},
    )
    assert refresh_due(database, clock.now, fetch=LOOPBACK) == 1
    imported = live.http.get(f"/api/v1/schedules/{target['id']}/imports/{made['id']}").json()
    assert imported["status"] == "ok", imported["last_error"]
    assert imported["report"]["matched"] > 0
    assert imported["report"]["unmatched"] == []
    at = clock.now.isoformat()
    first = live.http.get(f"/api/v1/schedules/{source['id']}/oncall", params={"at": at}).json()
    shadow = live.http.get(f"/api/v1/schedules/{target['id']}/oncall", params={"at": at}).json()
    assert shadow["users"] == first["users"]  # the import's overrides follow the source


def test_a_tls_server_with_an_untrusted_certificate_is_not_tried_over_http(
    live: Live, database: Database, clock: Clock
) -> None:
    people = _people(live)
    source = _schedule(live, "Primary", [people["Ada"], people["Bob"]])
    target = _schedule(live, "Shadow", [people["Cy"]])
    with TlsRelay(live.port) as relay:  # a CA of the test's own: not trusted by the fetcher
        path = str(source["webcal_url"]).split(f":{live.port}", 1)[1]
        made = live.post(
            f"/schedules/{target['id']}/imports",
            {"name": "Feed", "url": f"webcal://localhost:{relay.port}{path}"},
        )
        assert refresh_due(database, clock.now, fetch=LOOPBACK) == 1
    imported = live.http.get(f"/api/v1/schedules/{target['id']}/imports/{made['id']}").json()
    assert imported["status"] == "error"
    assert "CERTIFICATE_VERIFY_FAILED" in imported["last_error"]
