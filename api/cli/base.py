"""What every command shares: the Typer app, one-line user errors, settings, the database,
and readable tables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from typer.core import TyperGroup

from api import validation_text
from store import logs
from store import migrate as migrations
from store.db import Database, DatabaseUrlError, is_sqlite, sqlite_path
from store.errors import DomainError
from store.pagination import Page
from store.settings import Settings, get_settings

T = TypeVar("T")


class CliError(Exception):
    """A user error: printed as one line (``error: ...``) on stderr, exit status 1."""


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


class _Commands(TyperGroup):
    """User errors, whichever command raised them (or the services it called), are one line
    on stderr and exit status 1."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except CliError as exc:
            fail(str(exc))
        except DomainError as exc:
            fail(exc.detail)
        except OperationalError as exc:  # not reachable, refused, wrong password ...
            reason = str(exc.orig or exc).strip().splitlines()[0]
            fail(f"cannot use the database (WATCHBILL_DATABASE_URL): {reason}")
        except SQLAlchemyError as exc:
            fail(f"database: {exc.__class__.__name__}: {exc}".splitlines()[0])


app = typer.Typer(
    cls=_Commands,
    help="Watchbill: on-call schedules, escalation policies and two-way paging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def settings() -> Settings:
    """The settings from the environment; a bad value is a one-line error naming the variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        found = [
            f"WATCHBILL_{validation_text.field_name(e['loc']).upper()}: "
            f"{validation_text.message(e)}"
            for e in exc.errors()
        ]
        raise CliError("; ".join(found)) from None


def setup_logging(level: int = logging.WARNING) -> None:
    """Logs to stderr, as plain lines or JSON (``WATCHBILL_LOG_FORMAT``)."""
    logs.configure(settings().log_format, level)
    if level <= logging.INFO:  # the scheduler's every tick is not news
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def open_database(*, must_exist: bool = False) -> Database:
    """The database ``WATCHBILL_DATABASE_URL`` names.

    ``must_exist``: commands that only read refuse to start a new, empty SQLite file (the
    default file is relative to the working directory: run elsewhere, it is not there).
    """
    url = settings().database_url
    try:
        path = sqlite_path(url) if url.strip().startswith("sqlite") else None
        if must_exist and path is not None and not path.exists():
            raise CliError(
                f"no database at {path}: run this where 'watchbill serve' runs, or set "
                "WATCHBILL_DATABASE_URL"
            )
        return Database(url)
    except DatabaseUrlError as exc:
        raise CliError(f"WATCHBILL_DATABASE_URL: {exc}") from None


def ensure_schema(database: Database, auto_migrate: bool | None = None) -> None:
    """SQLite migrates itself (unless told not to); PostgreSQL must be migrated first
    (``watchbill migrate``)."""
    if auto_migrate is None:
        auto_migrate = is_sqlite(database.engine)
    if auto_migrate:
        migrations.upgrade(database.engine)
        return
    current = migrations.current_revision(database.engine)
    head = migrations.head_revision(database.engine)
    if current != head:
        raise CliError(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run 'watchbill migrate' first"
        )


def every(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a paginated service query (``fetch(cursor) -> Page``)."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next is None:
            return
        cursor = page.next


def console() -> Console:
    """Standard output for tables: the terminal's width, or a wide page when piped."""
    made = Console(highlight=False)
    return made if made.is_terminal else Console(highlight=False, width=160)


def table(*columns: str) -> Table:
    """A plain table: a bold header row, columns two spaces apart, no borders."""
    made = Table(header_style="bold", box=None, pad_edge=False)
    for column in columns:
        made.add_column(column)
    return made
