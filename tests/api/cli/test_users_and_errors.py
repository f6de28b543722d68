"""``user create`` checks what the API checks; every user error is one line naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import Database
from tests.api.cli.conftest import Run


def test_user_create_prints_the_user(cli: Run, database: Database) -> None:
    result = cli(
        "user", "create", "--email", "ada@example.com", "--name", " Ada Lovelace ",
        "--time-zone", "Europe/London", "--admin",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created user"
    fields = dict(
        line.strip().split(None, 1) for line in lines[1:] if not line.startswith("  time")
    )
    assert fields["name"] == "Ada Lovelace"  # trimmed, as the API does
    assert fields["email"] == "ada@example.com"
    assert fields["role"] == "admin"
    assert "  time zone  Europe/London" in lines
    assert len(fields["id"]) == 32


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--name", ""], "error: name: must not be empty"),
        (["--name", "   "], "error: name: must not be empty"),
        (["--name", "x" * 201], "error: name: must be at most 200 characters"),
        (["--name", "A", "--time-zone", "Mars/Base"], "error: time_zone: unknown time zone"),
    ],
)
def test_user_create_refuses_what_the_api_refuses(
    cli: Run, options: list[str], expected: str
) -> None:
    result = cli("user", "create", "--email", "a@example.com", *options)
    assert result.exit_code == 1
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli("user", "create", "--email", "a@example.com", "--name", "A").exit_code == 0


def test_user_create_with_a_bad_email_names_the_field(cli: Run) -> None:
    result = cli("user", "create", "--email", "not-an-email", "--name", "A")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: email: ")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@localhost/watchbill", "the database 'mysql' is not supported"),
        ("postgresql+asyncpg://u@h/db", "the PostgreSQL driver 'asyncpg' is not supported"),
        ("postgresql+psycopg2://u@h/db", "the PostgreSQL driver 'psycopg2' is not supported"),
        ("not a url", "is not a database URL"),
        ("sqlite:////nowhere/at/all/watchbill.db", "the folder /nowhere/at/all"),
    ],
)
def test_an_unusable_database_url_is_one_line_naming_the_supported_ones(
    cli: Run, url: str, words: str
) -> None:
    result = cli("migrate", env={"WATCHBILL_DATABASE_URL": url})
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: WATCHBILL_DATABASE_URL: ") and words in line, line
    assert "\n" not in line and "Traceback" not in result.output
    if "folder" not in words:
        assert "sqlite:///" in line and "postgresql+psycopg://" in line


def test_a_bad_setting_names_the_variable(cli: Run) -> None:
    result = cli("migrate", env={"WATCHBILL_SMTP_PORT": "twenty-five"})
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: WATCHBILL_SMTP_PORT: must be a whole number"


def test_reading_commands_do_not_start_an_empty_database_elsewhere(
    cli: Run, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere" / "watchbill.db"
    missing.parent.mkdir()
    for command in (["oncall"], ["incidents"], ["incidents", "show", "1"]):
        result = cli(*command, env={"WATCHBILL_DATABASE_URL": f"sqlite:///{missing}"})
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            f"error: no database at {missing}: run this where 'watchbill serve' runs, or set "
            "WATCHBILL_DATABASE_URL"
        )
    assert not missing.exists()


def test_an_unreachable_database_is_one_line(cli: Run) -> None:
    url = "postgresql+psycopg://watchbill@127.0.0.1:1/watchbill"  # nothing listens on port 1
    result = cli("migrate", env={"WATCHBILL_DATABASE_URL": url})
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: cannot use the database (WATCHBILL_DATABASE_URL): ")
    assert "\n" not in line and "Traceback" not in result.output
