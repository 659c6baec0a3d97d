"""A file checked on the import page, held on the server until the analyst imports it, so
Import after Check needs no second choice of the same file (a browser forgets a file input's
choice when the page comes back).

Each hold is a folder `<root>/<token>/` (the root is shared by every worker process, since
the Import may reach another worker than the Check did) holding the file, the label map
given with it and `hold.json` (owner, name, when). A hold is the user's own: another user's
token finds nothing. A user has one hold at a time (a new Check replaces it), a hold lasts
`LIFETIME_S`, an Import that made its annotations removes it, and every store sweeps the
expired ones, so nothing piles up.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from annotations.exchange.safety import stage

LIFETIME_S = 3600.0
_TOKEN = re.compile(r"[0-9a-f]{32}")
_META = "hold.json"
_FILE = "file"
_LABEL_MAP = "label_map"


@dataclass(frozen=True)
class Held:
    """One held upload: its token, the name it came with, its size, and where it is."""

    token: str
    name: str
    size: int
    folder: Path
    label_map: bytes

    @property
    def path(self) -> Path:
        return self.folder / _FILE


class Holds:
    """The held uploads under `root` (created when first needed)."""

    def __init__(self, root: Path, lifetime_s: float = LIFETIME_S) -> None:
        self.root = root
        self.lifetime_s = lifetime_s

    def store(
        self, owner: str, name: str, stream: IO[bytes], label_map: bytes, max_bytes: int
    ) -> Held:
        """Hold what `stream` holds for `owner` (replacing their earlier hold)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep(owner)
        token = secrets.token_hex(16)
        partial = self.root / f".{token}.partial"
        partial.mkdir()
        try:
            size = stage(stream, partial, _FILE, max_bytes, shown=name).size
            (partial / _LABEL_MAP).write_bytes(label_map)
            meta = {"owner": owner, "name": name, "size": size, "at": time.time()}
            (partial / _META).write_text(json.dumps(meta), encoding="utf-8")
            partial.rename(self.root / token)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return Held(token, name, size, self.root / token, label_map)

    def get(self, owner: str, token: str) -> Held | None:
        """`owner`'s hold `token`, or None (unknown, another user's, or expired)."""
        if not _TOKEN.fullmatch(token):
            return None
        folder = self.root / token
        meta = _meta(folder)
        if meta is None or meta.get("owner") != owner or self._expired(meta):
            return None
        try:
            label_map = (folder / _LABEL_MAP).read_bytes()
        except OSError:
            return None
        size = meta.get("size")
        return Held(
            token, str(meta["name"]), size if isinstance(size, int) else 0, folder, label_map
        )

    def drop(self, held: Held) -> None:
        shutil.rmtree(held.folder, ignore_errors=True)

    def _expired(self, meta: dict[str, object]) -> bool:
        at = meta.get("at")
        return not isinstance(at, int | float) or time.time() - at > self.lifetime_s

    def _sweep(self, owner: str) -> None:
        """Remove the expired holds, `owner`'s own earlier one, and partial leftovers."""
        for folder in self.root.iterdir():
            if folder.name.endswith(".partial"):
                if time.time() - folder.stat().st_mtime > self.lifetime_s:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            meta = _meta(folder)
            if meta is None or meta.get("owner") == owner or self._expired(meta):
                shutil.rmtree(folder, ignore_errors=True)


def _meta(folder: Path) -> dict[str, object] | None:
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None
