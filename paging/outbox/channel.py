"""The channel interface: ``send(message) -> result``, and ``lookup`` before sending again what
may have gone out (a lapsed claim, an ambiguous failure).

A channel knows nothing of the engine. Adding a channel (Slack, push) means writing one of these
in a folder of ``paging/providers/`` with its ``ChannelType`` (``paging.outbox.channel_type``) and
one line in ``paging.providers.registry``; nothing else changes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class Outcome(enum.StrEnum):
    sent = "sent"  # accepted by the provider (or written, for the log channel)
    temporary = "temporary"  # try again later (5xx, 429, timeout)
    permanent = "permanent"  # never retry (invalid number, opted out)


@dataclass(frozen=True)
class IncidentView:
    id: str
    number: int
    title: str
    severity: str
    urgency: str
    status: str
    service: str
    url: str
    ack_url: str | None = None
    resolve_url: str | None = None
    reply_code: int | None = None
    #: What the monitoring tool sent (``Incident.details``); channels with room show it.
    details: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Outgoing:
    """Everything a channel needs to deliver one message."""

    notification_id: str
    kind: str  # page | bundle | test | verify
    channel: str  # the contact kind: sms | voice | email | webhook
    address: str
    person: str
    incidents: tuple[IncidentView, ...] = ()
    text: str | None = None  # for test and verification messages
    callback_url: str | None = None
    bundle_code: int | None = None  # SMS bundles: the code that acts on every incident listed


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_id: str | None = None
    error: str | None = None
    error_code: int | None = None
    detail: dict[str, str] = field(default_factory=dict)
    #: A temporary failure after which the message may have gone out all the same (a timeout
    #: waiting for the answer, a connection dropped after the request was sent): ``lookup``
    #: is asked before it is sent again.
    ambiguous: bool = False


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> SendResult: ...

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """Whether ``message`` already went out since ``since`` (a claim lapsed mid-send, or
        the send failed ambiguously). ``known``: the provider ids of other messages to the
        same address, which are not this one (a repeat of a page has the same text).

        Return the result if it did, None if it did not (or cannot be known: then it is sent
        again, preferring a duplicate to a lost page).
        """
        ...
