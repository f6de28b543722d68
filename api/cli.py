"""The ``watchbill`` command line."""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from people import service as people
from people.models import UserRole
from store import migrate as migrations
from store.audit import Actor
from store.db import Database, is_sqlite
from store.errors import DomainError
from store.settings import Settings, get_settings

if TYPE_CHECKING:
    from paging.engine import Engine

app = typer.Typer(
    help="Watchbill: on-call schedules, escalation policies and two-way paging.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="Users.", no_args_is_help=True)
app.add_typer(user_app, name="user")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _verbose() -> None:
    """Long-running commands log what they do (the scheduler's every tick is not news)."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def _database() -> Database:
    settings = get_settings()
    try:
        return Database(settings.database_url)
    except (SQLAlchemyError, ValueError) as exc:
        raise CliError(
            f"cannot use WATCHBILL_DATABASE_URL={settings.database_url!r}: {exc}"
        ) from exc


def _ensure_schema(database: Database, auto_migrate: bool | None) -> None:
    """SQLite migrates itself on start; PostgreSQL must be migrated (``watchbill migrate``)."""
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
    engine: Annotated[bool, typer.Option("--engine/--no-engine", help="run the engine too")] = True,
    migrate: Annotated[
        bool | None,
        typer.Option("--migrate/--no-migrate", help="migrate on start (default: on SQLite)"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes (PostgreSQL only above 1); the engine runs beside them, once",
        ),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="log every request")
    ] = True,
) -> None:
    """Run the HTTP API (and, unless --no-engine, the paging engine) in one process.

    With --workers N (PostgreSQL), N API processes share the port and this process runs
    the engine, which the API processes wake through PostgreSQL NOTIFY.
    """
    import uvicorn

    from api.app import create_app
    from api.workers import Supervisor, WorkersError

    _verbose()
    database = _database()
    if workers > 1 and is_sqlite(database.engine):
        raise CliError(
            "--workers above 1 needs PostgreSQL: on SQLite only the API process itself can "
            "wake the engine when a page is due"
        )
    _ensure_schema(database, migrate)
    settings = get_settings()
    if workers == 1:
        application = create_app(settings, database, run_engine=engine)
        uvicorn.run(application, host=host, port=port, log_level="info", access_log=access_log)
        return
    paging_engine = _engine(database, settings) if engine else None
    if paging_engine is not None:
        paging_engine.start()
    try:
        # Each worker builds the app from the environment, without an engine of its own, and
        # listens on a socket of its own (see api.workers).
        Supervisor(host, port, workers, access_log=access_log).run()
    except WorkersError as exc:
        raise CliError(str(exc)) from exc
    finally:
        if paging_engine is not None:
            paging_engine.stop()


def _engine(database: Database, settings: Settings) -> Engine:
    from paging.channels.registry import build_channels, build_decorators
    from paging.engine import Engine

    return Engine(
        database,
        settings,
        channels=build_channels(database, settings),
        decorators=build_decorators(settings),
    )


@app.command("engine")
def engine_command() -> None:
    """Run only the paging engine (any number may run against one PostgreSQL database)."""
    import signal
    import threading

    _verbose()
    database = _database()
    _ensure_schema(database, None)
    settings = get_settings()
    if is_sqlite(database.engine):
        logging.getLogger("watchbill").info("SQLite: run only one engine against this database")
    engine = _engine(database, settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine.start()
    stop.wait()
    engine.stop()


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    database = _database()
    migrations.upgrade(database.engine)
    typer.echo(f"database at revision {migrations.current_revision(database.engine)}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="what the token is for")],
    user: Annotated[str | None, typer.Option(help="email of the user it acts as")] = None,
    admin: Annotated[bool, typer.Option(help="give it admin rights")] = False,
) -> None:
    """Create an API token and print its secret (shown only this once)."""
    database = _database()
    _ensure_schema(database, None)
    with database.transaction() as session:
        user_id = None
        if user is not None:
            found = people.find_user_by_email(session, user)
            if found is None:
                raise CliError(f"no user with email {user!r}")
            user_id = found.id
        elif not admin:
            raise CliError("give --user EMAIL, or --admin for an admin token of its own")
        _, secret = people.create_token(
            session, Actor.system("cli"), name=name, user_id=user_id, is_admin=admin
        )
    typer.echo(secret)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="email address")],
    name: Annotated[str, typer.Option(help="display name")],
    time_zone: Annotated[str, typer.Option("--time-zone", help="IANA zone")] = "UTC",
    admin: Annotated[bool, typer.Option(help="make the user an admin")] = False,
) -> None:
    """Create a user (handy for the first admin)."""
    database = _database()
    _ensure_schema(database, None)
    with database.transaction() as session:
        user = people.create_user(
            session,
            Actor.system("cli"),
            name=name,
            email=email,
            time_zone=time_zone,
            role=UserRole.admin if admin else UserRole.member,
        )
        typer.echo(user.id)


@user_app.command("set-password")
def user_set_password(email: Annotated[str, typer.Option(help="the user's email address")]) -> None:
    """Set a user's web sign-in password, read from standard input (asked twice on a
    terminal); the user's web sessions end."""
    from people import passwords

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("no password given on standard input")
    database = _database()
    _ensure_schema(database, None)
    with database.transaction() as session:
        user = people.find_user_by_email(session, email)
        if user is None:
            raise CliError(f"no user with email {email!r}")
        passwords.set_password(session, Actor.system("cli"), user.id, password)
    typer.echo(f"password set for {email}")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(package_version("watchbill"))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    try:
        app()
    except (CliError, DomainError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        typer.echo(f"error: database: {exc.__class__.__name__}: {exc}".splitlines()[0], err=True)
        sys.exit(1)
