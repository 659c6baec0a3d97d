"""How an image is shown: which bands, and the contrast stretch fixed at ingest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Display:
    """Band order (1-based) and, for non-8-bit data, a (low, high) stretch per band."""

    bands: tuple[int, ...]
    rescale: tuple[tuple[float, float], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bands": list(self.bands),
            "rescale": None if self.rescale is None else [list(r) for r in self.rescale],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Display:
        rescale = data.get("rescale")
        return cls(
            bands=tuple(int(b) for b in data["bands"]),
            rescale=None
            if rescale is None
            else tuple((float(lo), float(hi)) for lo, hi in rescale),
        )

    def key(self) -> str:
        """A stable text form, part of every tile's ETag."""
        return repr((self.bands, self.rescale))
