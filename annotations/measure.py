"""Measurements of an annotation on the ellipsoid (pyproj's Geod), never in degrees.

A box or polygon is measured by its minimum rotated rectangle: the long side is the
length, the short side the width, which for an aircraft boxed nose to tail and wing tip
to wing tip are its length and span in some order.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Proj
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Measurements:
    length_m: float | None = None
    width_m: float | None = None
    area_m2: float | None = None
    perimeter_m: float | None = None
    heading_deg: float | None = None
    #: the RMSE of the image's placement (imagery.georef.placement): each figure above may be
    #: off by about this much; absent for an image placed exactly
    placement_error_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def measure(geometry: BaseGeometry) -> Measurements:
    if geometry.is_empty or isinstance(geometry, shapely.Point | shapely.MultiPoint):
        return Measurements()
    if isinstance(geometry, shapely.LineString | shapely.MultiLineString):
        return Measurements(length_m=round(GEOD.geometry_length(geometry), 2))
    area, perimeter = GEOD.geometry_area_perimeter(geometry)
    length, width, heading = rectangle_sides(geometry)
    return Measurements(
        length_m=round(length, 2),
        width_m=round(width, 2),
        area_m2=round(abs(area), 1),
        perimeter_m=round(perimeter, 2),
        heading_deg=round(heading, 1),
    )


def rectangle_sides(geometry: BaseGeometry) -> tuple[float, float, float]:
    """(long side m, short side m, azimuth of the long side 0-180 deg) of the minimum
    rotated rectangle, found in a local equidistant plane and measured geodesically."""
    centre = geometry.centroid
    local = _local_plane(round(centre.x, 1), round(centre.y, 1))
    flat = shapely.transform(geometry, lambda xy: np.column_stack(local(xy[:, 0], xy[:, 1])))
    rectangle = shapely.minimum_rotated_rectangle(flat)
    if not isinstance(rectangle, shapely.Polygon):  # a degenerate (collinear) shape
        return 0.0, 0.0, 0.0
    corners = list(
        shapely.transform(
            rectangle, lambda xy: np.column_stack(local(xy[:, 0], xy[:, 1], inverse=True))
        ).exterior.coords
    )
    sides = []
    for (lon1, lat1), (lon2, lat2) in (corners[0:2], corners[1:3]):
        azimuth, _, distance = GEOD.inv(lon1, lat1, lon2, lat2)
        sides.append((distance, azimuth % 180.0))
    (first, first_az), (second, second_az) = sides
    if first >= second:
        return first, second, first_az
    return second, first, second_az


@functools.lru_cache(maxsize=1024)
def _local_plane(lon: float, lat: float) -> Proj:
    """An azimuthal equidistant plane centred within 0.05 degrees of the shape: its scale
    error there is below 1e-6, and one plane serves every shape nearby (making a Proj costs
    about 1 ms, more than the rest of a measurement; a Transformer ~7 ms)."""
    return Proj(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")


def with_placement_error(text: str, error_m: float | None) -> str:
    """Measurements' JSON text (as `json.dumps(Measurements.to_dict())` writes it) with the
    image's placement error added; unchanged when there is none."""
    if error_m is None:
        return text
    entry = f'"placement_error_m": {float(error_m)!r}}}'
    return text[:-1] + (", " if text.strip() != "{}" else "") + entry


def box_polygon(
    lon: float, lat: float, length_m: float, width_m: float, heading_deg: float
) -> shapely.Polygon:
    """A rectangle centred on lon/lat with its long axis along `heading_deg` (for tests
    and the demo's reference annotations)."""
    half_l, half_w = length_m / 2, width_m / 2
    points = []
    for along, across in (
        (half_l, half_w),
        (-half_l, half_w),
        (-half_l, -half_w),
        (half_l, -half_w),
    ):
        lon1, lat1, _ = GEOD.fwd(lon, lat, heading_deg, along)
        azimuth = heading_deg + (90 if across > 0 else -90)
        lon2, lat2, _ = GEOD.fwd(lon1, lat1, azimuth, abs(across))
        points.append((lon2, lat2))
    ring = [*points, points[0]]
    polygon = shapely.Polygon(ring)
    return polygon if polygon.exterior.is_ccw else shapely.Polygon(ring[::-1])


# ---- many at once (imports) ------------------------------------------------------------------

_POLYGON, _LINE = 3, 1


def measurement_texts(geometries: np.ndarray) -> list[str]:
    """`json.dumps(measure(g).to_dict())` of each geometry, the same text to the last digit,
    with the work done on arrays: polygons' rectangles in one call per local plane, their
    sides in one geodesic call. Multi-part and other geometries are measured one by one."""
    texts = [""] * len(geometries)
    kinds = shapely.get_type_id(geometries)
    polygons = np.flatnonzero(kinds == _POLYGON)
    lines = np.flatnonzero(kinds == _LINE)
    for position in np.flatnonzero((kinds != _POLYGON) & (kinds != _LINE)).tolist():
        texts[position] = json.dumps(measure(geometries[position]).to_dict())
    if lines.size:
        coords, offsets = _coordinates(geometries[lines])
        for position, start, end in zip(lines.tolist(), offsets[:-1], offsets[1:], strict=True):
            length = GEOD.line_length(coords[start:end, 0], coords[start:end, 1])
            texts[position] = json.dumps({"length_m": round(length, 2)})
    if polygons.size:
        shapes = geometries[polygons]
        areas, perimeters = _areas_perimeters(shapes)
        long_, short, heading = rectangle_sides_many(shapes)
        columns = (
            rounded(long_, 2),
            rounded(short, 2),
            rounded(np.abs(areas), 1),
            rounded(perimeters, 2),
            rounded(heading, 1),
        )
        finite = np.isfinite(np.stack([long_, short, areas, perimeters, heading])).all(axis=0)
        for position, ok, *values in zip(polygons.tolist(), finite.tolist(), *columns, strict=True):
            texts[position] = (
                _POLYGON_TEXT % tuple(values)
                if ok
                else json.dumps(dict(zip(_POLYGON_NAMES, values, strict=True)))
            )
    return texts


