"""Where an image lies on the Earth: its outline of valid pixels in longitude and latitude.

Corner-only transforms go wrong for many real files, so the outline is made from the valid
pixels themselves, densified along its edges, and projected point by point:

- pixels with no longitude and latitude (off the disk of a geostationary view), pixels
  whose projection does not come back to where it started, and pixels far outside the
  CRS's area of use are left out before the outline is drawn, so that no NaN or infinity
  ever reaches GEOS;
- a ring that jumps across 180 degrees is unwrapped, and the outline is cut at the
  antimeridian into a MultiPolygon (RFC 7946, section 3.1.9); a ring around a pole is
  closed along the pole;
- an image on another body (Mars, the Moon) is refused, naming the body.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyproj
import rasterio
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from imagery.errors import NotGeoreferenced, UnsupportedImage

#: The side, in pixels, of the decimated read used for footprint and stretch.
SAMPLE_SIZE = 1024
#: The side of the lattice of pixel centres tested for a longitude and latitude.
PLACE_GRID = 256
#: Degrees of slack around a CRS's area of use: scenes reach a little past a zone's edge
#: (a UTM scene across the next zone line, a polar scene past 60 degrees).
AREA_OF_USE_SLACK = 10.0
#: Semi-major axes of the Earth's ellipsoids all lie in this range (metres).
EARTH_AXIS = (6_350_000.0, 6_400_000.0)
#: Other bodies, by their mean radius in km, for a CRS whose name does not say.
BODIES = {
    "Mercury": 2440,
    "Venus": 6052,
    "the Moon": 1737,
    "Mars": 3390,
    "Ceres": 470,
    "Jupiter": 69911,
    "Io": 1822,
    "Europa": 1561,
    "Ganymede": 2634,
    "Callisto": 2410,
    "Saturn": 58232,
    "Titan": 2575,
    "Enceladus": 252,
    "Pluto": 1188,
}


def sample_shape(dataset: rasterio.DatasetReader, size: int = SAMPLE_SIZE) -> tuple[int, int]:
    scale = max(dataset.width, dataset.height) / size
    if scale <= 1:
        return dataset.height, dataset.width
    return max(1, round(dataset.height / scale)), max(1, round(dataset.width / scale))


def check_earth(crs: CRS, name: str) -> None:
    """Refuse a CRS on another body than the Earth, saying which one."""
    try:
        ellipsoid = pyproj.CRS.from_wkt(crs.to_wkt()).ellipsoid
    except pyproj.exceptions.CRSError:
        return  # PROJ cannot read it; the placing step says so in its own words
    if ellipsoid is None:
        return
    axis = float(ellipsoid.semi_major_metre)
    if EARTH_AXIS[0] <= axis <= EARTH_AXIS[1]:
        return
    label = ellipsoid.name or ""
    body = next((b for b in BODIES if b.removeprefix("the ").lower() in label.lower()), None)
    if body is None:
        nearest = min(BODIES, key=lambda b: abs(BODIES[b] - axis / 1000))
        close = abs(BODIES[nearest] - axis / 1000) <= 0.02 * BODIES[nearest]
        body = nearest if close else f"a body of radius {axis / 1000:,.0f} km"
    raise UnsupportedImage(
        f"{name} is on {body}, not Earth (its CRS's ellipsoid is {label or 'unnamed'}, "
        f"radius {axis / 1000:,.0f} km); this map shows the Earth only"
    )


def longitude_shift(dataset: rasterio.DatasetReader, name: str) -> float:
    """Degrees to add to the x of a longitude/latitude image so that its west edge lies in
    -180..180, after refusing latitudes past the poles and grids wider than the world.

    Data on a 0..360 grid wholly west of Greenwich (written as 200 rather than -160) is
    moved by 360 degrees to where it is; an image across 180 degrees stays as it is, and
    its footprint is cut there (`footprint_wgs84`).
    """
    crs = dataset.crs
    if not crs.is_geographic or crs.units_factor[0] not in ("degree", "degrees"):
        return 0.0
    west, south, east, north = dataset.bounds
    west, east = min(west, east), max(west, east)
    south, north = min(south, north), max(south, north)
    # half a pixel of slack: grids whose pixel centres sit on the pole or on 180 degrees
    slack_x = abs(dataset.transform.a) / 2 + 1e-9
    slack_y = abs(dataset.transform.e) / 2 + 1e-9
    if north > 90 + slack_y or south < -90 - slack_y:
        worst = north if north > 90 + slack_y else south
        raise NotGeoreferenced(
            f"{name} reaches latitude {worst:.6g}, past the pole (latitudes end at -90 and 90); "
            "its georeference is wrong: check that x and y are not swapped and that the pixel "
            "size is in degrees"
        )
    if east - west > 360 + 2 * slack_x:
        raise NotGeoreferenced(
            f"{name} spans longitudes {west:.6g} to {east:.6g}, {east - west:.6g} degrees: more "
            "than the whole world (360); its georeference is wrong: check the pixel size"
        )
    if west >= -180 - slack_x and west < 180:
        return 0.0
    return -360.0 * math.floor((west + 180 + slack_x) / 360)


def footprint_wgs84(dataset: rasterio.DatasetReader, size: int = SAMPLE_SIZE) -> BaseGeometry:
    """The outline of the valid pixels in WGS 84, densified so it follows the projection,
    cut at the antimeridian when it crosses it."""
    out_h, out_w = sample_shape(dataset, size)
    mask = dataset.dataset_mask(out_shape=(out_h, out_w)) > 0
    scale = Affine.scale(dataset.width / out_w, dataset.height / out_h)
    transform = dataset.transform @ scale
    placed = placeable(dataset.crs, transform, (out_h, out_w))
    if not (mask & placed).any():
        if mask.any():
            raise NotGeoreferenced(
                "no valid pixel of the image has a longitude and latitude in its CRS (PROJ "
                "cannot convert them, or they lie far outside the CRS's area of use): its CRS "
                "or geotransform is wrong"
            )
        raise UnsupportedImage("the image has no valid pixels (everything is nodata or masked)")
    # a pixel beside a placed one keeps its place: its edge is taken to the edge of the
    # CRS's domain (the limb of a geostationary disk) by `_onto_domain`
    mask &= _grown(placed)
    polygons = [
        shape(geom)
        for geom, value in rasterio.features.shapes(
            mask.astype("uint8"), mask=mask, transform=transform
        )
        if value
    ]
    outline = _without_specks(shapely.union_all(polygons))
    pixel = max(abs(transform.a), abs(transform.e))
    outline = outline.simplify(pixel, preserve_topology=True)
    span = max(
        dataset.bounds.right - dataset.bounds.left, dataset.bounds.top - dataset.bounds.bottom
    )
    outline = shapely.segmentize(outline, max_segment_length=span / 64)
    lonlat = to_lonlat(outline, dataset.crs)
    if lonlat.is_empty:
        raise NotGeoreferenced(
            "parts of the image have no longitude and latitude in its CRS (PROJ cannot "
            "convert them): its CRS or geotransform is wrong"
        )
    return lonlat


def placeable(crs: CRS, transform: Affine, shape_hw: tuple[int, int]) -> np.ndarray[Any, Any]:
    """Which pixels of a (height, width) grid have a longitude and latitude: finite, that
    project back to within a pixel of where they were, and (for a projected CRS) within
    AREA_OF_USE_SLACK degrees of its area of use. Tested on a lattice of at most
    PLACE_GRID x PLACE_GRID pixel centres, each standing for the pixels around it."""
    height, width = shape_hw
    rows = np.unique(np.linspace(0, height - 1, min(height, PLACE_GRID)).round().astype(int))
    cols = np.unique(np.linspace(0, width - 1, min(width, PLACE_GRID)).round().astype(int))
    grid_c, grid_r = np.meshgrid(cols + 0.5, rows + 0.5)
    a, b, c, d, e, f = transform[:6]
    xs = a * grid_c.ravel() + b * grid_r.ravel() + c
    ys = d * grid_c.ravel() + e * grid_r.ravel() + f
    forward = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    backward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = (np.asarray(v) for v in forward.transform(xs, ys, errcheck=False))
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90 + 1e-6)
        back_x, back_y = (
            np.asarray(v) for v in backward.transform(np.where(ok, lon, 0), np.where(ok, lat, 0))
        )
        tolerance = max(abs(transform.a), abs(transform.e))
        ok &= (np.abs(back_x - xs) <= tolerance) & (np.abs(back_y - ys) <= tolerance)
    ok &= _in_area_of_use(crs, lon, lat)
    good = ok.reshape(len(rows), len(cols))
    if good.all():
        return np.ones(shape_hw, dtype=bool)
    # each pixel takes the answer of the nearest lattice point
    near_r = np.abs(np.arange(height)[:, None] - rows[None, :]).argmin(axis=1)
    near_c = np.abs(np.arange(width)[:, None] - cols[None, :]).argmin(axis=1)
    result: np.ndarray[Any, Any] = good[np.ix_(near_r, near_c)]
    return result


def _in_area_of_use(
    crs: CRS, lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    if crs.is_geographic:
        return np.ones(lon.shape, dtype=bool)
    try:  # GDAL's WKT 1 names the EPSG code but carries no area of use: PROJ's has it
        epsg = crs.to_epsg()
        area = (
            pyproj.CRS.from_epsg(epsg) if epsg else pyproj.CRS.from_wkt(crs.to_wkt())
        ).area_of_use
    except pyproj.exceptions.CRSError:
        area = None
    if area is None:
        return np.ones(lon.shape, dtype=bool)
    west, south, east, north = area.bounds
    width = (east - west) % 360 or 360.0
    if width >= 360 - 2 * AREA_OF_USE_SLACK:
        along = np.ones(lon.shape, dtype=bool)
    else:
        with np.errstate(invalid="ignore"):
            along = (lon - west + AREA_OF_USE_SLACK) % 360 <= width + 2 * AREA_OF_USE_SLACK
    with np.errstate(invalid="ignore"):
        across = (lat >= south - AREA_OF_USE_SLACK) & (lat <= north + AREA_OF_USE_SLACK)
    result: np.ndarray[Any, Any] = along & across
    return result


def to_lonlat(outline: BaseGeometry, crs: CRS) -> BaseGeometry:
    """A (densified) polygon or multipolygon in `crs` as WGS 84 longitude and latitude in
    -180..180, cut at the antimeridian; points PROJ cannot convert are dropped, and rings
    left with fewer than three points with them. Empty if nothing is left."""
    forward = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    pieces: list[BaseGeometry] = []
    for polygon in getattr(outline, "geoms", [outline]):
        if polygon.is_empty:
            continue
        anchor = np.asarray(polygon.representative_point().coords[0])
        exterior = _lonlat_ring(np.asarray(polygon.exterior.coords), forward, anchor)
        if exterior is None:
            continue
        middle = float(np.mean(shapely.get_coordinates(exterior)[:, 0]))
        for ring in polygon.interiors:
            hole = _lonlat_ring(np.asarray(ring.coords), forward, anchor)
            if hole is not None:
                turns = round((float(np.mean(shapely.get_coordinates(hole)[:, 0])) - middle) / 360)
                exterior = exterior.difference(
                    shapely.affinity.translate(hole, xoff=-360.0 * turns)
                )
        pieces.extend(_cut_at_antimeridian(exterior))
    if not pieces:
        return shapely.Polygon()
    merged = shapely.union_all(pieces)
    merged = shapely.set_precision(merged, 1e-7)
    polygons = [p for p in getattr(merged, "geoms", [merged]) if p.geom_type == "Polygon"]
    polygons = [orient(p) for p in polygons if not p.is_empty and p.area > 0]
    if not polygons:
        return shapely.Polygon()
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _grown(placed: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """`placed` and the pixels beside it (a one-pixel dilation)."""
    grown = placed.copy()
    grown[1:, :] |= placed[:-1, :]
    grown[:-1, :] |= placed[1:, :]
    grown[:, 1:] |= placed[:, :-1]
    grown[:, :-1] |= placed[:, 1:]
    return grown


def _project(
    forward: Transformer, xs: np.ndarray[Any, Any], ys: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    with np.errstate(all="ignore"):
        lon, lat = forward.transform(xs, ys, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _onto_domain(
    coords: np.ndarray[Any, Any], forward: Transformer, anchor: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Points PROJ cannot place, each moved along the line to `anchor` (a placed point
    inside the outline) to the last point it can place (found by bisection): the edge of
    the CRS's domain, as the limb of a geostationary view. Without a placed anchor the
    points are left as they are (and dropped)."""
    lon, lat = _project(forward, coords[:, 0], coords[:, 1])
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    a_lon, a_lat = _project(forward, anchor[:1], anchor[1:2])
    if not bad.any() or not (np.isfinite(a_lon).all() and np.isfinite(a_lat).all()):
        return coords
    inside = np.broadcast_to(anchor, (int(bad.sum()), 2)).copy()
    outside = coords[bad].copy()
    for _ in range(40):
        middle = (inside + outside) / 2
        m_lon, m_lat = _project(forward, middle[:, 0], middle[:, 1])
        good = np.isfinite(m_lon) & np.isfinite(m_lat)
        inside[good] = middle[good]
        outside[~good] = middle[~good]
    moved = coords.copy()
    moved[bad] = inside
    return moved


