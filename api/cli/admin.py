"""Bootstrap commands: ``watchbill user create``, ``user set-password``, ``token create``,
``version``."""

from __future__ import annotations

import getpass
import sys
from importlib.metadata import version as package_version
from typing import Annotated

import typer

from api.cli.base import CliError, app, ensure_schema, open_database
from people import passwords
from people import service as people
from people.models import UserRole
from store.audit import Actor

token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="Users.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="what the token is for")],
    user: Annotated[str | None, typer.Option(help="email of the user it acts as")] = None,
    admin: Annotated[bool, typer.Option(help="give it admin rights")] = False,
) -> None:
    """Create an API token and print its secret (shown only this once)."""
    database = open_database()
    ensure_schema(database)
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
    """Create a user (handy for the first admin); checked as the API checks it."""
    database = open_database()
    ensure_schema(database)
    with database.transaction() as session:
        user = people.create_user(
            session,
            Actor.system("cli"),
            name=name,
            email=email,
            time_zone=time_zone,
            role=UserRole.admin if admin else UserRole.member,
        )
        fields = {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "time zone": user.time_zone,
            "role": user.role.value,
        }
    typer.echo("created user")
    for key, value in fields.items():
        typer.echo(f"  {key:<10} {value}")


@user_app.command("set-password")
def user_set_password(email: Annotated[str, typer.Option(help="the user's email address")]) -> None:
    """Set a user's web sign-in password, read from standard input (asked twice on a
    terminal); the user's web sessions end."""
    if sys.stdin.isatty():
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError("no password given on standard input")
    database = open_database()
    ensure_schema(database)
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
