"""A private file (a key) made once, whichever of several processes gets there first."""

from __future__ import annotations

import os
from pathlib import Path


def create_once(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 600) unless it exists; when processes race, the first
    one's file stays and the others' are dropped, so every process reads the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
