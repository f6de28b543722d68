"""Keyset pagination over ``(created_at, id)`` with opaque cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from store.errors import Invalid

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


def _encode(created_at: datetime, id_: str) -> str:
    raw = json.dumps([created_at.isoformat(), id_]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, id_ = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created), str(id_)
    except (ValueError, TypeError) as exc:
        raise Invalid("cursor", "not a cursor returned by this API") from exc


def paginate(
    session: Session,
    stmt: Select[T],
    created_col: InstrumentedAttribute[datetime],
    id_col: InstrumentedAttribute[str],
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> Page[T]:
    """One page of ``stmt`` ordered by (created_at, id); ``next`` is the cursor for the rest."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    if cursor:
        at, last_id = _decode(cursor)
        if newest_first:
            stmt = stmt.where(or_(created_col < at, and_(created_col == at, id_col < last_id)))
        else:
            stmt = stmt.where(or_(created_col > at, and_(created_col == at, id_col > last_id)))
    order = (created_col.desc(), id_col.desc()) if newest_first else (created_col, id_col)
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode(getattr(last, created_col.key), getattr(last, id_col.key))
    return Page(items=rows, next=next_cursor)
