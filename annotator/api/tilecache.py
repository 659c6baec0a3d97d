"""What a tile request needs without touching the database or the disk twice.

Image rows are immutable once catalogued (the COG is content-addressed and the display
stretch is fixed at ingest), so each worker may remember them; rendered tiles are kept
in a byte-bounded LRU so a repeated tile costs a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from imagery.tiles import TileSource


@dataclass(frozen=True)
class TiledImage:
    image_id: str
    sha256: str
    source: TileSource
    name: str
    attribution: str | None


class TileBytesCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)


class ImageLookup:
    """image id -> TiledImage, remembered per worker."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._items: dict[str, TiledImage] = {}
        self._lock = threading.Lock()

    def get(self, image_id: str) -> TiledImage | None:
        return self._items.get(image_id)

    def put(self, item: TiledImage) -> None:
        with self._lock:
            if len(self._items) >= self.limit:
                self._items.clear()
            self._items[item.image_id] = item