_POLYGON_NAMES = ("length_m", "width_m", "area_m2", "perimeter_m", "heading_deg")
#: json.dumps of the measurements of a polygon (json writes a float as its repr)
_POLYGON_TEXT = "{" + ", ".join(f'"{name}": %r' for name in _POLYGON_NAMES) + "}"


def rounded(values: np.ndarray, digits: int) -> list[float]:
    """`[round(v, digits) for v in values]`, the same floats, mostly on arrays: the nearest
    whole number of 10**-digits, divided back (IEEE division rounds correctly, as Python's
    round does); values within reach of a tie, huge or not finite go through round()."""
    scale = 10.0**digits
    scaled = values * scale
    result: list[float] = (np.round(scaled) / scale).tolist()
    with np.errstate(invalid="ignore"):
        near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        risky = near_tie | ~(np.abs(scaled) < 1e12)
    plain = values.tolist()
    for position in np.flatnonzero(risky).tolist():
        result[position] = round(plain[position], digits)
    return result


def _coordinates(geometries: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """All coordinates, and where each geometry's begin (and the last one ends)."""
    coords = shapely.get_coordinates(geometries)
    counts = shapely.get_num_coordinates(geometries)
    return coords, [0, *np.cumsum(counts).tolist()]


def _areas_perimeters(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GEOD.geometry_area_perimeter of each polygon: the exterior's area and perimeter,
    each hole's (signed) area added."""
    rings, owner = shapely.get_rings(polygons, return_index=True)
    coords, offsets = _coordinates(rings)
    lons, lats = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    areas = [0.0] * len(polygons)
    perimeters = [0.0] * len(polygons)
    seen = -1
    # the method Geod.polygon_area_perimeter calls once it has copied its arguments into
    # buffers (these slices are buffers already): a third of the time per polygon
    area_perimeter = getattr(GEOD, "_polygon_area_perimeter", None)
    for polygon, start, end in zip(owner.tolist(), offsets[:-1], offsets[1:], strict=True):
        if area_perimeter is not None:
            area, perimeter = area_perimeter(lons[start:end], lats[start:end], radians=False)
        else:
            area, perimeter = GEOD.polygon_area_perimeter(lons[start:end], lats[start:end])
        if polygon != seen:  # its exterior comes first
            areas[polygon], perimeters[polygon], seen = area, perimeter, polygon
        else:
            areas[polygon] += area
    return np.asarray(areas), np.asarray(perimeters)


def _flatten(local: Proj, xy: np.ndarray) -> np.ndarray:
    return np.column_stack(local(xy[:, 0], xy[:, 1]))


def rectangle_sides_many(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rectangle_sides` of each polygon, on arrays: (long sides, short sides, azimuths)."""
    count = len(polygons)
    centres = shapely.centroid(polygons)
    planes: dict[tuple[float, float], list[int]] = {}
    xs, ys = rounded(shapely.get_x(centres), 1), rounded(shapely.get_y(centres), 1)
    for position, key in enumerate(zip(xs, ys, strict=True)):
        planes.setdefault(key, []).append(position)
    corners = np.zeros((count, 3, 2))
    flat_ok = np.zeros(count, dtype=bool)
    for (lon, lat), members in planes.items():
        local = _local_plane(lon, lat)
        flat = shapely.transform(polygons[members], functools.partial(_flatten, local))
        rectangles = shapely.minimum_rotated_rectangle(flat)
        ok = shapely.get_type_id(rectangles) == _POLYGON
        chosen = np.asarray(members)[ok]
        if not chosen.size:
            continue
        coords, offsets = _coordinates(shapely.get_exterior_ring(rectangles[ok]))
        first = np.asarray(offsets[:-1])
        picked = coords[np.concatenate([first, first + 1, first + 2])]
        lons, lats = local(picked[:, 0], picked[:, 1], inverse=True)
        corners[chosen] = np.stack([lons, lats], axis=1).reshape(3, -1, 2).transpose(1, 0, 2)
        flat_ok[chosen] = True
    azimuth_a, _, side_a = GEOD.inv(
        corners[:, 0, 0], corners[:, 0, 1], corners[:, 1, 0], corners[:, 1, 1]
    )
    azimuth_b, _, side_b = GEOD.inv(
        corners[:, 1, 0], corners[:, 1, 1], corners[:, 2, 0], corners[:, 2, 1]
    )
    azimuth_a, azimuth_b = np.mod(azimuth_a, 180.0), np.mod(azimuth_b, 180.0)
    first_longer = side_a >= side_b
    long_ = np.where(first_longer, side_a, side_b)
    short = np.where(first_longer, side_b, side_a)
    heading = np.where(first_longer, azimuth_a, azimuth_b)
    return (
        np.where(flat_ok, long_, 0.0),
        np.where(flat_ok, short, 0.0),
        np.where(flat_ok, heading, 0.0),
    )
