"""SMS reply codes: the ``1`` in ``Reply 1a to ack``, per recipient number.

* A number gets the smallest code not held by another of its open incidents, so codes stay
  short (``1``, ``2`` ...) and never name two open incidents at once.
* The code is kept for every later page of the same incident to that number.
* A code is released once its incident is resolved. Release is lazy: it happens when that
  number next needs a code, so until then a late ``1a`` still finds the incident and the
  sender learns that it is already resolved, instead of acting on a newer incident.

Two engines assigning codes for one number at once race on the partial unique index
(address, code) of active codes; the loser retries in a savepoint.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation.models import Incident, IncidentStatus
from paging.channels.base import IncidentView
from paging.models import Notification
from paging.twoway_models import ReplyCode
from store.base import utcnow

ATTEMPTS = 5


def active(session: Session, address: str, incident_id: str) -> int | None:
    return session.scalar(
        select(ReplyCode.code).where(
            ReplyCode.address == address,
            ReplyCode.incident_id == incident_id,
            ReplyCode.released_at.is_(None),
        )
    )


def incident_for(session: Session, address: str, code: int) -> str | None:
    """The incident an active code of ``address`` names."""
    return session.scalar(
        select(ReplyCode.incident_id).where(
            ReplyCode.address == address,
            ReplyCode.code == code,
            ReplyCode.released_at.is_(None),
        )
    )


def release_resolved(session: Session, address: str, now: datetime) -> int:
    """Release the codes of ``address`` whose incidents are resolved; how many."""
    resolved = select(Incident.id).where(Incident.status == IncidentStatus.resolved)
    result = session.execute(
        update(ReplyCode)
        .where(
            ReplyCode.address == address,
            ReplyCode.released_at.is_(None),
            ReplyCode.incident_id.in_(resolved),
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def assign(session: Session, address: str, incident_id: str, now: datetime) -> int:
    """The code of ``incident_id`` for ``address``: the one it has, or the smallest free one."""
    for _ in range(ATTEMPTS):
        code = active(session, address, incident_id)
        if code is not None:
            return code
        release_resolved(session, address, now)
        taken = set(
            session.scalars(
                select(ReplyCode.code).where(
                    ReplyCode.address == address, ReplyCode.released_at.is_(None)
                )
            )
        )
        code = next(n for n in itertools.count(1) if n not in taken)
        try:
            with session.begin_nested():
                session.add(
                    ReplyCode(address=address, incident_id=incident_id, code=code, created_at=now)
                )
        except IntegrityError:
            continue  # a concurrent assignment took it: look again
        return code
    raise RuntimeError(f"could not assign a reply code for {address} after {ATTEMPTS} tries")


def decorate(
    session: Session, notification: Notification, incident: Incident, view: IncidentView
) -> IncidentView:
    """Engine decorator: SMS pages carry the incident's reply code for that number."""
    if notification.channel != "sms":
        return view
    code = assign(session, notification.address, incident.id, utcnow())
    return dataclasses.replace(view, reply_code=code)
