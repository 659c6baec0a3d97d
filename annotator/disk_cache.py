"""A bounded cache of files on disk, shared by every worker and thread.

For outputs that never change once made and cost seconds to make (a publication's figure at a
given size, its evidence bundle). Each entry is written to a temporary file beside it and
renamed into place, so a reader sees no entry or the whole of it. Whoever makes an entry holds a
lock (one of a few lock files, by the entry's name) while it does, so concurrent requests for the
same thing make it once and the others wait and read it. When the folder holds more than its
bound, the entries used longest ago go (each read touches its entry).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS = 64
#: a temporary file older than this was left by a killed worker
STALE_TMP_S = 3600.0


class DiskCache:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def path(self, name: str) -> Path:
        if not name or name.startswith(".") or "/" in name or "\x00" in name:
            raise ValueError(f"not a cache entry name: {name!r}")
        return self.folder / name

    def get(self, name: str) -> bytes | None:
        path = self.path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        with contextlib.suppress(FileNotFoundError):  # evicted since; what was read is whole
            os.utime(path)  # used now: the last to be evicted
        return data

    def put(self, name: str, data: bytes) -> bool:
        """Keep `data` as `name` (atomically); False if it is larger than the whole bound."""
        if len(data) > self.max_bytes:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path(name))  # atomic on one file system
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.evict()
        return True

    def get_or_make(self, name: str, make: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The entry's bytes, and whether they came from the cache (made and kept otherwise)."""
        found = self.get(name)
        if found is not None:
            return found, True
        with self._lock(name):
            found = self.get(name)  # made by whoever held the lock before us
            if found is not None:
                return found, True
            data = make()
            self.put(name, data)
            return data, False

    def evict(self) -> None:
        """Remove the entries used longest ago until the folder is within its bound."""
        entries = []
        now = time.time()
        for entry in os.scandir(self.folder):
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.name.startswith(".tmp-"):
                if now - stat.st_mtime > STALE_TMP_S:
                    Path(entry.path).unlink(missing_ok=True)
                continue
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            entries.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        stripe = int(hashlib.sha256(name.encode()).hexdigest(), 16) % LOCKS
        fd = os.open(self.folder / f".lock-{stripe}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
