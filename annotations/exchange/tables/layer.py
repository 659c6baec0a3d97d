"""One layer of a file as read: geometries (WKB), field values column by column, its CRS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the CRS of lon/lat coordinates (longitude first), for files that have no CRS of their own
LON_LAT = "OGC:CRS84"


@dataclass
class Layer:
    """`wkb` holds None where a feature has no geometry; `faults` says, by position, why a
    feature's geometry could not be read at all (text that is no WKT, a longitude that is
    no number); `crs` None means the file does not say."""

    name: str
    fids: np.ndarray
    wkb: np.ndarray | None
    fields: list[str]
    values: list[np.ndarray]
    crs: str | None
    faults: dict[int, str] = field(default_factory=dict)


def objects(items: list[Any]) -> np.ndarray:
    """A one-dimensional object array of `items` (never a 2-D one of nested lists)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
