"""SMS reply codes: the ``1`` in ``Reply 1a to ack``, per recipient number.

* A number gets the smallest code not held by another of its open incidents, so codes stay
  short (``1``, ``2`` ...) and never name two open incidents at once.
* The code is kept for every later page of the same incident to that number.
* A code is released once its incident is resolved. Release is lazy: it happens when that
  number next needs a code, so until then a late ``1a`` still finds the incident and the
  sender learns that it is already resolved, instead of acting on a newer incident.
* A bundled SMS (an alert storm) also gets a code of its own from the same numbers, naming
  every incident it lists (``Reply 6a to ack all, 6r to resolve all``); it is released once
  all of them are resolved.

Two engines assigning codes for one number at once race on the partial unique indexes of
active codes, (address, code) and (address, incident): the loser's insert does nothing
(``ON CONFLICT DO NOTHING``), and it looks again.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from paging.outbox.channel import Outgoing
from paging.outbox.models import Notification
from paging.providers.twilio.models import ReplyCode
from store.base import new_id, utcnow

ATTEMPTS = 5


def incidents_for(session: Session, address: str, code: int) -> list[str]:
    """The incidents an active code of ``address`` names: one, or a bundle's (``ack all``)."""
    row = session.execute(
        select(ReplyCode.incident_id, ReplyCode.incident_ids).where(
            ReplyCode.address == address,
            ReplyCode.code == code,
            ReplyCode.released_at.is_(None),
        )
    ).first()
    if row is None:
        return []
    incident_id, bundle = row
    return [incident_id] if incident_id is not None else list(bundle or [])


_RESOLVED = Incident.status == IncidentStatus.resolved


def _release(session: Session, address: str, codes: list[int], now: datetime) -> None:
    """Release the active codes ``codes`` of ``address`` (their incidents are resolved)."""
    session.execute(
        update(ReplyCode)
        .where(
            ReplyCode.address == address,
            ReplyCode.released_at.is_(None),
            ReplyCode.code.in_(codes),
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )


#: The active codes of a number, each with whether its incident is resolved (NULL for a
#: bundle's code): one query answers "has this incident (bundle) a code already?", "which are
#: free?" and "what to release?".
_HELD = (
    select(ReplyCode.code, ReplyCode.incident_id, ReplyCode.notification_id, _RESOLVED)
    .add_columns(ReplyCode.incident_ids)
    .outerjoin(Incident, Incident.id == ReplyCode.incident_id)
    .where(ReplyCode.address == bindparam("b_address"), ReplyCode.released_at.is_(None))
)
_reply_codes = cast(Table, ReplyCode.__table__)


@dataclasses.dataclass(frozen=True)
class _Held:
    code: int
    incident_id: str | None
    notification_id: str | None
    done: bool  # every incident it names is resolved


def _held(session: Session, address: str) -> list[_Held]:
    rows = session.execute(_HELD, {"b_address": address}).all()
    bundled = {i for *_, resolved, ids in rows if ids for i in ids}
    open_ids: set[str] = set()
    if bundled:
        open_ids = set(
            session.scalars(select(Incident.id).where(Incident.id.in_(bundled), ~_RESOLVED)).all()
        )
    return [
        _Held(
            int(code),
            incident_id,
            notification_id,
            bool(resolved) if incident_id is not None else not open_ids & set(ids or ()),
        )
        for code, incident_id, notification_id, resolved, ids in rows
    ]


def _insert_if_free(session: Session, row: dict[str, Any]) -> bool:
    """Insert an active code unless another active one holds its code or its incident (a
    concurrent assignment: both partial unique indexes); True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_reply_codes).on_conflict_do_nothing().returning(_reply_codes.c.code)
    return session.execute(statement, row).first() is not None


def _assign(
    session: Session, address: str, mine: Callable[[_Held], bool], row: dict[str, Any]
) -> int:
    for _ in range(ATTEMPTS):
        held = _held(session, address)
        found = next((h.code for h in held if mine(h)), None)
        if found is not None:
            return found
        done = [h.code for h in held if h.done]
        if done:
            _release(session, address, done, row["created_at"])
        taken = {h.code for h in held if not h.done}
        code = next(n for n in itertools.count(1) if n not in taken)
        if _insert_if_free(session, {**row, "id": new_id(), "address": address, "code": code}):
            return code
        # A concurrent assignment took the code, or gave this incident one: look again.
    raise RuntimeError(f"could not assign a reply code for {address} after {ATTEMPTS} tries")


def assign(session: Session, address: str, incident_id: str, now: datetime) -> int:
    """The code of ``incident_id`` for ``address``: the one it has, or the smallest free one.

    Two statements when a code is new (one when the incident has one already), a third when
    codes of resolved incidents are released first.
    """
    row = {"incident_id": incident_id, "created_at": now}
    return _assign(session, address, lambda h: h.incident_id == incident_id, row)


def assign_bundle(
    session: Session, address: str, carrier_id: str, incident_ids: Sequence[str], now: datetime
) -> int:
    """The code of a bundled message (``Reply 6a to ack all``): acts on every incident it
    lists. The same message (sent again after a failure) keeps its code."""
    row = {"notification_id": carrier_id, "incident_ids": list(incident_ids), "created_at": now}
    return _assign(session, address, lambda h: h.notification_id == carrier_id, row)


def decorate(
    session: Session, carrier: Notification, pages: Sequence[Notification], message: Outgoing
) -> Outgoing:
    """Engine decorator: an SMS carries each incident's reply code for that number, and a
    bundle also a code that acts on all of them."""
    if message.channel != "sms" or not message.incidents:
        return message
    now = utcnow()
    views = tuple(
        dataclasses.replace(view, reply_code=assign(session, message.address, view.id, now))
        for view in message.incidents
    )
    bundle_code = None
    if len(views) > 1:
        ids = [view.id for view in views]
        bundle_code = assign_bundle(session, message.address, carrier.id, ids, now)
    return dataclasses.replace(message, incidents=views, bundle_code=bundle_code)
