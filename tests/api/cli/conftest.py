"""The command line through typer's runner, against the test's own database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from store.settings import get_settings

Run = Callable[..., Result]


@pytest.fixture
def cli(database_url: str) -> Iterator[Run]:
    """``cli("oncall", "--at", "now", env={...})``: the command's exit code and output."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        get_settings.cache_clear()  # the settings are read from this call's environment
        result = runner.invoke(
            app, list(args), env={"WATCHBILL_DATABASE_URL": database_url, **(env or {})}
        )
        get_settings.cache_clear()
        return result

    yield run
