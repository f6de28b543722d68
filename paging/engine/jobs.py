"""What the engine runs: jobs, each declaring when it next falls due and how to do what is due.

A :class:`Job` is timed work kept in the database: ``earliest`` is its earliest-due query (the
minimum of a due column, as scalar subqueries: the engine asks every job's in one statement,
so an idle tick costs one query), and ``run`` does one batch of what is due in a transaction.
The domain that owns the work declares its job (``paging.response.jobs``,
``paging.intake.jobs``, ``paging.outbox.jobs``) and ``paging.engine.registry`` lists them:
adding a timer is one module and one line there.

:class:`Periodic` work runs on an interval instead, in a scheduler job of its own, so a slow
one (fetching calendars) never delays a page. It is structural: a package below ``paging``
(``calendars``) implements it without importing ``paging``, and the app's wiring registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from store.db import Database
from store.settings import Settings

if TYPE_CHECKING:
    from paging.outbox.channel import Channel
    from paging.outbox.channel_type import ChannelTypes
    from paging.outbox.outgoing import Decorator

#: An earliest-due query: ``SELECT min(<due column>) ... WHERE <pending>``, as a scalar subquery.
Earliest = ScalarSelect[Any]


@dataclass(frozen=True)
class Job:
    """Work stepped in transactions, in batches.

    ``run(session, now)`` does at most ``batch`` of what is due at ``now`` in the session's
    transaction (committed by the engine) and returns how many it did: fewer than ``batch``
    means nothing more is due.
    """

    name: str
    earliest: tuple[Earliest, ...]
    run: Callable[[Session, datetime], int]
    batch: int


class Sender(Protocol):
    """Claims due outbox rows and delivers each claim (``paging.outbox.dispatch.Dispatcher``)."""

    @property
    def channels(self) -> Mapping[str, Channel]: ...

    def claim_due(self, limit: int = ..., messages: int | None = ...) -> tuple[list[Any], int]:
        """Claims (each to ``deliver``) and how many rows were handled."""
        ...

    def deliver(self, claim: Any) -> None: ...


@dataclass(frozen=True)
class Sends:
    """The outbox: when a row next falls due, and the :class:`Sender` the engine claims with
    (``start``: made once, with the engine's channels). Claims are delivered in the engine's
    send threads, as many in hand as it has room for."""

    name: str
    earliest: tuple[Earliest, ...]
    start: Callable[[SenderSetup], Sender]


@dataclass(frozen=True)
class SenderSetup:
    """What the engine hands :attr:`Sends.start`."""

    database: Database
    settings: Settings
    channels: Mapping[str, Channel]
    #: Where a message goes when no provider is configured for its channel (the log channel).
    fallback: Channel
    channel_types: ChannelTypes
    decorators: Sequence[Decorator]
    engine_id: str
    clock: Callable[[], datetime]


class Periodic(Protocol):
    """Work on an interval, outside the tick, opening its own transactions."""

    @property
    def name(self) -> str: ...

    @property
    def every(self) -> timedelta: ...

    def __call__(
        self, database: Database, now: datetime, should_stop: Callable[[], bool]
    ) -> object: ...