def _lonlat_ring(
    coords: np.ndarray[Any, Any], forward: Transformer, anchor: np.ndarray[Any, Any]
) -> BaseGeometry | None:
    """One ring as a polygon in unwrapped longitudes (continuous across 180 degrees, so it
    may reach past it), starting in -180..180; a ring around a pole is closed along it."""
    coords = _onto_domain(coords, forward, anchor)
    lon, lat = _project(forward, coords[:, 0], coords[:, 1])
    finite = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[finite], np.clip(lat[finite], -90.0, 90.0)
    if lon.size < 4:
        return None
    steps = np.diff(lon)
    steps -= 360.0 * np.round(steps / 360.0)
    start = (lon[0] + 180.0) % 360.0 - 180.0
    lon = start + np.concatenate([[0.0], np.cumsum(steps)])
    turns = round(float(lon[-1] - lon[0]) / 360.0)
    points = np.column_stack([lon, lat])
    if turns:  # around a pole: go along it from the last longitude back to the first
        pole = 90.0 if float(np.mean(lat)) > 0 else -90.0
        points = np.vstack([points, [[lon[-1], pole], [lon[0], pole]]])
    polygon: BaseGeometry = shapely.Polygon(points)
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
        parts = [p for p in getattr(polygon, "geoms", [polygon]) if p.geom_type == "Polygon"]
        polygon = shapely.union_all(parts) if parts else shapely.Polygon()
    return None if polygon.is_empty else polygon


