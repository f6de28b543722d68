"""The ``watchbill`` command line: one module per group of commands, wired to one Typer app.

User errors print one line (``error: ...``) on stderr and exit with status 1 (see
:class:`api.cli.base.CliError`); a traceback is a bug.
"""

from __future__ import annotations

import typer

from api.cli import admin, demo, incidents, oncall, serve  # noqa: F401 -- they register commands
from api.cli.base import CliError, app, settings, setup_logging
from paging.providers.registry import wire

__all__ = ["app", "main"]


def main() -> None:
    try:
        setup_logging()
        wire(settings())
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    app()
