"""When each job next falls due: every job's earliest-due query, in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from paging.engine.jobs import Earliest
from store.db import Database


class Due:
    """The earliest due time of each named job (its queries' minimum), asked in one query."""

    def __init__(self, jobs: Sequence[tuple[str, Sequence[Earliest]]]) -> None:
        names = [name for name, _ in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"two jobs share a name: {names}")
        self._owners: list[str] = []
        columns = []
        for name, queries in jobs:
            for i, query in enumerate(queries):
                columns.append(query.label(f"{name}_{i}"))
                self._owners.append(name)
        self._names = names
        self._statement: Select[Any] = select(*columns)

    def __call__(self, database: Database) -> dict[str, datetime | None]:
        with database.transaction() as session:
            row: Sequence[datetime | None] = session.connection().execute(self._statement).one()
        earliest: dict[str, datetime | None] = dict.fromkeys(self._names)
        for name, at in zip(self._owners, row, strict=True):
            if at is not None:
                before = earliest[name]
                earliest[name] = at if before is None or at < before else before
        return earliest
