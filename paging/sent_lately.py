"""What went to a contact address lately: the history bundling plans a storm's pages with.

Asked on every engine pass that plans pages, so it reads a range of the ``(address, sent_at)``
index however long a number's history is, plus the few messages being sent right now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, bindparam, or_, select, union_all
from sqlalchemy.orm import Session

from paging.models import Notification, NotificationStatus

_SINCE = bindparam("b_since", type_=Notification.__table__.c.sent_at.type)
_ADDRESSES = bindparam("b_addresses", expanding=True, type_=String(320))
_COLUMNS = (
    Notification.channel,
    Notification.address,
    Notification.sent_at,
    Notification.claimed_at,
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


def sends_since(
    session: Session, keys: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[datetime]]:
    """When messages (a bundle counts once) went to each (channel, address) since ``since``:
    sent, or handed to the channel and not yet recorded as sent."""
    if not keys:
        return {}
    addresses = sorted({address for _, address in keys})
    rows = session.execute(_SENDS, {"b_addresses": addresses, "b_since": since}).all()
    times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for channel, address, sent, claimed in rows:
        when = sent or claimed
        if when is not None:
            times[(channel, address)].append(when)
    return times
