"""Image chips for machine learning: fixed-size windows of a COG's own pixels, as PNG.

Chips are cut from the stored COG at full resolution, never resampled, on a grid with a
chosen overlap; the last row and column of chips are moved in to end at the image's edge,
so every chip has the full size (unless the image itself is smaller). Geometries given in
WGS 84 are placed in the image's pixel space through its CRS and geotransform: pixel
(0, 0) is the top-left corner of the top-left pixel, x runs along columns, y down rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from imagery.display import Display
from imagery.errors import UnreadableImage
from imagery.tiles import encode, finite_mask, to_rgb8

MIN_CHIP = 32
MAX_CHIP = 4096


@dataclass(frozen=True)
class ChipWindow:
    """A chip's place in the image, in pixels."""

    column: int
    row: int
    width: int
    height: int

    @property
    def box(self) -> BaseGeometry:
        return shapely.box(self.column, self.row, self.column + self.width, self.row + self.height)

    def name(self, prefix: str) -> str:
        return f"{prefix}_r{self.row}_c{self.column}"


def check_chip_size(size: int, overlap: int) -> None:
    if not MIN_CHIP <= size <= MAX_CHIP:
        raise ValueError(f"the chip size must be from {MIN_CHIP} to {MAX_CHIP} pixels")
    if not 0 <= overlap <= size // 2:
        raise ValueError("the overlap must be at least 0 and at most half the chip size")


def chip_grid(width: int, height: int, size: int, overlap: int) -> list[ChipWindow]:
    """Windows of `size` pixels overlapping by `overlap`, covering the whole image."""
    check_chip_size(size, overlap)
    stride = size - overlap

    def starts(extent: int) -> list[int]:
        if extent <= size:
            return [0]
        found = list(range(0, extent - size, stride))
        return sorted({*found, extent - size})

    return [
        ChipWindow(column, row, min(size, width), min(size, height))
        for row in starts(height)
        for column in starts(width)
    ]


class ChipSource:
    """An open COG that cuts chips and places WGS 84 geometries in its pixel space."""

    def __init__(self, path: Path, display: Display) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self.dataset = rasterio.open(path, driver="GTiff")
        except rasterio.errors.RasterioIOError as exc:
            raise UnreadableImage(f"the stored image {path.name} cannot be read: {exc}") from exc
        self.display = display
        self.width = int(self.dataset.width)
        self.height = int(self.dataset.height)
        inverse = ~self.dataset.transform
        self._affine = [inverse.a, inverse.b, inverse.d, inverse.e, inverse.c, inverse.f]
        self._from_wgs84 = Transformer.from_crs("OGC:CRS84", self.dataset.crs, always_xy=True)

    def __enter__(self) -> ChipSource:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self.dataset.close()

    def to_pixels(self, geometry: BaseGeometry) -> BaseGeometry:
        """A WGS 84 geometry in this image's pixel space (column, row)."""

        def project(xy: Any) -> Any:
            x, y = self._from_wgs84.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        in_crs = shapely.transform(geometry, project)
        return affinity.affine_transform(in_crs, self._affine)

    def png(self, window: ChipWindow) -> bytes:
        """The chip as an 8-bit PNG with the stored display; transparent where masked."""
        area = Window(window.column, window.row, window.width, window.height)
        bands = self.dataset.read(indexes=list(self.display.bands), window=area)
        mask = self.dataset.dataset_mask(window=area)
        return encode(to_rgb8(bands, self.display), finite_mask(bands, mask), "png")
