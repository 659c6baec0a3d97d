"""Colour tables (palette GeoTIFFs) and the stretch of data too low to see.

A palette image's band holds indices into its colour table, kept in the stored COG by
rio-cogeo; tiles and thumbnails look each index up, so the image shows in its own colours,
and an entry with alpha 0 is transparent. An 8-bit band whose values all fit in a few
bits (1-bit masks, 0..15 classes) would render black without a stretch to its bit depth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import rasterio
from rasterio.enums import ColorInterp

#: An 8-bit band whose largest value is below this is stretched to its bit depth.
LOW_RANGE = 32


def palette(dataset: rasterio.DatasetReader) -> np.ndarray[Any, Any] | None:
    """The colour table of band 1 as an (entries x 4) uint8 RGBA lookup, or None."""
    if dataset.colorinterp[0] != ColorInterp.palette:
        return None
    try:
        table = dataset.colormap(1)
    except ValueError:  # colour interpretation says palette, but no table is stored
        return None
    if not table:
        return None
    size = 256 if dataset.dtypes[0] == "uint8" else max(table) + 1
    lookup = np.zeros((size, 4), dtype=np.uint8)
    for index, rgba in table.items():
        if 0 <= index < size:
            lookup[index] = rgba
    return lookup


def apply_palette(
    lookup: np.ndarray[Any, Any], indices: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(3 x H x W uint8 RGB, H x W 0/255 mask): each index's colour; indices past the table
    and entries with alpha 0 transparent."""
    index = np.asarray(indices).astype(np.int64)
    outside = (index < 0) | (index >= len(lookup))
    rgba = lookup[np.clip(index, 0, len(lookup) - 1)]
    visible = (mask != 0) & ~outside & (rgba[..., 3] > 0)
    return np.moveaxis(rgba[..., :3], -1, 0), visible.astype(np.uint8) * np.uint8(255)


def low_range_stretch(
    dataset: rasterio.DatasetReader, bands: tuple[int, ...], sample: np.ndarray[Any, Any]
) -> tuple[tuple[float, float], ...] | None:
    """For 8-bit bands whose values all lie below LOW_RANGE, a stretch of each band from 0
    to the top of its bit depth (0..1 for 1-bit data, 0..15 for 4-bit); None otherwise, and
    for a palette band (its indices are looked up, not stretched). `sample` is a masked
    read of `bands`."""
    if palette(dataset) is not None:
        return None
    tops = []
    for band in sample:
        valid = band.compressed()
        tops.append(int(valid.max()) if valid.size else 0)
    if not tops or max(tops) >= LOW_RANGE:
        return None
    return tuple((0.0, float((1 << max(1, top.bit_length())) - 1)) for top in tops)
