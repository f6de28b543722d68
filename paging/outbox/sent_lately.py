"""What went to a contact address lately: the history bundling plans a storm's pages with, and
the calls still in progress (a phone takes one call at a time).

Asked on every engine pass that plans pages, so it reads a range of the ``(address, sent_at)``
index however long a number's history is, plus the few messages being sent right now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, or_, select, union_all
from sqlalchemy.orm import Session

from paging.outbox.bundling import Sent
from paging.outbox.models import Notification, NotificationStatus

#: A call counts as in progress at most this long after it was placed, should its final
#: status never come back (a lost callback must not silence a number for good). Rings 25 s,
#: then the page (or a bundle's first five incidents) is read twice: well under three minutes.
CALL_LIMIT = timedelta(minutes=3)
#: Twilio's final call statuses: the line is free again.
CALL_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")

_SINCE = bindparam("b_since", type_=Notification.__table__.c.sent_at.type)
_ADDRESSES = bindparam("b_addresses", expanding=True, type_=String(320))
_CHANNELS = bindparam("b_channels", expanding=True, type_=String(20))
_COLUMNS = (
    Notification.channel,
    Notification.address,
    Notification.sent_at,
    Notification.claimed_at,
    Notification.throttle,
)
#: Messages (a bundle counts once) that went to some addresses since ``b_since``: those sent,
#: and those being sent. The two parts are disjoint: a row being sent has not been sent since.
_SENDS = union_all(
    select(*_COLUMNS).where(
        Notification.address.in_(_ADDRESSES),
        Notification.sent_at >= _SINCE,
        Notification.bundled_into.is_(None),
    ),
    select(*_COLUMNS).where(
        Notification.status == NotificationStatus.sending,
        Notification.claimed_at >= _SINCE,
        Notification.address.in_(_ADDRESSES),
        Notification.bundled_into.is_(None),
        or_(Notification.sent_at.is_(None), Notification.sent_at < _SINCE),
    ),
)
#: Calls to some numbers placed since ``b_since`` that have not ended: being placed, or
#: placed and not yet reported ``completed``/``busy``/``no-answer``/``failed``/``canceled``.
_CALLS = select(
    Notification.channel, Notification.address, Notification.sent_at, Notification.claimed_at
).where(
    Notification.channel.in_(_CHANNELS),
    Notification.address.in_(_ADDRESSES),
    Notification.bundled_into.is_(None),
    or_(
        Notification.status == NotificationStatus.sending,
        (Notification.sent_at >= _SINCE)
        & Notification.status.in_([NotificationStatus.sent, NotificationStatus.delivered])
        & or_(
            Notification.provider_status.is_(None),
            Notification.provider_status.not_in(CALL_ENDED),
        ),
    ),
)


def sends_since(
    session: Session, keys: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[Sent]]:
    """The messages (a bundle counts once) that went to each (channel, address) since
    ``since``: sent, or handed to the channel and not yet recorded as sent."""
    if not keys:
        return {}
    addresses = sorted({address for _, address in keys})
    rows = session.execute(_SENDS, {"b_addresses": addresses, "b_since": since}).all()
    found: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for channel, address, sent, claimed, throttle in rows:
        when = sent or claimed
        if when is not None:
            found[(channel, address)].append(Sent(when, storm=throttle == "storm"))
    return found


def calls_in_progress(
    session: Session, calls: Sequence[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], datetime]:
    """For each (channel, address) of a channel that takes one message at a time (a phone
    cannot take two calls) with one in progress: until when its next one waits at most (the
    final status, reported back, releases the wait at once)."""
    if not calls:
        return {}
    params = {
        "b_channels": sorted({channel for channel, _ in calls}),
        "b_addresses": sorted({address for _, address in calls}),
        "b_since": now - CALL_LIMIT,
    }
    wanted = set(calls)
    busy: dict[tuple[str, str], datetime] = {}
    for channel, address, sent, claimed in session.execute(_CALLS, params).all():
        if (channel, address) not in wanted:
            continue
        placed = sent or claimed or now
        until = max(placed + CALL_LIMIT, now + timedelta(seconds=1))
        busy[(channel, address)] = max(busy.get((channel, address), until), until)
    return busy


def provider_ids_since(
    session: Session, channel: str, address: str, since: datetime, besides: Sequence[str]
) -> frozenset[str]:
    """The provider ids of the messages that went to ``address`` since ``since``, but for the
    rows ``besides``: whatever a lookup finds among them is not the message it looks for."""
    found = session.scalars(
        select(Notification.provider_id).where(
            Notification.address == address,
            Notification.sent_at >= since,
            Notification.channel == channel,
            Notification.provider_id.is_not(None),
            Notification.id.not_in(list(besides)),
        )
    )
    return frozenset(i for i in found if i)
