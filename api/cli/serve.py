"""``watchbill serve``, ``watchbill engine`` and ``watchbill migrate``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli import startup
from api.cli.base import (
    CliError,
    app,
    ensure_schema,
    open_database,
    settings,
    setup_logging,
)
from store import migrate as migrations
from store.db import Database, is_sqlite, sqlite_path
from store.settings import Settings

if TYPE_CHECKING:
    from paging.engine.loop import Engine


def _is_new(database: Database) -> bool:
    path = sqlite_path(database.engine.url) if is_sqlite(database.engine) else None
    return path is not None and not path.exists()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on")] = 8080,
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

    Unless WATCHBILL_PUBLIC_URL is set, links and webhooks use http://<host>:<port>. With
    --workers N (PostgreSQL), N API processes share the port and this process runs the
    engine, which the API processes wake through PostgreSQL NOTIFY.
    """
    import uvicorn

    from api.app import create_app
    from api.workers import Supervisor, WorkersError, listening_socket

    setup_logging(logging.INFO)
    database = open_database()
    if workers > 1 and is_sqlite(database.engine):
        raise CliError(
            "--workers above 1 needs PostgreSQL: on SQLite only the API process itself can "
            "wake the engine when a page is due"
        )
    # The port first: a busy port fails at once, before migrating or starting an engine.
    sock = startup.bind(host, port) if workers == 1 else None
    if sock is None:
        try:
            listening_socket(host, port).close()
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        new = _is_new(database)
        ensure_schema(database, migrate)
        config = startup.with_public_url(settings(), host, port)
        if workers == 1:
            assert sock is not None
            application = create_app(config, database, run_engine=engine)
            paging = application.state.engine
            _report(config, database, paging, new=new, listen=f"{host}:{port}")
            server = uvicorn.Server(
                uvicorn.Config(
                    application, log_level="info", access_log=access_log, log_config=None
                )
            )
            server.run(sockets=[sock])
            return
        # The API workers build their settings from the environment.
        os.environ["WATCHBILL_PUBLIC_URL"] = config.public_url
        paging = _engine(database, config) if engine else None
        _report(config, database, paging, new=new, listen=f"{host}:{port}")
        if paging is not None:
            paging.start()
        try:
            # Each worker builds the app from the environment, without an engine of its own,
            # and listens on a socket of its own (see api.workers).
            Supervisor(host, port, workers, access_log=access_log).run()
        except WorkersError as exc:
            raise CliError(str(exc)) from exc
        finally:
            if paging is not None:
                paging.stop()
    finally:
        if sock is not None:
            sock.close()


def _report(
    config: Settings, database: Database, paging: Engine | None, *, new: bool, listen: str
) -> None:
    logging.getLogger("watchbill").info("listening on %s", listen)
    startup.log_report(
        startup.report(
            config,
            database,
            live_channels=None if paging is None else paging.dispatcher.channels.keys(),
            public_url_from_listen=not settings().public_url_is_set,
            new_database=new,
        )
    )


def _engine(database: Database, config: Settings) -> Engine:
    from api.engine import build_engine

    return build_engine(database, config)


@app.command("engine")
def engine_command() -> None:
    """Run only the paging engine (any number may run against one PostgreSQL database)."""
    setup_logging(logging.INFO)
    database = open_database()
    new = _is_new(database)
    ensure_schema(database, None)
    config = settings()
    if is_sqlite(database.engine):
        logging.getLogger("watchbill").info("SQLite: run only one engine against this database")
    engine = _engine(database, config)
    startup.log_report(
        startup.report(
            config,
            database,
            live_channels=engine.dispatcher.channels.keys(),
            public_url_from_listen=False,
            new_database=new,
        )
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine.start()
    stop.wait()
    engine.stop()


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    database = open_database()
    migrations.upgrade(database.engine)
    typer.echo(f"database at revision {migrations.current_revision(database.engine)}")
