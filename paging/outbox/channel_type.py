"""The channel-type descriptor: everything the rest of Watchbill needs to know of a provider.

Each provider folder (``paging/providers/<name>/``) declares one :class:`ChannelType` and the
registry (``paging.providers.registry``) lists them: adding a channel is one folder and one line
there. From the descriptors the engine learns which channels bundle storms and take one message
at a time, where delivery receipts come back, how each message is decorated and what the log
channel shows in a provider's place; ``people`` learns how to validate the addresses of each
contact kind and which kinds a STOP pauses (registered at wiring, never imported by people).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from paging.outbox.channel import Channel, Outgoing
from paging.outbox.outgoing import Decorator
from store.db import Database
from store.settings import Settings


def _no_decorators(settings: Settings) -> Sequence[Decorator]:
    return ()


def plain_text(message: Outgoing) -> str:
    """A message as plain text, for a channel with no provider to render it."""
    return message.text or " | ".join(f"#{i.number} {i.title}" for i in message.incidents)


@dataclass(frozen=True)
class ChannelType:
    #: The provider's name (``twilio``, ``email``, ...).
    name: str
    #: The contact kinds it serves (``people.models.ContactType`` values).
    kinds: tuple[str, ...]
    #: ``(settings, kind, address) -> address`` in its one stored form; ValueError says what
    #: is wrong with it.
    normalise: Callable[[Settings, str, str], str]
    #: Whether the settings configure the provider (else its kinds go to the log channel).
    configured: Callable[[Settings], bool]
    #: The provider's channels by kind, when configured.
    build: Callable[[Database, Settings], Mapping[str, Channel]]
    #: What the provider would send for a message, as text (the log channel shows it).
    render: Callable[[Outgoing], str]
    #: Additions to messages (reply codes, signed links), each acting on its kinds only.
    decorators: Callable[[Settings], Sequence[Decorator]] = _no_decorators
    #: ``(settings, notification id) -> URL`` the provider reports delivery to; None: no receipts.
    status_url: Callable[[Settings, str], str] | None = None
    #: Kinds whose pages an alert storm bundles into one message (``paging.outbox.bundling``).
    bundled: frozenset[str] = frozenset()
    #: Kinds that carry one message at a time (a phone takes one call at a time).
    one_at_a_time: frozenset[str] = frozenset()
    #: Kinds a STOP from the address pauses (the contact method's ``sms_opted_out``).
    opt_out: frozenset[str] = frozenset()
    #: Said after a verification code: where to enter it.
    verify_hint: str = ""
    #: The public routes the provider answers (the ``api`` routers mount them).
    inbound_routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelTypes:
    """The registered descriptors, looked up by contact kind."""

    types: tuple[ChannelType, ...]

    def of(self, kind: str) -> ChannelType | None:
        return next((t for t in self.types if kind in t.kinds), None)

    @property
    def bundled(self) -> frozenset[str]:
        return frozenset(k for t in self.types for k in t.bundled)

    @property
    def one_at_a_time(self) -> frozenset[str]:
        return frozenset(k for t in self.types for k in t.one_at_a_time)

    def status_url(self, settings: Settings, kind: str, notification_id: str) -> str | None:
        found = self.of(kind)
        if found is None or found.status_url is None:
            return None
        return found.status_url(settings, notification_id)

    def render(self, message: Outgoing) -> str:
        """What the provider of ``message.channel`` would send (plain text when none)."""
        found = self.of(message.channel)
        return found.render(message) if found is not None else plain_text(message)

    def unconfigured(self, settings: Settings) -> frozenset[str]:
        """The kinds whose provider these settings leave out: they go to the log channel."""
        return frozenset(k for t in self.types if not t.configured(settings) for k in t.kinds)
