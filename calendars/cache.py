"""What a feed answer is checked against before anything is built (see :mod:`calendars.service`).

* :func:`validators` reads, in one query, the change counters (every feed's inputs; this
  feed's event rows) and the answer remembered for this option set;
* :func:`remember` stores an answer's digest, stamp, ETag and change time;
* :data:`bodies` keeps recent bodies in memory by strong ETag (SHA-256 of the bytes, so an
  entry is right for whichever feed names it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import ScalarSelect

from calendars.models import CHANGES_SCOPE, CalendarChange, FeedRender

__all__ = ["Remembered", "Validators", "bodies", "remember", "validators"]

_BODY_CACHE_ENTRIES = 64
_BODY_CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Remembered:
    digest: str
    stamp: str
    etag: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Validators:
    #: ``calendar_changes`` counters: every feed's inputs, and this feed's own event rows
    #: (None before their first change).
    inputs: int | None
    rows: int | None
    last: Remembered | None


def validators(session: Session, key: str, variant: str) -> Validators:
    """Everything a fast answer needs, in one query of primary-key lookups."""
    rendered = FeedRender.feed_key == key, FeedRender.variant == variant

    def counter(scope: str) -> ScalarSelect[Any]:
        return select(CalendarChange.counter).where(CalendarChange.scope == scope).scalar_subquery()

    def remembered(column: InstrumentedAttribute[Any]) -> ScalarSelect[Any]:
        return select(column).where(*rendered).scalar_subquery()

    inputs, rows, digest, stamp, etag, changed = session.execute(
        select(
            counter(CHANGES_SCOPE),
            counter(key),
            remembered(FeedRender.digest),
            remembered(FeedRender.stamp),
            remembered(FeedRender.etag),
            remembered(FeedRender.changed_at),
        )
    ).one()
    last = None if digest is None else Remembered(digest, stamp, etag, changed)
    return Validators(inputs, rows, last)


def remember(
    session: Session, key: str, variant: str, digest: str, stamp: str, etag: str, changed: datetime
) -> None:
    """Store (or update) the answer remembered for ``(key, variant)``."""
    stored = session.get(FeedRender, (key, variant))
    if stored is not None:
        stored.digest, stored.stamp, stored.etag, stored.changed_at = digest, stamp, etag, changed
        return
    try:
        with session.begin_nested():
            session.add(
                FeedRender(
                    feed_key=key,
                    variant=variant,
                    digest=digest,
                    stamp=stamp,
                    etag=etag,
                    changed_at=changed,
                )
            )
    except IntegrityError:
        pass  # a concurrent request remembered it first; it is only a cache


class BodyCache:
    """Recently rendered bodies by strong ETag, bounded in entries and bytes."""

    def __init__(self, entries: int, size: int) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._entries, self._size, self._bytes = entries, size, 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._items.get(etag)
            if body is not None:
                self._items.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        with self._lock:
            if etag in self._items or len(body) > self._size:
                return
            self._items[etag] = body
            self._bytes += len(body)
            while len(self._items) > self._entries or self._bytes > self._size:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


bodies = BodyCache(_BODY_CACHE_ENTRIES, _BODY_CACHE_BYTES)
