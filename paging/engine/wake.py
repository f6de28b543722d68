"""Wake the engine when a transaction makes something due.

In-process engines listen to the session's commit (``session.info``); engines in other
processes on PostgreSQL ``LISTEN`` to ``pg_notify``, which is delivered only on commit.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import String, bindparam, func, literal, text
from sqlalchemy.orm import Session

CHANNEL = "watchbill_engine"
FLAG = "watchbill_wake"
_NOTIFY = text("SELECT pg_notify(:channel, :origin)")


def origin(bind: Any) -> str:
    """Names the process and database engine a wake-up comes from (the ``pg_notify``
    payload): an engine skips its own process's, which reached it through the session."""
    engine = getattr(bind, "engine", bind)
    return f"{os.getpid()}:{id(engine)}"


def request(session: Session) -> None:
    if session.info.get(FLAG):
        return
    session.info[FLAG] = True
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # On the session's connection, past the ORM: a NOTIFY needs nothing flushed first.
        session.connection().execute(_NOTIFY, {"channel": CHANNEL, "origin": origin(bind)})


#: ``request`` as a column of a statement the transaction runs anyway (PostgreSQL), which
#: saves its round trip: add it to the statement and :func:`requested_with` its parameter.
NOTIFY_COLUMN = func.pg_notify(literal(CHANNEL, String), bindparam("b_wake_origin", type_=String))


def requested_with(session: Session) -> dict[str, str]:
    """The parameter of :data:`NOTIFY_COLUMN`, for a statement about to run in this session's
    transaction (PostgreSQL): the wake then counts as requested, and ``request`` sends no
    second NOTIFY. A wake requested for work that turns out not to be due is harmless."""
    session.info[FLAG] = True
    return {"b_wake_origin": origin(session.get_bind())}


def take(session: Session) -> bool:
    """Whether ``request`` was called in this session's transaction (and forget it)."""
    return bool(session.info.pop(FLAG, False))
