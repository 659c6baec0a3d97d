"""A site's area cut into a grid of cells, so that most annotations are placed inside or
outside it by a little arithmetic on their bounding box instead of a geometry test.

Each cell of a 64 x 64 grid over the area's bounds is known once (per area, cached) to lie
wholly inside the area, wholly outside it, or on its edge. An annotation whose bounding box
covers only inside cells meets the area; one that covers only outside cells does not; only
those touching an edge cell are tested exactly (shapely, on the prepared area). The grid
also gives a few rectangles wholly inside the area (`inner_rectangles`) and wholly outside
it (`outer_rectangles`), which the SQL of the site filter tests first, so that only rows
near the area's edge need a function call at all.

Cell bounds are computed the same way everywhere (`west + i * width`), and a box's cells are
found with a small margin, so rounding can only send a box to the exact test, never decide
it wrongly. This module imports nothing of the app: the database layer registers `meets_area`
as a SQLite function on every connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

#: cells along each side of the area's bounds
CELLS = 64
#: rectangles wholly inside the area given to SQL (one per band of rows of cells)
BANDS = 16
#: margin, in cells, when finding the cells a box covers (rounding sends a box to the exact
#: test rather than to a wrong answer)
_MARGIN = 1e-6
Rectangle = tuple[float, float, float, float]


def _summed(flags: np.ndarray) -> list[list[int]]:
    """The summed-area table of a rows x cols grid of 0/1, with a row and column of zeros
    in front: the count in rows r0..r1, cols c0..c1 is four look-ups."""
    table = np.zeros((flags.shape[0] + 1, flags.shape[1] + 1), dtype=np.int64)
    table[1:, 1:] = flags.astype(np.int64).cumsum(axis=0).cumsum(axis=1)
    return [[int(value) for value in row] for row in table]


def _count(table: list[list[int]], r0: int, r1: int, c0: int, c1: int) -> int:
    return table[r1 + 1][c1 + 1] - table[r0][c1 + 1] - table[r1 + 1][c0] + table[r0][c0]


@dataclass(frozen=True)
class AreaCells:
    area: BaseGeometry  # prepared
    west: float
    south: float
    width: float  # of a cell
    height: float
    inside: list[list[int]]  # summed-area tables
    outside: list[list[int]]
    rectangles: tuple[Rectangle, ...]  # wholly inside the area
    outer: tuple[Rectangle, ...]  # wholly outside it (within its bounds)

    def classify(self, west: float, south: float, east: float, north: float) -> int | None:
        """1 if a box lies within the area's inside cells, 0 if within its outside cells (or
        beyond its bounds), None when it touches an edge cell (test it exactly)."""
        c0 = math.floor((west - self.west) / self.width - _MARGIN)
        c1 = math.floor((east - self.west) / self.width + _MARGIN)
        r0 = math.floor((south - self.south) / self.height - _MARGIN)
        r1 = math.floor((north - self.south) / self.height + _MARGIN)
        if c1 < 0 or r1 < 0 or c0 >= CELLS or r0 >= CELLS:
            return 0  # wholly beyond the area's bounds
        beyond = c0 < 0 or r0 < 0 or c1 >= CELLS or r1 >= CELLS
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, CELLS - 1), min(r1, CELLS - 1)
        cells = (c1 - c0 + 1) * (r1 - r0 + 1)
        if not beyond and _count(self.inside, r0, r1, c0, c1) == cells:
            return 1
        if _count(self.outside, r0, r1, c0, c1) == cells:
            return 0
        return None


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """The runs of True: (first column, columns)."""
    runs, start = [], None
    for column, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = column
        elif not flag and start is not None:
            runs.append((start, column - start))
            start = None
    return runs


def _rectangles(
    flags: np.ndarray, west: float, south: float, width: float, height: float, *, edges: bool
) -> tuple[Rectangle, ...]:
    """Per band of rows, runs of columns whose cells are flagged in every row of the band:
    the longest run (`edges` False), or the runs touching the first and the last column."""
    found = []
    step = CELLS // BANDS
    for first in range(0, CELLS, step):
        band: list[bool] = np.all(flags[first : first + step], axis=0).tolist()
        runs = _runs(band)
        if edges:
            chosen = [run for run in runs if run[0] == 0 or run[0] + run[1] == CELLS]
        else:
            chosen = sorted(runs, key=lambda run: -run[1])[:1]
        found += [
            (
                west + start * width,
                south + first * height,
                west + (start + length) * width,
                south + (first + step) * height,
            )
            for start, length in chosen
        ]
    return tuple(found)


@lru_cache(maxsize=64)
def cells_of(area_geojson: str) -> AreaCells | None:
    """The area's cells (cached per area text), or None for an area with no width or height
    (every box is then tested exactly)."""
    area = shapely.from_geojson(area_geojson)
    shapely.prepare(area)
    west, south, east, north = area.bounds
    width, height = (east - west) / CELLS, (north - south) / CELLS
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        return None
    columns, rows = np.meshgrid(np.arange(CELLS), np.arange(CELLS))
    boxes = shapely.box(
        west + columns * width,
        south + rows * height,
        west + (columns + 1) * width,
        south + (rows + 1) * height,
    )
    inside = shapely.contains(area, boxes)  # rows x cols, row 0 in the south
    outside = ~shapely.intersects(area, boxes)
    grid = (west, south, width, height)
    return AreaCells(
        area,
        *grid,
        _summed(inside),
        _summed(outside),
        _rectangles(inside, *grid, edges=False),
        _rectangles(outside, *grid, edges=True),
    )


@lru_cache(maxsize=64)
def _prepared(area_geojson: str) -> BaseGeometry:
    area = shapely.from_geojson(area_geojson)
    shapely.prepare(area)
    return area


def inner_rectangles(area_geojson: str) -> tuple[Rectangle, ...]:
    """Rectangles wholly inside the area: a box within one of them meets the area."""
    cells = cells_of(area_geojson)
    return cells.rectangles if cells is not None else ()


def outer_rectangles(area_geojson: str) -> tuple[Rectangle, ...]:
    """Rectangles wholly outside the area (the corners of its bounds that it leaves empty):
    a box within one of them does not meet the area."""
    cells = cells_of(area_geojson)
    return cells.outer if cells is not None else ()


def meets_area(
    min_lon: float,
    min_lat: float,
    max_lon: float,
    max_lat: float,
    geometry_geojson: str,
    area_geojson: str,
) -> int:
    """1 if the geometry meets (intersects) the area, else 0: by the cells its bounding box
    covers when they decide it, else exactly (its box first, then the geometry itself)."""
    cells = cells_of(area_geojson)
    if cells is not None:
        known = cells.classify(min_lon, min_lat, max_lon, max_lat)
        if known is not None:
            return known
        area = cells.area
    else:
        area = _prepared(area_geojson)
    if min_lon < max_lon and min_lat < max_lat:
        box = shapely.box(min_lon, min_lat, max_lon, max_lat)
        if area.contains(box):
            return 1
        if not area.intersects(box):
            return 0
    elif min_lon == max_lon and min_lat == max_lat:
        return int(shapely.intersects_xy(area, min_lon, min_lat))
    return int(area.intersects(shapely.from_geojson(geometry_geojson)))
