"""Shared fixtures: a real database per test (SQLite always; PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from paging.providers.registry import wire
from store import migrate
from store.db import Database
from store.settings import Settings
from tests import dbtools
from tests.factories import Factory

ADMIN_TOKEN = "test-admin-token-0123456789"

#: The providers' contact kinds, registered into people as the app and the CLI do at start-up.
wire(Settings(_env_file=None))


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str | None]:
    server = dbtools.pg_server_url()
    if server is None:
        yield None
        return
    with dbtools.postgres_database(server) as url:
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbtools.migrated_sqlite_template(tmp_path_factory.mktemp("template"))


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if dbtools.pg_server_url() else ["sqlite"]


@pytest.fixture(params=_backends())
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_url: str | None,
) -> Iterator[str]:
    """A migrated, empty database for this test only."""
    if request.param == "sqlite":
        yield dbtools.fresh_sqlite_copy(_sqlite_template, tmp_path)
        return
    assert _postgres_url is not None
    yield _postgres_url
    cleanup = Database(_postgres_url)
    dbtools.truncate_all(cleanup)
    cleanup.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=SecretStr(ADMIN_TOKEN),
        public_url="http://testserver",
    )


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    app = create_app(settings, database)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def factory(database: Database) -> Factory:
    return Factory(database)


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
