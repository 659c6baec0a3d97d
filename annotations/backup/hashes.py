"""A cache of the image store's sha256s, so a second backup does not re-read every COG.

Kept in DATA_DIR/cache/store-hashes.json (the cache folder is never backed up), keyed by file
name with the file's size, mtime_ns and inode: a file is hashed again whenever any of them
changed. COGs are written once and never changed in place, so this is safe; restore and
verify never use it (they hash everything).

Ingest records each new COG's hash here as it stores it (`record`), while the file is still
in the page cache, so even the first backup after an ingest reads no COG again. Several
processes may write the cache at once (server workers ingesting, a backup): each saves under
an exclusive lock and merges with what is on disk, so no one's entries are lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from annotations.backup.manifest import sha256_stream

FILENAME = "store-hashes.json"
VERSION = 1


def cache_path(data_dir: Path) -> Path:
    """Where the data folder keeps its image store's hash cache."""
    return data_dir / "cache" / FILENAME


class HashCache:
    """sha256 by file name, remembered with the stat it was computed for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[int | str]] = {}
        self.hashed = 0  # files read this time (cache misses)
        self._dirty = False
        self._forgotten: set[str] = set()
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("version") == VERSION and isinstance(document["files"], dict):
                self.entries = document["files"]

    def sha256(self, file: Path) -> tuple[int, str]:
        """The size and sha256 of `file`: from the cache when its stat is unchanged."""
        before = file.stat()
        stamp: list[int | str] = [before.st_size, before.st_mtime_ns, before.st_ino]
        entry = self.entries.get(file.name)
        if isinstance(entry, list) and len(entry) == 4 and entry[:3] == stamp:
            return before.st_size, str(entry[3])
        with file.open("rb") as stream:
            size, digest = sha256_stream(stream)
        self.hashed += 1
        after = file.stat()
        if [after.st_size, after.st_mtime_ns, after.st_ino] == stamp == [size, *stamp[1:]]:
            self.entries[file.name] = [*stamp, digest]
            self._dirty = True
        return size, digest

    def forget_except(self, names: set[str]) -> None:
        """Drop entries for files no longer in the store."""
        for name in set(self.entries) - names:
            del self.entries[name]
            self._forgotten.add(name)
            self._dirty = True

    def save(self) -> None:
        """Merge into the cache on disk and write it (best effort: a cache that cannot be
        written only makes the next backup slower)."""
        if not self._dirty:
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.with_name(f".{self.path.name}.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                on_disk = HashCache(self.path).entries
                merged = {**on_disk, **self.entries}
                for name in self._forgotten:
                    merged.pop(name, None)
                tmp.write_text(json.dumps({"version": VERSION, "files": merged}), "utf-8")
                os.replace(tmp, self.path)
            self.entries = merged
            self._dirty = False
        except OSError:
            tmp.unlink(missing_ok=True)


def record(path: Path, file: Path) -> str:
    """Hash `file` (a COG just stored) into the cache at `path`; returns its sha256."""
    cache = HashCache(path)
    cache.entries.pop(file.name, None)
    _, digest = cache.sha256(file)
    cache.save()
    return digest
