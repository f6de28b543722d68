"""Where channels are wired: every provider's channel type, one line each.

Adding a channel is one folder under ``paging/providers/`` and one line in
:data:`CHANNEL_TYPES`. :func:`wire` registers each type's contact kinds into ``people`` (address
validation, opt-out), which imports nothing above it; the engine reads the rest (bundling,
decorations, status URLs, what the log channel shows) from the same descriptors.
"""

from __future__ import annotations

from functools import partial

from paging.outbox import outgoing
from paging.outbox.channel import Channel
from paging.outbox.channel_type import ChannelTypes
from paging.providers.email.channel_type import EMAIL_TYPE
from paging.providers.twilio.channel_type import TWILIO
from paging.providers.webhook.channel_type import WEBHOOK_TYPE
from people import contact_kinds
from store.db import Database
from store.settings import Settings

CHANNEL_TYPES = ChannelTypes(
    (
        TWILIO,
        EMAIL_TYPE,
        WEBHOOK_TYPE,
    )
)


def wire(settings: Settings, types: ChannelTypes = CHANNEL_TYPES) -> None:
    """Register the contact kinds of ``types`` into ``people``, validating addresses under
    ``settings`` (at start-up: the app, the CLI; the last call wins)."""
    for channel_type in types.types:
        for kind in channel_type.kinds:
            contact_kinds.register(
                contact_kinds.ContactKind(
                    kind=kind,
                    normalise=partial(channel_type.normalise, settings, kind),
                    opt_out=kind in channel_type.opt_out,
                    verify_hint=channel_type.verify_hint,
                )
            )


def build_channels(
    database: Database, settings: Settings, types: ChannelTypes = CHANNEL_TYPES
) -> dict[str, Channel]:
    """Configured providers by contact type; a type left out goes to the log channel."""
    channels: dict[str, Channel] = {}
    for channel_type in types.types:
        channels.update(channel_type.build(database, settings))
    return channels


def build_decorators(
    settings: Settings, types: ChannelTypes = CHANNEL_TYPES
) -> list[outgoing.Decorator]:
    """Per-incident additions to outgoing messages: SMS reply codes and short signed links,
    signed action links in e-mail and webhook pages."""
    return [decorate for t in types.types for decorate in t.decorators(settings)]
