"""Restore a backup into an empty data folder (and, for PostGIS, a database with no tables).

Order: the targets are checked first (nothing is written to refuse them), then every hash of
the backup, then its schema revision; only then are files written, into a hidden staging
folder inside the data folder, and moved into place once the database is restored and
upgraded to this version's schema (what `annotator init` does). Any failure removes what
the restore made, so a refusal or a failure changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from annotations import disk
from annotations.backup import postgres
from annotations.backup.manifest import DATABASE_FILES, IMAGES, KEYS, LABELS, BackupError
from annotations.backup.reader import Reader
from annotations.backup.snapshot import contents, sqlite_path, sqlite_revision
from annotations.backup.writers import fsync_path
from annotations.db import Database, sqlite_url
from annotations.schema import MIGRATIONS, head, upgrade


def known_revisions() -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def check_revision(revision: str, where: str) -> None:
    """Refuse a schema this version of annotator does not know (a backup from a newer one)."""
    if revision not in known_revisions():
        raise BackupError(
            f"{where} is at schema {revision}, which this version of annotator does not know "
            f"(its newest is {head()}): restore it with the version that made it, or a newer one"
        )


def restore_backup(
    source: Path,
    *,
    data_dir: Path,
    database_url: str,
    signing_key: Path,
    pg_bindir: Path | None = None,
) -> dict[str, Any]:
    """Restore the backup at `source` into `data_dir` and the database at `database_url`;
    returns what was restored. BackupError (one line) when refused or failed."""
    target = _Target(Path(data_dir), database_url, Path(signing_key), pg_bindir)
    target.check_empty()
    failure: str | None = None
    try:
        with Reader(Path(source)) as reader:
            manifest = reader.manifest()
            engine = manifest["engine"]
            if engine != target.engine:
                instead = (
                    "a new PostGIS database (ANNOTATOR_DATABASE_URL)"
                    if engine == "postgresql"
                    else "SQLite in the data folder (ANNOTATOR_DATABASE_URL unset)"
                )
                raise BackupError(
                    f"{reader.where} holds a {engine} database and the target is "
                    f"{target.engine} ({target.where}): restore it into {instead}"
                )
            check_revision(manifest["schema_revision"], reader.where)
            reader.check(manifest)  # every hash, before anything is written
            target.restore(reader, manifest)
    except BaseException as exc:
        target.undo()
        if not isinstance(exc, Exception) or (isinstance(exc, BackupError) and not target.filled):
            raise
        failure = (
            str(exc)
            if isinstance(exc, BackupError)
            else _problem(exc, Path(source), target.data_dir)
        )
        if target.filled:  # pg_restore committed: the database is not empty any more
            failure += (
                f"; the database {target.where} now holds the restored tables: drop and "
                "create it again before the next try"
            )
    if failure is not None:
        raise BackupError(failure)  # outside the handler: the OS error is not chained to it
    files = manifest["files"]
    return {
        "source": str(source),
        "data_dir": str(target.data_dir),
        "database": target.where,
        "engine": engine,
        "backup_schema_revision": manifest["schema_revision"],
        "schema_revision": head(),
        "counts": manifest["counts"],
        "images": sum(1 for entry in files if entry["path"].startswith(f"{IMAGES}/")),
        "files": len(files),
        "bytes": sum(int(entry["size"]) for entry in files),
    }


def _problem(exc: Exception, source: Path, data_dir: Path) -> str:
    if disk.is_out_of_space(exc):
        return (
            f"no room to restore into {data_dir}: nothing was restored. Free some space, "
            "then try again"
        )
    if isinstance(exc, tarfile.TarError):
        return f"backup {source} is damaged (a truncated or broken tar): {exc}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot restore {source} into {data_dir}: {exc.strerror or exc}{where}"
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"the restore failed: {type(exc).__name__}: {reason}"


class _Target:
    """Where a backup goes, and what the restore made there (to undo it on failure)."""

    def __init__(
        self, data_dir: Path, database_url: str, signing_key: Path, pg_bindir: Path | None
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.url = database_url
        self.signing_key = signing_key.resolve()
        self.pg_bindir = pg_bindir
        self.engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        self.where = make_url(database_url).render_as_string(hide_password=True)
        self.database_file = (
            sqlite_path(database_url).resolve() if self.engine == "sqlite" else None
        )
        self.major = 0
        self.made_data_dir = False
        self.staging: Path | None = None
        self.placed: list[Path] = []
        self.filled = False  # whether pg_restore has filled the database

    def check_empty(self) -> None:
        folder = self.data_dir
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise BackupError(f"the data folder {folder} is not a folder")
            found = sorted(entry.name for entry in os.scandir(folder))
            if found:
                shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
                raise BackupError(
                    f"the data folder {folder} is not empty (it holds {shown}): restore into "
                    "an empty or new folder (ANNOTATOR_DATA_DIR)"
                )
        for path, what in ((self.database_file, "database"), (self.signing_key, "signing key")):
            if path is not None and (path.exists() or path.is_symlink()):
                raise BackupError(f"the {what} {path} exists already: restore never replaces it")
        if self.engine == "postgresql":
            self.major = postgres.check_empty(self.url)

    def _staged(self, final: Path) -> Path:
        """Where a file that ends up at `final` is written first."""
        assert self.staging is not None
        if final.is_relative_to(self.data_dir):
            return self.staging / final.relative_to(self.data_dir)
        return self.staging / ".outside" / secrets.token_hex(4)

    def restore(self, reader: Reader, manifest: dict[str, Any]) -> None:
        if not self.data_dir.exists():
            self.data_dir.mkdir(parents=True)
            self.made_data_dir = True
        self.staging = self.data_dir / f".restore-{secrets.token_hex(4)}"
        self.staging.mkdir()
        moves: list[tuple[Path, Path]] = []
        for entry in manifest["files"]:
            name = entry["path"]
            if name in DATABASE_FILES.values():
                continue
            if name.startswith(f"{KEYS}/"):
                key = name.split("/", 1)[1]
                final = self.signing_key if key == "signing_key" else self.data_dir / key
            elif name == LABELS:
                final = self.data_dir / LABELS
            else:
                final = self.data_dir / name
            staged = self._staged(final)
            staged.parent.mkdir(parents=True, exist_ok=True)
            reader.copy(entry, staged, private=name.startswith(f"{KEYS}/"))
            moves.append((staged, final))
        dump = next(e for e in manifest["files"] if e["path"] in DATABASE_FILES.values())
        if self.engine == "sqlite":
            assert self.database_file is not None
            staged = self._staged(self.database_file)
            staged.parent.mkdir(parents=True, exist_ok=True)
            reader.copy(dump, staged)
            self._sqlite(staged, manifest, reader.where)
            moves.append((staged, self.database_file))
        else:
            staged = self.staging / DATABASE_FILES["postgresql"]
            reader.copy(dump, staged)
            self._postgres(staged, manifest, reader.where)
            staged.unlink()
        self._place(moves)

    def _sqlite(self, staged: Path, manifest: dict[str, Any], where: str) -> None:
        _same_revision(sqlite_revision(staged), manifest, where)
        with contextlib.closing(sqlite3.connect(staged, isolation_level=None)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"{where}: the database fails SQLite's check: {problems[0]}")
            if contents(connection).counts != manifest["counts"]:
                raise BackupError(
                    f"{where}: the database does not hold the rows the manifest counts"
                )
        database = Database(sqlite_url(staged))
        try:
            upgrade(database)
        finally:
            database.dispose()
        with contextlib.closing(sqlite3.connect(staged, isolation_level=None)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")  # one file to move, no -wal

    def _postgres(self, dump: Path, manifest: dict[str, Any], where: str) -> None:
        _same_revision(postgres.dump_revision(dump, self.major, self.pg_bindir), manifest, where)
        postgres.restore(self.url, dump, self.major, self.pg_bindir)
        self.filled = True
        database = Database(self.url)
        try:
            upgrade(database)
        finally:
            database.dispose()

    def _place(self, moves: list[tuple[Path, Path]]) -> None:
        assert self.staging is not None
        for _staged, final in moves:
            if final.parent != self.data_dir and not final.is_relative_to(self.data_dir / IMAGES):
                final.parent.mkdir(parents=True, exist_ok=True)
        images = self.staging / IMAGES
        if images.is_dir():
            images.rename(self.data_dir / IMAGES)
            self.placed.append(self.data_dir / IMAGES)
            fsync_path(self.data_dir / IMAGES, folder=True)
        for staged, final in moves:
            if final.is_relative_to(self.data_dir / IMAGES):
                continue
            if final.exists():
                raise BackupError(f"{final} appeared during the restore; it is left alone")
            shutil.move(staged, final)
            self.placed.append(final)
        shutil.rmtree(self.staging)
        self.staging = None
        fsync_path(self.data_dir, folder=True)

    def undo(self) -> None:
        """Remove what this restore wrote (the database it filled is reported, not dropped)."""
        with contextlib.suppress(OSError):
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            for path in self.placed:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            if self.made_data_dir:
                self.data_dir.rmdir()


def _same_revision(found: str | None, manifest: dict[str, Any], where: str) -> None:
    if found is None:
        raise BackupError(f"{where}: its database records no schema revision")
    check_revision(found, f"{where}: its database")
    if found != manifest["schema_revision"]:
        raise BackupError(
            f"{where}: its database is at schema {found} but its manifest says "
            f"{manifest['schema_revision']}: the backup was changed"
        )
