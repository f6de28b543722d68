"""Outbound fetches: private networks refused, every redirect and connection checked, the
checked address is the one connected to, size and time capped, bodies never echoed.

Only loopback servers are used. Two loopback addresses (127.0.0.1 and 127.0.0.2, both on
``lo`` on Linux) stand for "public" and "private" where a test needs a fetch that is allowed
and one that is not: a policy refusing 127.0.0.2 alone plays :func:`store.outbound.refusal`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from store import outbound
from store.outbound import FetchFailed, OutboundRefused, check_url, get, refusal

PRIVATE = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.255", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "0.0.0.0", "0.1.2.3", "192.0.0.8", "198.18.0.1",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::", "64:ff9b::a00:1",
    "2001:db8::1",
]  # fmt: skip
PUBLIC = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_refusals_say_what_the_address_is() -> None:
    def why(text: str) -> str | None:
        return refusal(ipaddress.ip_address(text))

    assert why("127.0.0.1") == "a loopback address"
    assert why("169.254.169.254") == "a link-local address"
    assert why("100.64.0.1") == "a shared (CGNAT) address"
    assert why("fd00::1") == "a unique-local address"
    assert why("::ffff:10.0.0.1") == "a private address (inside ::ffff:a00:1)"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/team.ics",
        "http://localhost/team.ics",
        "http://[::1]:8080/",
        "https://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://0.0.0.0:80/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_check_url_refuses_private_hosts(url: str) -> None:
    with pytest.raises(OutboundRefused, match="only public addresses"):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///x", "x"])
def test_check_url_refuses_what_is_not_http(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_url(url, allow_private=False)


def test_the_setting_allows_private_hosts() -> None:
    check_url("http://127.0.0.1:8080/team.ics", allow_private=True)


class Server:
    """A loopback HTTP server on ``host``; ``route`` maps a path to (status, headers, body)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        self.trickle = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits.append(self.path)
                status, headers, body = owner.routes.get(self.path, (404, {}, b"no"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(0, len(body), 1024):
                    self.wfile.write(body[i : i + 1024])
                    self.wfile.flush()
                    time.sleep(owner.trickle)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def one() -> Iterator[Server]:
    server = Server("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def two() -> Iterator[Server]:
    server = Server("127.0.0.2")
    yield server
    server.close()


def only_127_0_0_2(address: outbound.IPAddress) -> str | None:
    """A policy for these tests: 127.0.0.1 plays a public address, 127.0.0.2 a private one."""
    return "a private address" if str(address) == "127.0.0.2" else None


def test_a_loopback_server_is_not_contacted_without_the_setting(one: Server) -> None:
    one.routes["/team.ics"] = (200, {}, b"BEGIN:VCALENDAR")
    with pytest.raises(OutboundRefused, match="loopback"):
        get(f"{one.base}/team.ics", allow_private=False, max_bytes=1000)
    assert one.hits == []
    answer = get(f"{one.base}/team.ics", allow_private=True, max_bytes=1000)
    assert (answer.status, answer.body) == (200, b"BEGIN:VCALENDAR")


def test_every_redirect_is_checked(one: Server, two: Server) -> None:
    one.routes["/start"] = (302, {"Location": f"{two.base}/metadata"}, b"")
    two.routes["/metadata"] = (200, {}, b"secret")
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2 is a private address"):
        get(f"{one.base}/start", allow_private=False, max_bytes=1000, refuse=only_127_0_0_2)
    assert one.hits == ["/start"] and two.hits == []


def test_the_checked_address_is_the_one_connected_to(
    one: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers an allowed address, then a refused one. The fetch
    connects to the address it checked and never asks again for that connection."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    asked: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "calendar.rebind.test":
            return real(host, port, *args, **kwargs)
        address = next(answers)
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    one.routes["/team.ics"] = (200, {}, b"BEGIN:VCALENDAR one")
    url = f"http://calendar.rebind.test:{one.port}/team.ics"
    answer = get(url, allow_private=False, max_bytes=1000, refuse=only_127_0_0_2)
    assert answer.body == b"BEGIN:VCALENDAR one" and asked == ["127.0.0.1"]
    with pytest.raises(OutboundRefused, match="private"):  # the next lookup is checked too
        get(url, allow_private=False, max_bytes=1000, refuse=only_127_0_0_2)
    assert one.hits == ["/team.ics"]


def test_size_is_capped(one: Server) -> None:
    one.routes["/big"] = (200, {}, b"x" * 50_000)
    with pytest.raises(FetchFailed, match="over 10000 bytes"):
        get(f"{one.base}/big", allow_private=True, max_bytes=10_000)


def test_time_is_capped_in_total(one: Server) -> None:
    """A server that trickles its answer (each read within the timeout) is cut off."""
    one.routes["/slow"] = (200, {}, b"x" * 8 * 1024)
    one.trickle = 0.3
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="took over 1 seconds"):
        get(f"{one.base}/slow", allow_private=True, max_bytes=100_000, total_seconds=1.0)
    assert time.monotonic() - started < 2.5


def test_too_many_redirects(one: Server) -> None:
    one.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(FetchFailed, match="redirects"):
        get(f"{one.base}/loop", allow_private=True, max_bytes=1000)


def test_connection_errors_say_what_failed_and_not_more(one: Server) -> None:
    port = one.port
    one.close()
    with pytest.raises(FetchFailed, match="failed"):
        get(f"http://127.0.0.1:{port}/x", allow_private=True, max_bytes=1000)
