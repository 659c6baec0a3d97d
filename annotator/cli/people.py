"""Commands for users and their tokens."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click

from annotations.catalogue.users import (
    FULL,
    SCOPES,
    Role,
    add_user,
    change_user,
    create_token,
    get_user,
    revoke_tokens,
)
from annotator import services
from annotator.cli.common import friendly, load_app, main


@main.group()
def users() -> None:
    """People who sign in."""


@contextlib.contextmanager
def _users_write() -> Iterator[Any]:
    """A write session on the configured database, whose connections close afterwards."""
    database = services.database(load_app())
    try:
        with database.write() as session:
            yield session
    finally:
        database.dispose()


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.name for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Add a user; without --password-stdin the password is asked for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _users_write() as session:
        add_user(session, name, Role.parse(role), password)
    click.echo(f"added {role} {name}")


@users.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice([r.name for r in Role]), help="A new role.")
@click.option("--active/--inactive", default=None, help="Switch the account on or off.")
@friendly
def users_set(name: str, role: str | None, active: bool | None) -> None:
    """Change NAME's role, or switch the account off (ends its sessions, revokes its tokens).
    The last active admin cannot be demoted or switched off."""
    if role is None and active is None:
        raise click.UsageError("give --role, --active or --inactive")
    with _users_write() as session:
        user = get_user(session, name)
        change_user(session, user, role=None if role is None else Role.parse(role), active=active)
        state = "active" if user.active else "switched off"
        click.echo(f"{user.name}: {user.role.name}, {state}")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password; their browser sessions end (API tokens stay)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _users_write() as session:
        change = change_user(session, get_user(session, name), password=password)
    ended = change.sessions_ended
    click.echo(f"new password for {name}; {ended} session{'' if ended == 1 else 's'} ended")


@main.group()
def tokens() -> None:
    """API tokens for scripts."""


@tokens.command("create")
@click.argument("user")
@click.option("--name", "label", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default=FULL,
    show_default=True,
    help="full: a bearer token acting as USER; read-tiles: a read-only key for tiles, "
    "TileJSON, WMTS, COG downloads and OGC API reads, passed as ?key= or a Basic password.",
)
@friendly
def tokens_create(user: str, label: str, scope: str) -> None:
    """Print a new bearer token (or read-only key) for USER, once; only its hash is stored."""
    app = load_app()
    with services.database(app).write() as session:
        token = create_token(session, get_user(session, user), label, scope)
    click.echo(token)


@tokens.command("revoke")
@click.argument("user")
@click.option("--name", "label", help="Only tokens with this name; all of USER's otherwise.")
@friendly
def tokens_revoke(user: str, label: str | None) -> None:
    """Revoke USER's tokens (all, or those named --name); they stop working at once."""
    app = load_app()
    with services.database(app).write() as session:
        count = revoke_tokens(session, get_user(session, user), label)
    click.echo(f"revoked {count} token{'' if count == 1 else 's'} of {user}")
