"""Coverage ahead: when, in the next days, nobody will be on call in a schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from schedules.core.values import Gap
from schedules.queries import schedule_timeline

__all__ = ["HORIZON", "gaps_ahead"]

#: How far ahead coverage warnings look.
HORIZON = timedelta(days=14)


def gaps_ahead(
    session: Session, schedule_id: str, now: datetime, horizon: timedelta = HORIZON
) -> tuple[Gap, ...]:
    """The stretches of ``[now, now + horizon)`` with nobody on call (the final schedule)."""
    return schedule_timeline(session, schedule_id, now, now + horizon).gaps
