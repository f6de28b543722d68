"""``Database.single_statement``: a unit of work on a bare connection, for one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import Insert, func, insert, select

from people.models import User, UserRole
from store.base import new_id, utcnow
from store.db import Database, is_sqlite


def _users(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(User)) or 0)


def _insert_user(email: str) -> Insert:
    return insert(User).values(
        id=new_id(),
        name="Ada",
        email=email,
        time_zone="UTC",
        role=UserRole.member,
        ical_token=new_id(),
        created_at=utcnow(),
    )


def test_a_statement_is_committed_when_the_block_ends_well(database: Database) -> None:
    with database.single_statement() as connection:
        connection.execute(_insert_user("ada@example.com"))
    assert _users(database) == 1


def test_on_postgresql_the_statement_commits_by_itself_with_no_transaction_round_trips(
    database: Database,
) -> None:
    if is_sqlite(database.engine):
        pytest.skip("PostgreSQL runs it in autocommit; SQLite in a transaction")
    with database.single_statement() as connection:
        assert connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        connection.execute(_insert_user("ada@example.com"))
        assert _users(database) == 1, "committed as the statement ended"
    with database.engine.connect() as connection:  # the pool's connections are as they were
        assert not connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]


def test_on_sqlite_an_error_rolls_the_whole_block_back(database: Database) -> None:
    if not is_sqlite(database.engine):
        pytest.skip("on PostgreSQL the block is for one statement")
    with pytest.raises(RuntimeError), database.single_statement() as connection:
        connection.execute(_insert_user("ada@example.com"))
        raise RuntimeError("the second step failed")
    assert _users(database) == 0
