"""Image chips for machine learning: fixed-size windows of a COG's own pixels, as PNG.

Chips are cut from the stored COG at full resolution, never resampled, on a grid with a
chosen overlap; the last row and column of chips are moved in to end at the image's edge,
so every chip has the full size (unless the image itself is smaller). Geometries given in
WGS 84 are placed in the image's pixel space through its CRS and geotransform: pixel
(0, 0) is the top-left corner of the top-left pixel, x runs along columns, y down rows.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterator
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


def grid_starts(extent: int, size: int, overlap: int) -> list[int]:
    """Where chips start along one axis of `extent` pixels; the last one ends at the edge."""
    check_chip_size(size, overlap)
    if extent <= size:
        return [0]
    return sorted({*range(0, extent - size, size - overlap), extent - size})


def chip_grid(width: int, height: int, size: int, overlap: int) -> list[ChipWindow]:
    """Windows of `size` pixels overlapping by `overlap`, covering the whole image."""
    return list(ChipPlan.every(width, height, size, overlap))


@dataclass(frozen=True)
class ChipPlan:
    """The chips an image will give, counted before any is cut: the whole grid, or only
    the windows that overlap given boxes (the annotations' pixel bounds). It holds the
    grid's start positions and, per row, runs of column indexes, never a window each."""

    width: int
    height: int
    size: int
    columns: list[int]
    rows: list[int]
    #: row index -> sorted, disjoint [first, last) column-index runs; None: every window
    runs: dict[int, list[tuple[int, int]]] | None

    @classmethod
    def every(cls, width: int, height: int, size: int, overlap: int) -> ChipPlan:
        return cls(
            width,
            height,
            size,
            grid_starts(width, size, overlap),
            grid_starts(height, size, overlap),
            None,
        )

    @classmethod
    def touching(
        cls,
        width: int,
        height: int,
        size: int,
        overlap: int,
        boxes: list[tuple[float, float, float, float]],
    ) -> ChipPlan:
        """The windows whose area overlaps one of `boxes` (minx, miny, maxx, maxy)."""
        plan = cls.every(width, height, size, overlap)
        wide, high = min(size, width), min(size, height)
        spans: dict[int, list[tuple[int, int]]] = {}
        for minx, miny, maxx, maxy in boxes:
            c0, c1 = _overlapping(plan.columns, wide, minx, maxx)
            r0, r1 = _overlapping(plan.rows, high, miny, maxy)
            if c0 >= c1:
                continue
            for row in range(r0, r1):
                spans.setdefault(row, []).append((c0, c1))
        runs = {row: _merge(found) for row, found in sorted(spans.items())}
        return cls(width, height, size, plan.columns, plan.rows, runs)

    def __len__(self) -> int:
        if self.runs is None:
            return len(self.columns) * len(self.rows)
        return sum(last - first for runs in self.runs.values() for first, last in runs)

    def __iter__(self) -> Iterator[ChipWindow]:
        wide, high = min(self.size, self.width), min(self.size, self.height)
        if self.runs is None:
            for row in self.rows:
                for column in self.columns:
                    yield ChipWindow(column, row, wide, high)
            return
        for row_index, runs in self.runs.items():
            for first, last in runs:
                for column_index in range(first, last):
                    yield ChipWindow(self.columns[column_index], self.rows[row_index], wide, high)


def _overlapping(starts: list[int], length: int, low: float, high: float) -> tuple[int, int]:
    """The indexes [first, last) of windows [start, start + length) overlapping (low, high)."""
    return bisect.bisect_right(starts, low - length), bisect.bisect_left(starts, high)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


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

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
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
