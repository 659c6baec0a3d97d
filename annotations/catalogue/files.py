"""The store's content-addressed COG files: putting them in place and taking them away.

A COG is stored once, as `<store>/<sha256>.tif`, and every import of the same original
shares it. Two imports of the same file may run at once (two analysts, two processes, two
machines on one shared store), so a COG is only ever put in place or removed while the
store's lock is held, together with the catalogue rows that name it:

- an import puts its COGs in place and commits their rows under the lock;
- a failed import removes only the COGs that it put in place itself and that no committed
  row names, still under the lock.

The lock is an exclusive `flock` on the store folder itself (no lock file to leave behind):
it works between threads, between processes, and with either database. It is one lock for
the whole store, held only for the moves and the commit (milliseconds, never an ingest), so
batches never wait for each other in a circle.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import select

from annotations.catalogue.tables import Image
from annotations.db import Database

#: the folder beside the store that keeps press pictures as they were received, each under
#: its sha256 (annotator.georeference): evidence, never served, backed up with the COGs
ORIGINALS = "originals"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def originals_folder(store: Path) -> Path:
    """Where the originals of the store's press pictures are kept."""
    return store.parent / ORIGINALS


def kept_originals(store: Path) -> list[Path]:
    """The originals kept beside `store` (files named by a sha256), in name order."""
    folder = originals_folder(store)
    if not folder.is_dir():
        return []
    return sorted(
        Path(entry.path)
        for entry in os.scandir(folder)
        if _SHA256.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
    )


@contextlib.contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store's lock until the block ends."""
    store.mkdir(parents=True, exist_ok=True)
    handle = os.open(store, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the descriptor releases its lock


def put_in_place(cog: Path, final: Path) -> bool:
    """Move a freshly made COG to its place in the store (call under `locked`). When the
    same content is there already, the new copy is dropped and False returned."""
    if final.exists():
        cog.unlink(missing_ok=True)
        return False
    os.replace(cog, final)
    return True


def remove_unnamed(database: Database, paths: Iterable[Path]) -> list[Path]:
    """Remove the COGs among `paths` that no committed catalogue row names (call under
    `locked`, after the import's own transaction ended); returns those removed."""
    paths = list(paths)
    if not paths:
        return []
    with database.read() as session:
        named = set(
            session.scalars(
                select(Image.cog_name).where(Image.cog_name.in_([p.name for p in paths]))
            )
        )
    removed = [path for path in paths if path.name not in named]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
