"""Outbound HTTP to URLs that users give us (calendar imports, outgoing webhooks): no SSRF.

A URL a user types must not reach what only this server can reach: loopback, private and
link-local networks (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved and
unique-local addresses, v4 and v6. So, unless ``WATCHBILL_ALLOW_PRIVATE_URLS`` is true (tests,
closed networks):

* :func:`check_url` refuses at once a URL whose host is, or resolves to, such an address (a
  form can say so when the URL is saved);
* :func:`get` resolves the host *at connect time* and connects to the very address it checked
  (a DNS answer that changes between the check and the connection, "DNS rebinding", gains
  nothing), for the first request and for every redirect (each hop connects anew); proxies
  from the environment are ignored (a proxy would resolve names itself);
* answers are capped in size and time (per operation and in total), and errors say what
  failed (the status, the size, a refused address) without echoing what the server sent.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = [
    "Answer",
    "FetchFailed",
    "OutboundRefused",
    "check_url",
    "get",
    "post",
    "refusal",
]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TOTAL_SECONDS = 30.0
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Why an address may not be reached (None: it may); :func:`refusal` unless told otherwise.
Policy = Callable[[IPAddress], str | None]

#: Named ranges, so a refusal says what the address is (anything else not global is refused
#: as "not a public address").
_NAMED: tuple[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network], ...] = tuple(
    (name, ipaddress.ip_network(net))
    for name, net in (
        ("an unspecified address", "0.0.0.0/8"),
        ("a loopback address", "127.0.0.0/8"),
        ("a private address", "10.0.0.0/8"),
        ("a private address", "172.16.0.0/12"),
        ("a private address", "192.168.0.0/16"),
        ("a shared (CGNAT) address", "100.64.0.0/10"),
        ("a link-local address", "169.254.0.0/16"),
        ("a reserved address", "192.0.0.0/24"),
        ("a reserved address", "198.18.0.0/15"),
        ("a multicast address", "224.0.0.0/4"),
        ("a reserved address", "240.0.0.0/4"),
        ("an unspecified address", "::/128"),
        ("a loopback address", "::1/128"),
        ("a unique-local address", "fc00::/7"),
        ("a link-local address", "fe80::/10"),
        ("a multicast address", "ff00::/8"),
    )
)


class OutboundRefused(ValueError):
    """This URL may not be fetched; the message says why (safe to show)."""


class FetchFailed(Exception):
    """The fetch failed; the message says what failed (never what the server sent)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached from a user's URL, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(embedded)
            return None if inner is None else f"{inner} (inside {address})"
    for name, network in _NAMED:
        if address.version == network.version and address in network:
            return name
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved or address.is_unspecified:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve host {host!r}: {exc}") from exc
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise FetchFailed(f"host {host!r} has no address")
    return found


def _checked(host: str, port: int, policy: Policy | None) -> list[IPAddress]:
    """The host's addresses; refused if the policy refuses any of them (None: allow all)."""
    addresses = _addresses(host, port)
    if policy is not None:
        for address in addresses:
            why = policy(address)
            if why is not None:
                shown = host if str(address) == host else f"{host} ({address})"
                raise OutboundRefused(
                    f"{shown} is {why}; only public addresses may be fetched "
                    "(WATCHBILL_ALLOW_PRIVATE_URLS=true allows private ones)"
                )
    return addresses


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused(f"unsupported scheme {parts.scheme!r}: use http or https")
    if not parts.hostname:
        raise OutboundRefused("the URL has no host")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _policy(allow_private: bool, refuse: Policy) -> Policy | None:
    return None if allow_private else refuse


def check_url(url: str, *, allow_private: bool, refuse: Policy = refusal) -> None:
    """Refuse (:class:`OutboundRefused`) a URL that :func:`get` would refuse to connect to;
    :class:`FetchFailed` when its host does not resolve."""
    _, host, port = _split(url)
    _checked(host, port, _policy(allow_private, refuse))


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host for every connection, then connects to that address."""

    def __init__(self, policy: Policy | None) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in _checked(host, port, self._policy):
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("unix sockets may not be fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose every connection is guarded."""

    def __init__(self, policy: Policy | None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=1,
            network_backend=_GuardedBackend(policy),
        )


def get(
    url: str,
    *,
    allow_private: bool,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout = TIMEOUT,
    total_seconds: float = TOTAL_SECONDS,
    refuse: Policy = refusal,
) -> Answer:
    """GET ``url`` (following up to :data:`MAX_REDIRECTS` redirects, each hop checked).

    Raises :class:`OutboundRefused` for an address ``refuse`` refuses (unless
    ``allow_private``), :class:`FetchFailed` when the body is over ``max_bytes``, the whole
    exchange takes over ``total_seconds``, or the connection fails. Any status is returned
    (the caller decides what it accepts).
    """
    _split(url)
    deadline = time.monotonic() + total_seconds

    def in_time(request: httpx.Request) -> None:  # before the first request and each redirect
        if time.monotonic() > deadline:
            raise FetchFailed(f"GET {url}: took over {total_seconds:g} seconds")

    try:
        with (
            httpx.Client(
                transport=_GuardedTransport(_policy(allow_private, refuse)),
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                trust_env=False,
                event_hooks={"request": [in_time]},
            ) as client,
            client.stream("GET", url, headers=headers) as answer,
        ):
            return _read(answer, f"GET {url}", max_bytes, in_time=lambda: in_time(answer.request))
    except httpx.TooManyRedirects as exc:
        raise FetchFailed(f"GET {url}: more than {MAX_REDIRECTS} redirects") from exc
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"GET {url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"GET {url} failed: {exc}") from exc


def _read(
    answer: httpx.Response,
    what: str,
    max_bytes: int,
    in_time: Callable[[], None] = lambda: None,
) -> Answer:
    """The answer's body, read up to ``max_bytes`` (``in_time`` raises once time is up)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchFailed(f"{what}: the answer is over {max_bytes} bytes")
        in_time()
        chunks.append(chunk)
    content_type = answer.headers.get("content-type", "").split(";")[0].strip()
    return Answer(answer.status_code, content_type, b"".join(chunks))


def post(
    url: str,
    body: bytes,
    *,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    max_bytes: int = 64 * 1024,
    timeout: httpx.Timeout = TIMEOUT,
    refuse: Policy = refusal,
) -> Answer:
    """POST ``body`` to ``url`` through the same guard as :func:`get` (outgoing webhooks).

    Redirects are not followed (a 3xx is returned as it is). Raises :class:`OutboundRefused`
    for an address ``refuse`` refuses (unless ``allow_private``), :class:`FetchFailed` when the
    connection fails or times out, or the answer is over ``max_bytes`` (it is read only to
    free the connection).
    """
    _split(url)
    try:
        with (
            httpx.Client(
                transport=_GuardedTransport(_policy(allow_private, refuse)),
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream("POST", url, content=body, headers=headers) as answer,
        ):
            return _read(answer, f"POST {url}", max_bytes)
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"POST {url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"POST {url} failed: {exc}") from exc
