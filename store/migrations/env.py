"""Alembic environment. The engine comes from ``store.migrate`` (``config.attributes``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from store.migrations.tables import metadata

config = context.config


def run() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through store.migrate (watchbill migrate)")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
