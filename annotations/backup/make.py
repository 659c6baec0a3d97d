"""Make a backup of a running data folder: database snapshot, the COGs it names, the keys.

Everything is written under a sibling temporary name (PATH.partial-<random>), the manifest
last, then renamed to PATH in one step; whatever fails (a full disk, a missing pg_dump, a
vanished file, Ctrl-C) removes the partial files, so a backup that looks complete is one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from annotations import disk
from annotations.backup import postgres
from annotations.backup.hashes import HashCache, cache_path
from annotations.backup.manifest import (
    DATABASE_FILES,
    IMAGES,
    KEYS,
    LABELS,
    MANIFEST,
    MANIFEST_HASH,
    BackupError,
    build,
    digest_line,
    encode,
    plain_name,
    sha256_stream,
)
from annotations.backup.snapshot import Contents, copy_sqlite, sqlite_path
from annotations.backup.writers import FolderWriter, TarWriter, Writer, fsync_path
from annotations.catalogue.files import ORIGINALS, kept_originals
from annotations.db import Database

Progress = Callable[[str, float], None]


def make_backup(
    database: Database,
    *,
    data_dir: Path,
    images_dir: Path,
    signing_key: Path,
    target: Path,
    progress: Progress | None = None,
    pg_bindir: Path | None = None,
) -> dict[str, Any]:
    """Back up the data folder's database, COGs and keys to `target` (a folder, or a tar
    when it ends in .tar) and return the manifest. `pg_bindir` is where pg_dump lives (by
    default the server's own version's, /usr/lib/postgresql/<major>/bin, else PATH)."""
    target = Path(target)
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists already: a backup never overwrites; give a new PATH")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: there is no folder {target.parent}")
    partial = target.with_name(f"{target.name}.partial-{secrets.token_hex(4)}")
    as_tar = target.suffix.lower() == ".tar"
    staging = partial.with_name(partial.name + ".d") if as_tar else partial
    job = _Job(database, Path(data_dir), Path(images_dir), Path(signing_key), progress, pg_bindir)
    try:
        staging.mkdir()
        writer: Writer = TarWriter(partial) if as_tar else FolderWriter(partial)
        try:
            manifest = job.write(writer, staging)
        except BaseException:
            with contextlib.suppress(OSError):
                writer.close()
            raise
        writer.close()
        if as_tar:
            shutil.rmtree(staging)
        _publish(partial, target)
    except BaseException as exc:
        _remove(partial)
        _remove(staging)
        if isinstance(exc, BackupError) or not isinstance(exc, Exception):
            raise  # ours (one line already), or Ctrl-C
        problem = _problem(exc, target)
    else:
        job.report("done", 1.0)
        return manifest
    raise BackupError(problem)  # outside the handler: the OS error is not chained to it


class _Job:
    def __init__(
        self,
        database: Database,
        data_dir: Path,
        images_dir: Path,
        signing_key: Path,
        progress: Progress | None,
        pg_bindir: Path | None,
    ) -> None:
        self.database = database
        self.data_dir = data_dir
        self.images_dir = images_dir
        self.signing_key = signing_key
        self.progress = progress
        self.pg_bindir = pg_bindir

    def report(self, step: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(step, fraction)

    def write(self, writer: Writer, staging: Path) -> dict[str, Any]:
        self.report("database", 0.0)
        engine = "sqlite" if self.database.is_sqlite else "postgresql"
        snapshot = staging / DATABASE_FILES[engine]
        as_tar = isinstance(writer, TarWriter)
        parts = None
        if self.database.is_sqlite:
            # into a folder, the copy stays as SQLite wrote it, so it is hashed as written;
            # into a tar, it is hashed as it is copied in
            copied = copy_sqlite(
                sqlite_path(self.database.url), snapshot, hash_while_copying=not as_tar
            )
            contents, parts = copied.contents, copied.parts
        else:
            contents = postgres.dump(self.database, snapshot, self.pg_bindir)
        if as_tar:
            files = [writer.put_file(snapshot.name, snapshot)]  # hashed as it is copied in
            snapshot.unlink()
            files += self._images(writer, contents)
        elif parts is not None:
            fsync_path(snapshot)
            files = [_parts_entry(snapshot, parts), *self._images(writer, contents)]
        else:
            # the snapshot is hashed (from the page cache) while it is flushed to the disk
            # and the COGs are linked
            with ThreadPoolExecutor(1, thread_name_prefix="backup-hash") as pool:
                hashed = pool.submit(_entry, snapshot)
                fsync_path(snapshot)
                images = self._images(writer, contents)
                files = [hashed.result(), *images]
        self.report("database", 1.0)
        files += self._keys(writer)
        files += self._originals(writer)
        manifest = build(engine, contents.revision, contents.counts, files)
        raw = encode(manifest)
        writer.put_bytes(MANIFEST, raw)
        writer.put_bytes(MANIFEST_HASH, digest_line(raw))
        return manifest

    def _images(self, writer: Writer, contents: Contents) -> list[dict[str, Any]]:
        cache = HashCache(cache_path(self.data_dir))
        entries = []
        total = len(contents.cog_names)
        for number, name in enumerate(contents.cog_names, 1):
            if not plain_name(name):
                raise BackupError(f"the catalogue names a COG {name!r} that is not a file name")
            source = self.images_dir / name
            if not source.is_file():
                raise BackupError(
                    f"the image store {self.images_dir} has no {name}, which the catalogue "
                    "names: the data folder is damaged"
                )
            entries.append(writer.put_file(f"{IMAGES}/{name}", source, cache=cache))
            self.report("images", number / total)
        with contextlib.suppress(OSError):
            cache.forget_except({entry.name for entry in os.scandir(self.images_dir)})
        cache.save()
        return entries

    def _originals(self, writer: Writer) -> list[dict[str, Any]]:
        """The press pictures kept as received (the evidence of a georeferenced capture),
        read after the snapshot: each one the snapshot names was written before its row."""
        entries = [
            writer.put_file(f"{ORIGINALS}/{path.name}", path)
            for path in kept_originals(self.images_dir)
        ]
        self.report("originals", 1.0)
        return entries

    def _keys(self, writer: Writer) -> list[dict[str, Any]]:
        entries = []
        for name, source in (
            ("secret_key", self.data_dir / "secret_key"),
            ("signing_key", self.signing_key),
        ):
            if source.is_file():
                entries.append(writer.put_file(f"{KEYS}/{name}", source, private=True))
        labels = self.data_dir / LABELS
        if labels.is_file():
            entries.append(writer.put_file(LABELS, labels))
        self.report("keys", 1.0)
        return entries


def _entry(path: Path) -> dict[str, Any]:
    with path.open("rb") as stream:
        size, digest = sha256_stream(stream)
    return {"path": path.name, "size": size, "sha256": digest}


def _parts_entry(path: Path, parts: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "path": path.name,
        "size": sum(size for size, _ in parts),
        "sha256_parts": [{"size": size, "sha256": digest} for size, digest in parts],
    }


def _publish(partial: Path, target: Path) -> None:
    """Give the finished backup its name, never replacing anything there meanwhile."""
    if partial.is_dir():
        if target.exists() or target.is_symlink():
            raise BackupError(f"{target} appeared while the backup was written; it is left alone")
        partial.rename(target)
    else:
        try:
            os.link(partial, target)  # fails if something took the name meanwhile
        except FileExistsError:
            raise BackupError(
                f"{target} appeared while the backup was written; it is left alone"
            ) from None
        partial.unlink()
    fsync_path(target.parent, folder=True)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _problem(exc: Exception, target: Path) -> str:
    """One line for a failure that is not ours."""
    if disk.is_out_of_space(exc):
        return (
            f"no room for the backup on the disk holding {target.parent}: nothing was kept. "
            "Free some space or give a PATH on another disk"
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot write the backup {target}: {exc.strerror or exc}{where}"
    if isinstance(exc, sqlite3.Error | SQLAlchemyError):
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return f"cannot copy the database: {reason}"
    if isinstance(exc, subprocess.SubprocessError):
        return f"cannot dump the database: {' '.join(str(exc).split())}"
    return f"the backup failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
