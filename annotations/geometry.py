"""GeoJSON geometries of annotations: strict RFC 7946 input, checked before shapely sees it.

Nothing is repaired silently: a self-intersecting polygon or an open ring is refused with
the place where it is wrong. The one change made on the way in is the one RFC 7946 asks
for: exterior rings counter-clockwise, holes clockwise. Coordinates keep 7 decimals.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from annotations.errors import InvalidInput, Malformed

MAX_VERTICES = 10_000
PRECISION = 7
#: GeoJSON type -> nesting depth of its "coordinates" (0 = one position)
DEPTHS = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def parse_geometry(data: Any) -> BaseGeometry:
    """A validated shapely geometry from a GeoJSON geometry object (WGS 84 lon/lat)."""
    if not isinstance(data, dict):
        raise Malformed("'geometry' must be a GeoJSON geometry object")
    kind = data.get("type")
    if kind not in DEPTHS:
        known = ", ".join(DEPTHS)
        raise Malformed(f"geometry type {kind!r} is not supported; use one of {known}")
    if "crs" in data:
        raise InvalidInput(
            "the geometry carries a 'crs' member; send RFC 7946 WGS 84 lon/lat without it",
            details={"where": "geometry.crs"},
        )
    coordinates: Any = data.get("coordinates")
    counter = [0]
    _check_nesting(coordinates, DEPTHS[kind], "geometry.coordinates", counter)
    if kind in ("Polygon", "MultiPolygon"):
        polygons = [coordinates] if kind == "Polygon" else coordinates
        for p, rings in enumerate(polygons):
            prefix = "geometry.coordinates" + ("" if kind == "Polygon" else f"[{p}]")
            for r, ring in enumerate(rings):
                _check_ring(ring, f"{prefix}[{r}]")
            if not rings:
                raise InvalidInput(f"{prefix} has no rings", details={"where": prefix})
    if kind == "LineString" and len(coordinates) < 2:
        raise InvalidInput("a LineString needs at least 2 positions")
    geometry = shape({"type": kind, "coordinates": coordinates})
    if geometry.is_empty:
        raise InvalidInput("the geometry is empty")
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise InvalidInput(
            f"the {kind} is not valid: {reason}; fix the shape (it is not repaired for you)",
            details={"where": "geometry", "reason": reason},
        )
    return normalise(geometry)


def normalise(geometry: BaseGeometry) -> BaseGeometry:
    """RFC 7946 winding (exterior counter-clockwise) and 7-decimal coordinates."""
    geometry = shapely.set_precision(geometry, 10**-PRECISION, mode="pointwise")
    if isinstance(geometry, shapely.Polygon):
        return orient(geometry, sign=1.0)
    if isinstance(geometry, shapely.MultiPolygon):
        return shapely.MultiPolygon([orient(p, sign=1.0) for p in geometry.geoms])
    return geometry


def _check_nesting(value: Any, depth: int, where: str, counter: list[int]) -> None:
    if depth == 0:
        _check_position(value, where)
        counter[0] += 1
        if counter[0] > MAX_VERTICES:
            raise InvalidInput(
                f"the geometry has more than {MAX_VERTICES:,} vertices; simplify it",
                details={"where": where, "limit": MAX_VERTICES},
            )
        return
    if not isinstance(value, list | tuple):
        raise Malformed(f"{where} must be an array", details={"where": where})
    for index, item in enumerate(value):
        _check_nesting(item, depth - 1, f"{where}[{index}]", counter)


def _check_position(value: Any, where: str) -> None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise Malformed(f"{where} must be a [lon, lat] position", details={"where": where})
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise Malformed(f"{where} holds {number!r}, not a number", details={"where": where})
        if not math.isfinite(number):
            raise Malformed(f"{where} holds a non-finite number", details={"where": where})
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        raise InvalidInput(
            f"{where}: longitude {lon} is outside -180..180 (lon comes first in GeoJSON)",
            details={"where": where},
        )
    if not -90 <= lat <= 90:
        raise InvalidInput(
            f"{where}: latitude {lat} is outside -90..90 (lon comes first in GeoJSON)",
            details={"where": where},
        )


def _check_ring(ring: list[list[float]], where: str) -> None:
    if len(ring) < 4:
        raise InvalidInput(
            f"{where}: a ring needs at least 4 positions (the first repeated at the end), "
            f"it has {len(ring)}",
            details={"where": where},
        )
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise InvalidInput(
            f"{where}: the ring is not closed; its last position must repeat the first",
            details={"where": where},
        )


#: shapely's type id of a Polygon
_POLYGON = 3


def geojson_texts(geometries: np.ndarray) -> list[str]:
    """`json.dumps(mapping(g), separators=(",", ":"))` of each geometry, the same text:
    polygons written by orjson from their coordinates at once. orjson writes a float as
    the shortest text that reads back the same, as Python's repr does, but with its own
    exponent form (1e-5, not 1e-05), so polygons with a coordinate under 1e-4 (and other
    types) are written by json one by one."""
    kinds = shapely.get_type_id(geometries)
    polygons = np.flatnonzero(kinds == _POLYGON)
    rings, owner = shapely.get_rings(geometries[polygons], return_index=True)
    coords = shapely.get_coordinates(rings)
    counts = shapely.get_num_coordinates(rings)
    magnitude = np.abs(coords)
    tiny = ((magnitude < 1e-4) & (magnitude > 0)).any(axis=1)
    odd = np.zeros(len(geometries), dtype=bool)
    odd[kinds != _POLYGON] = True
    odd[polygons[np.unique(np.repeat(owner, counts)[tiny])]] = True
    texts = [""] * len(geometries)
    points = coords.tolist()
    shapes: list[list[list[list[float]]]] = [[] for _ in range(len(polygons))]
    start = 0
    for polygon, end in zip(owner.tolist(), np.cumsum(counts).tolist(), strict=True):
        shapes[polygon].append(points[start:end])
        start = end
    for position, rings_ in zip(polygons.tolist(), shapes, strict=True):
        texts[position] = orjson.dumps({"type": "Polygon", "coordinates": rings_}).decode()
    for position in np.flatnonzero(odd).tolist():
        texts[position] = json.dumps(mapping(geometries[position]), separators=(",", ":"))
    return texts
