"""Commands that keep a deployment: backup, restore and the signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from annotations.schema import check_ready
from annotator.cli.common import emit, friendly, main
from annotator.config import ConfigError


def _pg_bindir(settings: Any) -> Path | None:
    return Path(settings["PG_BINDIR"]) if settings.get("PG_BINDIR") else None


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the backup's manifest as JSON.")
@friendly
def backup(path: Path, as_json: bool) -> None:
    """Back up the data folder to PATH while the server runs: a new folder, or an
    uncompressed tar when PATH ends in .tar; never over an existing one. It holds the
    database as of one moment (SQLite's backup API, or pg_dump), the COGs it names
    (hard-linked on the same disk), the keys, and a manifest of every file's sha256."""
    from annotations.backup import make_backup, summary
    from annotations.db import Database
    from annotator.config import resolve

    try:  # the settings, not the web app: a backup starts in a fraction of a second
        settings = resolve(None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    database = Database(str(settings["DATABASE_URL"]))
    try:
        check_ready(database)
        manifest = make_backup(
            database,
            data_dir=Path(settings["DATA_DIR"]),
            images_dir=Path(settings["IMAGES_DIR"]),
            signing_key=Path(settings["SIGNING_KEY_FILE"]),
            target=path,
            pg_bindir=_pg_bindir(settings),
        )
    finally:
        database.dispose()
    emit(as_json, manifest, [summary.backed_up(path, manifest)])


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only check every hash of the backup.")
@click.option("--json", "as_json", is_flag=True, help="Print what was restored as JSON.")
@friendly
def restore(path: Path, check: bool, as_json: bool) -> None:
    """Restore the backup PATH (a folder or .tar) into an empty or new data folder
    (ANNOTATOR_DATA_DIR) and, for PostGIS, a database with no tables
    (ANNOTATOR_DATABASE_URL). Every hash is checked first; an older backup is upgraded to
    this version's schema. A changed backup, a non-empty target or a backup from a newer
    version is refused, changing nothing."""
    from annotations.backup import restore_backup, summary, verify_backup
    from annotator.config import resolve

    if check:
        manifest = verify_backup(path)
        payload = {"backup": str(path), "ok": True, "manifest": manifest}
        emit(as_json, payload, [summary.checked(path, manifest)])
        return
    try:
        # a placeholder secret: resolve() would otherwise write DATA_DIR/secret_key, and the
        # data folder must stay untouched until the restore has found it empty
        settings = resolve({"SECRET_KEY": "unused by restore"})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    result = restore_backup(
        path,
        data_dir=Path(settings["DATA_DIR"]),
        database_url=str(settings["DATABASE_URL"]),
        signing_key=Path(settings["SIGNING_KEY_FILE"]),
        pg_bindir=_pg_bindir(settings),
    )
    emit(as_json, result, [summary.restored(path, result)])


@main.group()
def keys() -> None:
    """The server's Ed25519 key that signs evidence bundles (kept in the data folder)."""


@keys.command("public")
@click.option("--json", "as_json", is_flag=True, help="Print {algorithm, sha256, public_key}.")
@friendly
def keys_public(as_json: bool) -> None:
    """Print the public key (PEM) that checks bundle signatures: save it, hand it to readers,
    and check a bundle with `annotator verify BUNDLE --key FILE`. The key pair is made the
    first time it is needed (ANNOTATOR_SIGNING_KEY_FILE, mode 600)."""
    from annotations.newsroom.signing import ALGORITHM, stored_key
    from annotator.config import resolve

    try:
        settings = resolve(None)  # the data folder only: no app, no database
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    key = stored_key(Path(settings["SIGNING_KEY_FILE"]))
    payload = {"algorithm": ALGORITHM, "sha256": key.fingerprint(), "public_key": key.public_pem()}
    emit(as_json, payload, [key.public_pem().rstrip("\n")])
