"""The geometry checks of `annotations.geometry.parse_geometry`, on an array at once.

`checked` answers, for each geometry as read from a file (2D, WGS 84), whether
`parse_geometry(mapping(g))` would accept it, and if so the geometry it would return
(`normalise`d: 7 decimals, RFC 7946 winding). Those it would refuse, or that this module
does not judge (a geometry collection, an empty part), are marked not ok and left for the
one-by-one path, which says why."""

from __future__ import annotations

import numpy as np
import shapely

from annotations.geometry import MAX_VERTICES, PRECISION, normalise

#: shapely's type ids of the geometry types GeoJSON input takes
POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON = 0, 1, 3, 4, 5, 6
ACCEPTED = (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON)
MULTIS = (MULTIPOINT, MULTILINESTRING, MULTIPOLYGON)
#: `geom_type` of each of them
TYPE_NAMES = {
    POINT: "Point",
    LINESTRING: "LineString",
    POLYGON: "Polygon",
    MULTIPOINT: "MultiPoint",
    MULTILINESTRING: "MultiLineString",
    MULTIPOLYGON: "MultiPolygon",
}


def geometry_array(values: list[object]) -> np.ndarray:
    """An object array of geometries (numpy would unpack a list of multi-part ones)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def one_parts(geometries: np.ndarray) -> np.ndarray:
    """`readback.one_part` of each: a multi geometry of one part as that part."""
    kinds = shapely.get_type_id(geometries)
    single = np.isin(kinds, MULTIS) & (shapely.get_num_geometries(geometries) == 1)
    result = geometries.copy()
    result[single] = shapely.get_geometry(geometries[single], 0)
    return result


def checked(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ok, normalised): whether `parse_geometry` accepts each geometry, and what it
    returns for those it accepts (None for the others)."""
    count = len(geometries)
    ok = ~shapely.is_missing(geometries)
    kinds = shapely.get_type_id(geometries)
    ok &= np.isin(kinds, ACCEPTED)
    candidates = np.flatnonzero(ok)
    ok[candidates] = ~shapely.is_empty(geometries[candidates]) & (
        shapely.get_num_coordinates(geometries[candidates]) <= MAX_VERTICES
    )
    candidates = np.flatnonzero(ok)
    parts, owner = shapely.get_parts(geometries[candidates], return_index=True)
    faulty = shapely.is_empty(parts)
    polygons = np.flatnonzero(shapely.get_type_id(parts) == POLYGON)
    rings, ring_owner = shapely.get_rings(parts[polygons], return_index=True)
    short = shapely.get_num_coordinates(rings) < 4
    faulty[polygons[np.unique(ring_owner[short])]] = True
    ok[candidates[np.unique(owner[faulty])]] = False
    candidates = np.flatnonzero(ok)
    coords, index = shapely.get_coordinates(geometries[candidates], return_index=True)
    with np.errstate(invalid="ignore"):
        outside = (
            ~np.isfinite(coords).all(axis=1)
            | ~(np.abs(coords[:, 0]) <= 180)
            | ~(np.abs(coords[:, 1]) <= 90)
        )
    ok[candidates[np.unique(index[outside])]] = False
    candidates = np.flatnonzero(ok)
    ok[candidates] = shapely.is_valid(geometries[candidates])
    normalised = np.full(count, None, dtype=object)
    normalised[ok] = normalise_many(geometries[ok])
    return ok, normalised


def normalise_many(geometries: np.ndarray) -> np.ndarray:
    """`annotations.geometry.normalise` of each: polygons on the array, multipolygons (whose
    parts `normalise` orients one by one) each on its own."""
    result = shapely.set_precision(geometries, 10**-PRECISION, mode="pointwise")
    kinds = shapely.get_type_id(result)
    polygons = kinds == POLYGON
    result[polygons] = shapely.orient_polygons(result[polygons], exterior_cw=False)
    for position in np.flatnonzero(kinds == MULTIPOLYGON).tolist():
        result[position] = normalise(geometries[position])
    return result
