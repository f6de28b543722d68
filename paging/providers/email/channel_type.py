"""E-mail's channel type: pages by SMTP, with signed acknowledge / resolve links.

Storms are bundled into one mail; SMTP reports no delivery, so there is no status URL; the
links (``/links/{token}``, ``paging.links``) are its only way in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from paging import links
from paging.outbox import outgoing
from paging.outbox.channel import Channel, Outgoing
from paging.outbox.channel_type import ChannelType
from paging.providers.email import smtp
from people import validation
from store.db import Database
from store.settings import Settings

EMAIL = "email"
LOG_FROM = "Watchbill <watchbill@localhost>"


def normalise(settings: Settings, kind: str, address: str) -> str:
    return validation.email(address)


def build(database: Database, settings: Settings) -> Mapping[str, Channel]:
    return {EMAIL: smtp.SmtpChannel(settings)} if settings.smtp_enabled else {}


def render(message: Outgoing) -> str:
    """The mail's subject and text, with its action links."""
    mail = smtp.compose(message, LOG_FROM)
    body = mail.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return f"Subject: {mail['Subject']}\n\n{text}".rstrip()


def decorators(settings: Settings) -> Sequence[outgoing.Decorator]:
    return (links.decorator(settings, EMAIL),)


EMAIL_TYPE = ChannelType(
    name="email",
    kinds=(EMAIL,),
    normalise=normalise,
    configured=lambda settings: settings.smtp_enabled,
    build=build,
    render=render,
    decorators=decorators,
    bundled=frozenset({EMAIL}),
    inbound_routes=("/links/{token}",),
)
