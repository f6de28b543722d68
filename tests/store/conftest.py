"""Fixtures for the store's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The test database's URL, for tests of what only PostgreSQL has (skipped on SQLite)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (server-side connections, async driver)")
    return database_url
