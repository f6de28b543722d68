"""What ``serve`` and ``engine`` settle and say before they start.

* The public URL: ``WATCHBILL_PUBLIC_URL``, or else ``http://<--host>:<--port>`` of ``serve``
  (links in pages, calendar URLs and Twilio's webhooks all start with it).
* The listening socket, bound before anything else happens: a busy port fails at once.
* A report in the log: the public URL, the database (the absolute path of an SQLite file),
  which contact types go to a real provider and which fall back to the log channel, and
  warnings about settings that cannot work (Twilio cannot reach a loopback or plain-http URL).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from collections.abc import Collection
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import urlsplit

from api.cli.base import CliError
from paging.providers.registry import CHANNEL_TYPES
from people.models import ContactType
from store.db import Database, is_sqlite, sqlite_path
from store.settings import Settings

log = logging.getLogger("watchbill")

WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 -- names of the wildcard address, not a bind


def listen_url(host: str, port: int) -> str:
    """``http://host:port`` for a listening address (a wildcard becomes this machine's name)."""
    if host in WILDCARDS:
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def with_public_url(settings: Settings, host: str, port: int) -> Settings:
    """``settings`` whose public URL follows ``--host``/``--port`` unless it was set."""
    if settings.public_url_is_set:
        return settings
    return settings.model_copy(update={"public_url": listen_url(host, port)})


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``(host, port)`` for uvicorn (which listens on it), or a one-line
    :class:`CliError` when the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    try:
        infos = socket.getaddrinfo(
            host or None, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"cannot listen on {host}:{port}: the port is in use (another watchbill "
                "serve?); stop it or choose another --port"
            ) from None
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class Line:
    level: int
    text: str


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe_database(database: Database) -> str:
    if is_sqlite(database.engine):
        path = sqlite_path(database.engine.url)
        return f"SQLite file {path}" if path is not None else "SQLite in memory"
    url = database.engine.url
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    return f"PostgreSQL {url.username}@{where}" if url.username else f"PostgreSQL {where}"


def _providers(settings: Settings, live: Collection[str]) -> str:
    by = {
        "sms": f"Twilio from {settings.twilio_from}",
        "voice": f"Twilio from {settings.twilio_from}",
        "email": f"SMTP {settings.smtp_host}:{settings.smtp_port}",
        "webhook": "signed HTTPS POST",
    }
    return ", ".join(f"{kind} by {by.get(kind, kind)}" for kind in sorted(live))


def report(
    settings: Settings,
    database: Database,
    *,
    live_channels: Collection[str] | None,
    public_url_from_listen: bool,
    new_database: bool = False,
) -> list[Line]:
    """What to log at start-up (``live_channels`` None: no engine in this process)."""
    level, source = logging.INFO, "WATCHBILL_PUBLIC_URL"
    if public_url_from_listen:
        source = (
            "from --host/--port; set WATCHBILL_PUBLIC_URL when people and Twilio reach this "
            "service at another address"
        )
    elif not settings.public_url_is_set:
        level = logging.WARNING
        source = "the default: set WATCHBILL_PUBLIC_URL to the address of 'watchbill serve'"
    lines = [
        Line(logging.INFO, f"Watchbill {version('watchbill')}"),
        Line(level, f"public URL: {settings.public_url} ({source})"),
        Line(logging.INFO, f"database: {describe_database(database)}"),
    ]
    if new_database:
        lines.append(
            Line(
                logging.WARNING,
                "there was no database file: this is a new, empty one (set "
                "WATCHBILL_DATABASE_URL to use an existing one)",
            )
        )
    if live_channels is None:
        lines.append(Line(logging.INFO, "paging engine: not in this process"))
    else:
        kinds = [kind.value for kind in ContactType]
        live = [k for k in kinds if k in live_channels]
        # The kinds whose provider is not configured (a webhook needs no configuration).
        unconfigured = CHANNEL_TYPES.unconfigured(settings)
        logged = [k for k in kinds if k not in live_channels and k in unconfigured]
        if live:
            lines.append(Line(logging.INFO, f"pages: {_providers(settings, live)}"))
        if logged:
            lines.append(
                Line(
                    logging.INFO,
                    f"pages by {', '.join(logged)} go to the log channel (this log and each "
                    "incident's log): no provider is configured for them "
                    "(WATCHBILL_TWILIO_* for sms and voice, WATCHBILL_SMTP_* for email)",
                )
            )
    lines += twilio_warnings(settings)
    return lines


def twilio_warnings(settings: Settings) -> list[Line]:
    """Twilio configured with a public URL it cannot reach, or whose signatures fail."""
    if not settings.twilio_enabled:
        return []
    parts = urlsplit(settings.public_url)
    found = []
    if _loopback(parts.hostname or ""):
        found.append(
            Line(
                logging.WARNING,
                f"Twilio is configured but the public URL {settings.public_url} is a loopback "
                "address: Twilio cannot reach its webhooks (SMS replies, call menus, status "
                "callbacks); set WATCHBILL_PUBLIC_URL to the https address Twilio reaches",
            )
        )
    if parts.scheme != "https":
        found.append(
            Line(
                logging.WARNING,
                f"Twilio is configured but the public URL {settings.public_url} is plain http: "
                "use https (a reverse proxy with TLS in front, see docs/deploy.md); Twilio's "
                "signatures are checked against exactly this URL",
            )
        )
    return found


def log_report(lines: list[Line]) -> None:
    for line in lines:
        log.log(line.level, line.text)
