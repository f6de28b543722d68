"""UIDs, SEQUENCE and LAST-MODIFIED that survive regenerations (``calendar_feed_events``).

Each feed keeps one row per event it has shown. On every render the current occurrences are
matched to those rows:

1. by start: the row of the same schedule and person that last started at the same instant
   (an unchanged shift finds its own row without computing anything);
2. else by overlap: an unclaimed row of the same schedule and person whose last interval
   overlaps the occurrence (its start was edited, e.g. an override took the first hours):
   the occurrence keeps that row's UID, so clients update the event instead of adding one;
3. else a new row, SEQUENCE 0, with the natural UID :func:`calendars.render.shift_uid` of
   (schedule, person, start) -- or a variant of it if an older row that moved holds it.

A matched row whose content fingerprint (times and texts as rendered) changed gets
SEQUENCE + 1 and LAST-MODIFIED = now.
Rows that are not shown stay (the shift may come back, or be outside this request's window)
until they are older than :data:`KEEP`.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.orm import Session

from calendars.feeds import Occurrence
from calendars.models import FeedEventState, bump
from calendars.render import FeedEvent, shift_uid
from store.base import new_id

__all__ = ["KEEP", "sync_events"]

#: Rows of events that ended this long ago are deleted (longer than any feed looks back).
KEEP = timedelta(days=400)


@dataclass(slots=True)
class _Row:
    id: str
    uid: str
    schedule_id: str
    user_id: str | None
    start: datetime
    end: datetime
    fingerprint: str
    sequence: int
    last_modified: datetime
    claimed: bool = False


class _Owned:
    """One (schedule, person)'s rows sorted by start, for overlap lookups in O(log n)."""

    def __init__(self, rows: list[_Row]) -> None:
        self.rows = sorted(rows, key=lambda r: r.start)
        self.starts = [r.start for r in self.rows]
        self.longest = max((r.end - r.start for r in self.rows), default=timedelta(0))

    def overlapping(self, start: datetime, end: datetime) -> list[_Row]:
        """Unclaimed rows meeting ``[start, end)``."""
        found: list[_Row] = []
        i = bisect_left(self.starts, end)
        while i > 0:
            i -= 1
            row = self.rows[i]
            if row.start + self.longest <= start:
                break
            if row.end > start and not row.claimed:
                found.append(row)
        return found


def _load(session: Session, feed_key: str) -> list[_Row]:
    columns = (
        FeedEventState.id,
        FeedEventState.uid,
        FeedEventState.schedule_id,
        FeedEventState.user_id,
        FeedEventState.start,
        FeedEventState.end,
        FeedEventState.fingerprint,
        FeedEventState.sequence,
        FeedEventState.last_modified,
    )
    found = session.execute(select(*columns).where(FeedEventState.feed_key == feed_key))
    return [_Row(*row) for row in found]


def _overlap(row: _Row, occ: Occurrence) -> timedelta:
    return min(row.end, occ.end) - max(row.start, occ.start)


def _fingerprint(occ: Occurrence) -> str:
    """A digest of everything a client sees of the event (instants at rendered precision)."""
    text = "\x1f".join(
        (
            str(int(occ.start.timestamp())),
            str(int(occ.end.timestamp())),
            occ.summary,
            occ.description,
            "gap" if occ.is_gap else "shift",
        )
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def _new_uid(namespace: str, occ: Occurrence, taken: set[str]) -> str:
    """The natural UID, or (if an older row that moved away holds it) a variant of it."""
    uid = shift_uid(namespace, occ.schedule_id, occ.user_id, occ.start)
    attempt = 0
    while uid in taken:
        attempt += 1
        uid = shift_uid(namespace, f"{occ.schedule_id}#{attempt}", occ.user_id, occ.start)
    taken.add(uid)
    return uid


def sync_events(
    session: Session,
    feed_key: str,
    namespace: str,
    occurrences: Sequence[Occurrence],
    now: datetime,
) -> list[FeedEvent]:
    """Match ``occurrences`` to the feed's stored rows (see the module doc), write the changes
    and return the events to render. Never commits."""
    pruned = session.execute(
        delete(FeedEventState).where(
            FeedEventState.feed_key == feed_key, FeedEventState.end < now - KEEP
        )
    )
    deleted = cast("CursorResult[Any]", pruned).rowcount
    rows = _load(session, feed_key)
    taken = {row.uid for row in rows}
    by_start = {(row.schedule_id, row.user_id, row.start): row for row in rows}
    grouped: dict[tuple[str, str | None], list[_Row]] = {}
    for row in rows:
        grouped.setdefault((row.schedule_id, row.user_id), []).append(row)
    by_owner = {owner: _Owned(owned) for owner, owned in grouped.items()}
    ordered = sorted(occurrences, key=lambda o: (o.start, o.schedule_id, o.user_id or ""))
    chosen: list[_Row | None] = [None] * len(ordered)
    for i, occ in enumerate(ordered):
        exact = by_start.get((occ.schedule_id, occ.user_id, occ.start))
        if exact is not None and not exact.claimed:
            exact.claimed = True
            chosen[i] = exact
    for i, occ in enumerate(ordered):
        if chosen[i] is not None:
            continue
        owned = by_owner.get((occ.schedule_id, occ.user_id))
        candidates = [] if owned is None else owned.overlapping(occ.start, occ.end)
        if candidates:
            best = max(candidates, key=lambda r: (_overlap(r, occ), -r.start.timestamp()))
            best.claimed = True
            chosen[i] = best
    events: list[FeedEvent] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for occ, match in zip(ordered, chosen, strict=True):
        fingerprint = _fingerprint(occ)
        if match is None:
            uid = _new_uid(namespace, occ, taken)
            sequence, modified = 0, now
            inserts.append(
                {
                    "id": new_id(),
                    "feed_key": feed_key,
                    "uid": uid,
                    "schedule_id": occ.schedule_id,
                    "user_id": occ.user_id,
                    "start": occ.start,
                    "end": occ.end,
                    "fingerprint": fingerprint,
                    "sequence": 0,
                    "last_modified": now,
                }
            )
        else:
            uid, sequence, modified = match.uid, match.sequence, match.last_modified
            if match.fingerprint != fingerprint:
                sequence, modified = sequence + 1, now
                updates.append(
                    {
                        "id": match.id,
                        "start": occ.start,
                        "end": occ.end,
                        "fingerprint": fingerprint,
                        "sequence": sequence,
                        "last_modified": now,
                    }
                )
        events.append(
            FeedEvent(
                uid=uid,
                start=occ.start,
                end=occ.end,
                summary=occ.summary,
                description=occ.description,
                sequence=sequence,
                last_modified=modified,
                is_gap=occ.is_gap,
            )
        )
    if inserts:
        session.execute(insert(FeedEventState), inserts)
    if updates:
        session.execute(update(FeedEventState), updates)
    if inserts or updates or deleted > 0:
        bump(session, feed_key)
    return events
