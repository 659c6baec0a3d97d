"""Read a backup, a folder or an uncompressed tar, and check every hash in its manifest.

A member that is not a plain file (a link, a device), a name the manifest may not hold, a
file the manifest does not list or lists twice: each makes the backup one not to trust.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from annotations.backup.manifest import (
    MANIFEST,
    MANIFEST_HASH,
    BackupError,
    matches,
    parse,
)

#: the largest manifest read (a million COGs would be ~150 MB of JSON)
MAX_MANIFEST_BYTES = 512 << 20


class Reader:
    """A backup's files by name, from a folder or a tar."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.where = f"backup {source}"
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if source.is_dir():
            self._names = self._folder_names()
        elif source.is_file():
            self._names = self._tar_names()
        else:
            raise BackupError(f"{self.where}: no such folder or file")

    def _folder_names(self) -> set[str]:
        names = set()
        for folder, subfolders, files in os.walk(self.source):
            for name in [*files, *subfolders]:
                path = Path(folder, name)
                relative = path.relative_to(self.source).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISDIR(mode):
                    continue
                if not stat.S_ISREG(mode):
                    raise BackupError(f"{self.where}: {relative} is not a plain file")
                names.add(relative)
        return names

    def _tar_names(self) -> set[str]:
        try:
            self._tar = tarfile.open(self.source, "r:")  # noqa: SIM115 (closed by close())
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError) as exc:
            self.close()
            raise BackupError(f"{self.where}: not an uncompressed tar ({exc})") from None
        for member in members:
            if member.isdir():
                continue
            if not member.isreg():
                raise BackupError(f"{self.where}: {member.name} is not a plain file")
            if member.name in self._members:
                raise BackupError(f"{self.where}: {member.name} is in the tar twice")
            self._members[member.name] = member
        return set(self._members)

    @property
    def names(self) -> set[str]:
        return set(self._names)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if name not in self._names:
            raise BackupError(f"{self.where}: {name} is missing")
        if self._tar is not None:
            stream = self._tar.extractfile(self._members[name])
            assert stream is not None  # a regular member
            with stream:
                yield stream
        else:
            with (self.source / name).open("rb") as handle:
                yield handle

    def size(self, name: str) -> int:
        if self._tar is not None:
            return self._members[name].size
        return (self.source / name).stat().st_size

    def read_small(self, name: str) -> bytes:
        if self.size(name) > MAX_MANIFEST_BYTES:
            raise BackupError(f"{self.where}: {name} is too large to be a manifest")
        with self.open(name) as stream:
            return stream.read()

    def manifest(self) -> dict[str, Any]:
        """The manifest, once its own hash matches (files are not checked here)."""
        for name in (MANIFEST, MANIFEST_HASH):
            if name not in self._names:
                raise BackupError(
                    f"{self.where}: there is no {name}, so this is not a complete backup"
                )
        return parse(self.read_small(MANIFEST), self.read_small(MANIFEST_HASH), self.where)

    def check(self, manifest: dict[str, Any]) -> None:
        """Every file the manifest lists is there with its size and sha256, and no other."""
        listed = {entry["path"] for entry in manifest["files"]}
        extra = sorted(self._names - listed - {MANIFEST, MANIFEST_HASH})
        if extra:
            raise BackupError(f"{self.where}: {extra[0]} is not in the manifest")
        for entry in manifest["files"]:
            self.copy(entry, None)

    def copy(self, entry: dict[str, Any], target: Path | None, *, private: bool = False) -> None:
        """Hash a listed file (writing it to `target`, a new file, as it is read)."""
        name = entry["path"]
        with self.open(name) as stream:
            if target is None:
                same = matches(stream, entry)
            else:
                fd = os.open(
                    target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644
                )
                with os.fdopen(fd, "wb") as sink:
                    same = matches(stream, entry, sink)
                    sink.flush()
                    os.fsync(sink.fileno())
        if not same:
            raise BackupError(
                f"{self.where}: {name} does not match its sha256 in the manifest: the backup "
                "was changed or damaged"
            )

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()
            self._tar = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def verify_backup(source: Path) -> dict[str, Any]:
    """Check every hash of the backup at `source`; its manifest, or BackupError (one line)."""
    problem = ""
    try:
        with Reader(Path(source)) as reader:
            manifest = reader.manifest()
            reader.check(manifest)
            return manifest
    except tarfile.TarError as exc:
        problem = f"backup {source} is damaged (a truncated or broken tar): {exc}"
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        problem = f"cannot read the backup {source}: {exc.strerror or exc}{where}"
    raise BackupError(problem)  # outside the handler: the OS error is not chained to it
