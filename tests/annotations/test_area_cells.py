"""The site filter's cells answer as shapely does: every box and geometry near an area's edge,
inside it, outside it, across its bounds, on a cell's border; and the inner rectangles lie
wholly inside the area."""

from __future__ import annotations

import json
import random

import shapely
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from annotations.catalogue.area_cells import (
    CELLS,
    cells_of,
    inner_rectangles,
    meets_area,
    outer_rectangles,
)

CIRCLE = Point(36.02, 35.02).buffer(0.018, quad_segs=18)
#: a concave area (a U) with a hole: inner rectangles must keep out of both
HOLLOW = Polygon(
    [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)],
    holes=[[(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]],
)


def _shapes(area: BaseGeometry, rng: random.Random, count: int) -> list[BaseGeometry]:
    west, south, east, north = area.bounds
    pad_x, pad_y = (east - west) * 0.2, (north - south) * 0.2
    cell_x, cell_y = (east - west) / CELLS, (north - south) / CELLS
    found: list[BaseGeometry] = []
    for index in range(count):
        x = rng.uniform(west - pad_x, east + pad_x)
        y = rng.uniform(south - pad_y, north + pad_y)
        if index % 7 == 0:  # on a cell's border exactly
            x = west + rng.randrange(-2, CELLS + 2) * cell_x
        if index % 5 == 0:
            y = south + rng.randrange(-2, CELLS + 2) * cell_y
        size = rng.choice([0.0, cell_x * 0.3, cell_x * 2, (east - west) * 0.4])
        kind = index % 4
        if kind == 0 or size == 0:
            found.append(Point(x, y))
        elif kind == 1:
            found.append(box(x, y, x + size, y + size * 0.7))
        elif kind == 2:  # a thin diagonal line: its box is far larger than itself
            found.append(shapely.LineString([(x, y), (x + size, y + size)]))
        else:
            found.append(shapely.LineString([(x, y), (x + size, y)]))  # a flat box
    return found


def _check(area: BaseGeometry, count: int) -> None:
    text = json.dumps(area.__geo_interface__)
    rng = random.Random(11)
    shapes = _shapes(area, rng, count)
    expected = shapely.intersects(area, shapes)
    for shape, want in zip(shapes, expected, strict=True):
        west, south, east, north = shape.bounds
        got = meets_area(west, south, east, north, json.dumps(shape.__geo_interface__), text)
        assert got == int(want), (shape.wkt, want)


def test_cells_answer_as_shapely_on_a_circle() -> None:
    _check(CIRCLE, 2500)


def test_cells_answer_as_shapely_on_a_concave_area_with_a_hole() -> None:
    _check(HOLLOW, 2500)


def test_the_cells_decide_most_boxes_near_a_circle() -> None:
    """The point of the cells: few boxes are left to shapely (those on the edge band)."""
    cells = cells_of(json.dumps(CIRCLE.__geo_interface__))
    assert cells is not None
    rng = random.Random(3)
    west, south, east, north = CIRCLE.bounds
    undecided = 0
    for _ in range(2000):
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        undecided += cells.classify(x, y, x + 0.0002, y + 0.0002) is None
    assert undecided < 200


def test_inner_rectangles_lie_inside_the_area_and_outer_ones_outside() -> None:
    for area in (CIRCLE, HOLLOW):
        rectangles = inner_rectangles(json.dumps(area.__geo_interface__))
        assert rectangles
        for rectangle in rectangles:
            assert area.contains(box(*rectangle)), rectangle
        for rectangle in outer_rectangles(json.dumps(area.__geo_interface__)):
            assert not area.intersects(box(*rectangle)), rectangle
    assert len(outer_rectangles(json.dumps(CIRCLE.__geo_interface__))) >= 16  # its corners
    covered = shapely.union_all(
        [box(*r) for r in inner_rectangles(json.dumps(CIRCLE.__geo_interface__))]
    )
    assert covered.area > 0.75 * CIRCLE.area


def test_an_area_with_no_width_is_tested_exactly() -> None:
    line = shapely.LineString([(1, 1), (1, 2)])
    text = json.dumps(line.__geo_interface__)
    assert cells_of(text) is None
    assert inner_rectangles(text) == outer_rectangles(text) == ()
    assert (
        meets_area(
            0.5, 1.5, 1.5, 1.5, '{"type":"LineString","coordinates":[[0.5,1.5],[1.5,1.5]]}', text
        )
        == 1
    )
    assert meets_area(2, 2, 3, 3, '{"type":"LineString","coordinates":[[2,2],[3,3]]}', text) == 0
