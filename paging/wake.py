"""Wake the engine when a transaction makes something due.

In-process engines listen to the session's commit (``session.info``); engines in other
processes on PostgreSQL ``LISTEN`` to ``pg_notify``, which is delivered only on commit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "watchbill_engine"
FLAG = "watchbill_wake"


def request(session: Session) -> None:
    if session.info.get(FLAG):
        return
    session.info[FLAG] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def take(session: Session) -> bool:
    """Whether ``request`` was called in this session's transaction (and forget it)."""
    return bool(session.info.pop(FLAG, False))
