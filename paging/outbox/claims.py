"""Claims: outbox rows taken under a lease by one engine, and what a claim carries.

Taking rows sets them ``sending`` with ``lease_until`` and a claim token (only the holder of the
token records their result). A claim whose lease lapsed (its engine died or stalled mid-send)
is taken over with its bundle members, remembering when it was first claimed and the provider
ids of other messages to the same address, so that the channel can be asked (``lookup``)
whether it went out before it is sent again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from paging.outbox import sent_lately
from paging.outbox.channel import Outgoing
from paging.outbox.models import Notification, NotificationStatus

#: How far back the messages of other pages to an address are told apart from the one a
#: lookup looks for (a repeat of a page has the same text).
LOOKBACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """A claim ready to deliver: its rows, token, and the message built when it was made."""

    carrier_id: str
    member_ids: tuple[str, ...]
    token: str
    recheck_since: datetime | None  # set when a lapsed claim is taken over
    claimed_at: datetime | None = None
    message: Outgoing | None = None  # built when claimed (None: build when delivering)
    live_ids: tuple[str, ...] = ()  # the rows ``message`` covers
    send_at: datetime | None = None  # when the carrier was due (for the hand-off metric)
    known: frozenset[str] = frozenset()  # provider ids of other messages (for ``lookup``)


@dataclass
class Taken:
    """Rows just taken in the claiming transaction (their message not built yet)."""

    carrier_id: str
    rows: list[Notification]
    token: str
    recheck_since: datetime | None
    known: frozenset[str] = frozenset()


def take(rows: Iterable[Notification], now: datetime, token: str, lease: timedelta) -> Taken:
    """Take ``rows`` (the first carries the message) under ``token`` until ``now + lease``."""
    held = list(rows)
    for row in held:
        if row.status is NotificationStatus.pending:
            row.attempts += 1
        row.status = NotificationStatus.sending
        row.lease_until = now + lease
        row.claimed_by = token
        row.claimed_at = now
        row.updated_at = now
    return Taken(held[0].id, held, token, None)


def reclaim(
    session: Session, row: Notification, now: datetime, token: str, lease: timedelta
) -> Taken:
    """Take over a claim whose lease lapsed, with its bundle members; to be looked up first."""
    since = row.claimed_at
    members = [
        row,
        *session.scalars(
            select(Notification)
            .where(
                Notification.bundled_into == row.id,
                Notification.status == NotificationStatus.sending,
            )
            .with_for_update()
        ).all(),
    ]
    taken = take(members, now, token, lease)
    taken.recheck_since = since
    if since is not None:
        ids = [m.id for m in members]
        taken.known = sent_lately.provider_ids_since(
            session, row.channel, row.address, since - LOOKBACK, ids
        )
    return taken
