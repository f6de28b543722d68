"""Bootstrap commands: ``watchbill user create``, ``watchbill token create``, ``version``."""

from __future__ import annotations

from importlib.metadata import version as package_version
from typing import Annotated

import typer

from api.cli.base import CliError, app, ensure_schema, open_database
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


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(package_version("watchbill"))