def _cut_at_antimeridian(polygon: BaseGeometry) -> list[BaseGeometry]:
    pieces = []
    for turn in range(-2, 3):
        frame = shapely.box(-180.0 + 360.0 * turn, -90.0, 180.0 + 360.0 * turn, 90.0)
        piece = polygon.intersection(frame)
        if not piece.is_empty and piece.area > 0:
            pieces.append(shapely.affinity.translate(piece, xoff=-360.0 * turn))
    return pieces


def _without_specks(outline: BaseGeometry, share: float = 0.005) -> BaseGeometry:
    """Drop islands and holes under `share` of the area: dark pixels, not the image edge."""
    parts = list(getattr(outline, "geoms", [outline]))
    total = sum(part.area for part in parts)
    kept = []
    for part in parts:
        if part.area < share * total:
            continue
        holes = [ring for ring in part.interiors if shapely.Polygon(ring).area >= share * total]
        kept.append(shapely.Polygon(part.exterior, holes))
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def rfc7946_bbox(geometry: BaseGeometry) -> list[float]:
    """[west, south, east, north] of a lon/lat geometry; for one cut at the antimeridian,
    west > east (RFC 7946, section 5.2): the box skips the widest gap in longitude."""
    west, south, east, north = (float(v) for v in geometry.bounds)
    spans = sorted(
        (float(p.bounds[0]), float(p.bounds[2])) for p in getattr(geometry, "geoms", [geometry])
    )
    if len(spans) < 2 or west > -180.0 or east < 180.0:
        return [west, south, east, north]
    merged: list[list[float]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    wrap_gap = merged[0][0] + 360.0 - merged[-1][1]
    gaps = [(merged[i + 1][0] - merged[i][1], i) for i in range(len(merged) - 1)]
    widest, index = max(gaps)
    if widest <= wrap_gap:
        return [west, south, east, north]
    return [merged[index + 1][0], south, merged[index][1], north]


def lonlat_boxes(dataset: rasterio.DatasetReader) -> list[tuple[float, float, float, float]]:
    """The lon/lat boxes (one, or two across 180 degrees) of the image's whole extent, from
    its edges densified; empty when some edge point has no longitude and latitude (a
    geostationary view's corners off the disk), where the caller cannot trust a box."""
    left, bottom, right, top = dataset.bounds
    edge = shapely.segmentize(
        shapely.box(left, bottom, right, top), max(right - left, top - bottom) / 64
    )
    forward = Transformer.from_crs(dataset.crs, "EPSG:4326", always_xy=True)
    coords = np.asarray(edge.exterior.coords)
    with np.errstate(all="ignore"):
        lon, lat = forward.transform(coords[:, 0], coords[:, 1], errcheck=False)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return []
    lonlat = to_lonlat(edge, dataset.crs)
    return [tuple(p.bounds) for p in getattr(lonlat, "geoms", [lonlat])]
