"""The webhook channel type: contact methods of kind ``webhook`` whose address is a URL.

The URL must be https with a public host; ``WATCHBILL_ALLOW_PRIVATE_URLS=true`` also allows
http and private or loopback hosts (tests, closed networks). Host names are resolved when a
page is sent, by the outbound guard (``store.outbound``), which refuses private addresses then
too. Pages go one by one (a receiver is a program: no storm bundling), each carrying signed
acknowledge / resolve callback URLs (``paging.links``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from paging import links
from paging.outbox import outgoing
from paging.outbox.channel import Channel
from paging.outbox.channel_type import ChannelType
from paging.providers.webhook import payload
from paging.providers.webhook.channel import WEBHOOK, WebhookChannel
from people.validation import control_character
from store import outbound
from store.db import Database
from store.settings import Settings

MAX_URL = 320  # the contact method's address column


def normalise(settings: Settings, kind: str, address: str) -> str:
    """The URL as given, once it is one we may POST to."""
    url = address.strip()
    if len(url) > MAX_URL or control_character(url) is not None or " " in url:
        raise ValueError(f"a webhook URL has at most {MAX_URL} characters and no spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    private_ok = settings.allow_private_urls
    schemes = ("https", "http") if private_ok else ("https",)
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise ValueError(f"a webhook URL must be https://host/...; got {url!r}")
    if parts.username or parts.password:
        raise ValueError("a webhook URL may not carry a user name or password")
    host = parts.hostname
    if not private_ok:
        if host == "localhost" or host.endswith(".localhost"):
            raise ValueError(f"{host} is a loopback address; only public hosts may be paged")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        why = outbound.refusal(literal) if literal is not None else None
        if why is not None:
            raise ValueError(f"{host} is {why}; only public hosts may be paged")
    return url


def build(database: Database, settings: Settings) -> Mapping[str, Channel]:
    return {WEBHOOK: WebhookChannel(database, settings)}


def decorators(settings: Settings) -> Sequence[outgoing.Decorator]:
    return (links.decorator(settings, WEBHOOK),)


WEBHOOK_TYPE = ChannelType(
    name="webhook",
    kinds=(WEBHOOK,),
    normalise=normalise,
    configured=lambda settings: True,
    build=build,
    render=payload.render,
    decorators=decorators,
    verify_hint=". Enter it where you added this webhook.",
    inbound_routes=("/links/{token}",),
)
