"""What every command of the `annotator` command line shares: the app, the one-line errors
and the `main` group.

Every command prints one clear line on stderr and exits non-zero on bad input, and
changes nothing when it fails.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask

from annotations import disk
from annotations.errors import AnnotationError
from annotations.schema import check_ready
from annotator import logs, services
from annotator.cli.language import Group
from annotator.config import ConfigError
from imagery.errors import ImageryError

F = TypeVar("F", bound=Callable[..., Any])


def load_app(*, ready: bool = True) -> Flask:
    """The app on the configured data folder; with `ready`, refused (one line) unless its
    database is at this version's schema, which only `annotator init` makes or upgrades."""
    from annotator import create_app

    try:
        app = create_app()
        if ready:
            check_ready(services.database(app))
        return app
    except (ConfigError, AnnotationError) as exc:
        raise click.ClickException(disk.MESSAGE if disk.is_out_of_space(exc) else str(exc)) from exc


def friendly(command: F) -> F:
    """Turn domain errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (AnnotationError, ImageryError, ValueError) as exc:
            if disk.is_out_of_space(exc):
                raise click.ClickException(disk.MESSAGE) from exc
            message = " ".join(str(exc).split())
            raise click.ClickException(message) from exc
        except Exception as exc:
            if disk.is_out_of_space(exc):  # OSError, SQLite's or PostgreSQL's "disk full"
                raise click.ClickException(disk.MESSAGE) from exc
            raise

    return wrapped  # type: ignore[return-value]


def emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(line)


@click.group(cls=Group)
def main() -> None:
    """Annotate satellite imagery and tie it to news reports."""
    try:
        logs.configure_command(os.environ)  # only with ANNOTATOR_LOG_LEVEL set
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
