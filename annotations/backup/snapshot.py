"""A consistent copy of an SQLite database taken while the server writes, and what it holds.

The copy is made by SQLite's backup API in one step (pages=-1), from a connection of its own:
one step is one read transaction, so the copy is the database as of one moment, and in WAL
mode the writers carry on meanwhile (a stepwise backup would restart whenever they write).
Everything the manifest says about the database (schema revision, counts, the COGs the
catalogue names) is read from the copy, not from the live database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url

from annotations.backup.following import Following
from annotations.backup.manifest import BackupError, sha256_stream
from annotations.db import BUSY_TIMEOUT_MS

#: tables that are the backend's index machinery (rebuilt from the annotations), not data
SKIPPED_TABLES = ("alembic_version", "annotations_rtree", "spatial_ref_sys")


@dataclass
class Contents:
    """What a database snapshot holds, as the manifest records it."""

    revision: str
    counts: dict[str, int] = field(default_factory=dict)
    cog_names: list[str] = field(default_factory=list)


def sqlite_path(url: str) -> Path:
    """The file an sqlite:/// URL names (refusing an in-memory database)."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {url!r}: it is not a file")
    return Path(name)


@dataclass
class Copy:
    """A database copied: what it holds, and (when hashed while it was written) the sha256 of
    its first page and of the rest, as the manifest's `sha256_parts` lists them."""

    contents: Contents
    parts: list[tuple[int, str]] | None = None


def copy_sqlite(source: Path, target: Path, *, hash_while_copying: bool = False) -> Copy:
    """Copy the live database `source` to `target` (a new file) and read what it holds;
    `hash_while_copying` hashes the copy as SQLite writes it (see backup.following)."""
    if not source.is_file():
        raise BackupError(f"the database {source} does not exist")
    # read-write (but only read): a read-only connection may not open a WAL database's -shm
    live = sqlite3.connect(_uri(source, "rw"), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    following: Following | None = None
    try:
        page_size = int(live.execute("PRAGMA page_size").fetchone()[0])
        target.open("xb").close()
        if hash_while_copying:
            following = Following(target, start=page_size)
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            # no fsync inside the copy: the caller flushes the file once
            copy.execute("PRAGMA synchronous=OFF")
            _copy(live, copy)
            # the copy stands alone: one file, no -wal beside it
            copy.execute("PRAGMA journal_mode=DELETE")
            held = contents(copy)
            same_pages = int(copy.execute("PRAGMA page_size").fetchone()[0]) == page_size
        finally:
            copy.close()
    except BaseException:
        if following is not None:
            following.abandon()
        raise
    finally:
        live.close()
    if following is None:
        return Copy(held)
    rest_size, rest = following.finish()
    with target.open("rb") as stream:
        first = sha256_stream(stream, limit=page_size)
    if not same_pages or first[0] + rest_size != target.stat().st_size:
        return Copy(held)  # not the copy the hashing assumed: the caller hashes it whole
    return Copy(held, [first, (rest_size, rest)])


def _copy(live: sqlite3.Connection, copy: sqlite3.Connection) -> None:
    """All the pages in one step: one read transaction on the live database."""
    live.backup(copy, pages=-1)


def contents(connection: sqlite3.Connection) -> Contents:
    """The schema revision, the rows per table and the COG names of an SQLite database."""
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        raise BackupError("the database has no schema yet: run `annotator init` first")
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if not name.startswith(("sqlite_", *SKIPPED_TABLES))
    ]
    counts = {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
        for name in names
    }
    cogs = [str(cog) for (cog,) in connection.execute("SELECT cog_name FROM images ORDER BY 1")]
    return Contents(revision=str(row[0]), counts=counts, cog_names=cogs)


def sqlite_revision(path: Path) -> str | None:
    """The schema revision recorded in an SQLite file (None when it has none)."""
    with contextlib.closing(sqlite3.connect(_uri(path, "ro"), uri=True)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return None if row is None else str(row[0])


def _uri(path: Path, mode: str) -> str:
    """A file: URI for `path` that never creates the file."""
    return f"file:{quote(str(path.resolve()))}?mode={mode}"
