"""SMS reply codes: the ``1`` in ``Reply 1a to ack``, per recipient number.

* A number gets the smallest code not held by another of its open incidents, so codes stay
  short (``1``, ``2`` ...) and never name two open incidents at once.
* The code is kept for every later page of the same incident to that number.
* A code is released once its incident is resolved. Release is lazy: it happens when that
  number next needs a code, so until then a late ``1a`` still finds the incident and the
  sender learns that it is already resolved, instead of acting on a newer incident.

Two engines assigning codes for one number at once race on the partial unique indexes of
active codes, (address, code) and (address, incident): the loser's insert does nothing
(``ON CONFLICT DO NOTHING``), and it looks again.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from paging.channels.base import IncidentView
from paging.models import Notification
from paging.twoway_models import ReplyCode
from store.base import new_id, utcnow

ATTEMPTS = 5


def incident_for(session: Session, address: str, code: int) -> str | None:
    """The incident an active code of ``address`` names."""
    return session.scalar(
        select(ReplyCode.incident_id).where(
            ReplyCode.address == address,
            ReplyCode.code == code,
            ReplyCode.released_at.is_(None),
        )
    )


_RESOLVED = Incident.status == IncidentStatus.resolved


def _release(session: Session, address: str, incident_ids: list[str], now: datetime) -> None:
    """Release the active codes of ``address`` held by ``incident_ids`` (resolved ones)."""
    session.execute(
        update(ReplyCode)
        .where(
            ReplyCode.address == address,
            ReplyCode.released_at.is_(None),
            ReplyCode.incident_id.in_(incident_ids),
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )


#: The active codes of a number, each with whether its incident is resolved: one query
#: answers "has this incident a code already?", "which are free?" and "what to release?".
_HELD = (
    select(ReplyCode.code, ReplyCode.incident_id, _RESOLVED)
    .join(Incident, Incident.id == ReplyCode.incident_id)
    .where(ReplyCode.address == bindparam("b_address"), ReplyCode.released_at.is_(None))
)
_reply_codes = cast(Table, ReplyCode.__table__)


def _insert_if_free(session: Session, row: dict[str, Any]) -> bool:
    """Insert an active code unless another active one holds its code or its incident (a
    concurrent assignment: both partial unique indexes); True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_reply_codes).on_conflict_do_nothing().returning(_reply_codes.c.code)
    return session.execute(statement, row).first() is not None


def assign(session: Session, address: str, incident_id: str, now: datetime) -> int:
    """The code of ``incident_id`` for ``address``: the one it has, or the smallest free one.

    Two statements when a code is new (one when the incident has one already), a third when
    codes of resolved incidents are released first.
    """
    for _ in range(ATTEMPTS):
        held = session.execute(_HELD, {"b_address": address}).all()
        mine = next((code for code, held_by, _ in held if held_by == incident_id), None)
        if mine is not None:
            return int(mine)
        resolved = [held_by for _, held_by, is_resolved in held if is_resolved]
        if resolved:
            _release(session, address, resolved, now)
        taken = {code for code, _, is_resolved in held if not is_resolved}
        code = next(n for n in itertools.count(1) if n not in taken)
        row = {
            "id": new_id(),
            "address": address,
            "incident_id": incident_id,
            "code": code,
            "created_at": now,
        }
        if _insert_if_free(session, row):
            return code
        # A concurrent assignment took the code, or gave this incident one: look again.
    raise RuntimeError(f"could not assign a reply code for {address} after {ATTEMPTS} tries")


def decorate(
    session: Session, notification: Notification, incident: Incident, view: IncidentView
) -> IncidentView:
    """Engine decorator: SMS pages carry the incident's reply code for that number."""
    if notification.channel != "sms":
        return view
    code = assign(session, notification.address, incident.id, utcnow())
    return dataclasses.replace(view, reply_code=code)
