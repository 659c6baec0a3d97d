"""Where a backup's files go: a folder (COGs hard-linked when they can be) or an uncompressed
tar. Each `put` returns the manifest entry {path, size, sha256} of what was written."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any, Protocol

from annotations.backup.hashes import HashCache
from annotations.backup.manifest import CHUNK, sha256_stream

#: os.link's answers that mean "not here": another filesystem, or links not allowed
NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP})


class Writer(Protocol):
    def put_file(
        self, name: str, source: Path, *, cache: HashCache | None = None, private: bool = False
    ) -> dict[str, Any]: ...

    def put_bytes(self, name: str, data: bytes) -> None: ...

    def close(self) -> None: ...


def fsync_path(path: Path, *, folder: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(source: Path, target: Path) -> None:
    """Copy a key: mode 600 from the first byte."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as stream:
        shutil.copyfileobj(stream, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())


class FolderWriter:
    """Files in a folder; COGs hard-linked while the folder is on the store's filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.linking = True
        self.linked = 0
        self.copied = 0

    def put_file(
        self, name: str, source: Path, *, cache: HashCache | None = None, private: bool = False
    ) -> dict[str, Any]:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target != source:
            if private:
                write_private(source, target)
            else:
                self._link_or_copy(source, target)
        if cache is not None:
            size, digest = cache.sha256(source)
        else:
            with target.open("rb") as stream:
                size, digest = sha256_stream(stream)
        return {"path": name, "size": size, "sha256": digest}

    def _link_or_copy(self, source: Path, target: Path) -> None:
        if self.linking:
            try:
                os.link(source, target)
                self.linked += 1
                return
            except OSError as exc:
                if exc.errno not in NO_LINK:
                    raise
                self.linking = False  # another filesystem: copy this one and the rest
        shutil.copyfile(source, target)
        self.copied += 1

    def put_bytes(self, name: str, data: bytes) -> None:
        target = self.root / name
        with target.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def close(self) -> None:
        for folder in (self.root / "images", self.root / "keys", self.root):
            if folder.is_dir():
                fsync_path(folder, folder=True)


class _Hashing(io.RawIOBase):
    """A file read through up to `limit` bytes, hashing what tarfile copies into the archive."""

    def __init__(self, stream: io.BufferedReader, limit: int) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self.limit - self.size]
        count = self.stream.readinto(view) if len(view) else 0
        if count:
            self.digest.update(memoryview(buffer)[:count])
            self.size += count
        return count or 0


class TarWriter:
    """An uncompressed tar, each file hashed as it is copied in (the cache is not needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.copied = 0
        self.linked = 0
        # 1 MB copies: tarfile's own 16 kB ones are slow for 20 GB
        self.tar = tarfile.TarFile(path, "x", format=tarfile.PAX_FORMAT, copybufsize=CHUNK)

    def put_file(
        self, name: str, source: Path, *, cache: HashCache | None = None, private: bool = False
    ) -> dict[str, Any]:
        with source.open("rb") as stream:
            info = tarfile.TarInfo(name)
            stat = os.fstat(stream.fileno())
            info.size = stat.st_size
            info.mtime = int(stat.st_mtime)
            info.mode = 0o600 if private else 0o644
            hashing = _Hashing(stream, info.size)
            self.tar.addfile(info, io.BufferedReader(hashing, CHUNK))
        if name.startswith("images/"):
            self.copied += 1
        return {"path": name, "size": hashing.size, "sha256": hashing.digest.hexdigest()}

    def put_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(time.time())
        info.mode = 0o644
        self.tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()
        fsync_path(self.path)
