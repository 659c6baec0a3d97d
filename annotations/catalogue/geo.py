"""Small geodesic and GeoJSON helpers shared by sites and images."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from annotations.errors import InvalidInput

GEOD = Geod(ellps="WGS84")
MAX_RADIUS_M = 500_000  # the largest site circle


def check_lonlat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("longitude and latitude must be finite numbers")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"longitude {lon} is outside -180..180 (did you swap lon and lat?)")
    if not -90 <= lat <= 90:
        raise InvalidInput(f"latitude {lat} is outside -90..90 (did you swap lon and lat?)")


def geodesic_circle(lon: float, lat: float, radius_m: float, points: int = 72) -> shapely.Polygon:
    """A polygon of `points` vertices at `radius_m` metres (geodesic) around a point."""
    check_lonlat(lon, lat)
    if not (math.isfinite(radius_m) and 0 < radius_m <= MAX_RADIUS_M):
        raise InvalidInput(f"radius {radius_m} m must be between 0 and 500,000 m")
    azimuths = [360.0 * i / points for i in range(points)]
    lons, lats, _ = GEOD.fwd([lon] * points, [lat] * points, azimuths, [radius_m] * points)
    ring = [(round(x, 7), round(y, 7)) for x, y in zip(lons, lats, strict=True)]
    if _jumps(ring) or abs(lat) + math.degrees(radius_m / 6_356_752) >= 90:
        raise InvalidInput(
            f"a circle of {radius_m:,.0f} m around {lon}, {lat} crosses the antimeridian (180°) "
            "or a pole; give a smaller radius, or the area as a MultiPolygon split at 180°"
        )
    return orient(shapely.Polygon(ring))


def _jumps(ring: Any) -> bool:
    """Whether an edge of the ring goes more than half way round the world: an area drawn
    across the antimeridian (179° to -179°), which GeoJSON reads as going the long way."""
    lons = [point[0] for point in ring]
    return any(abs(b - a) > 180 for a, b in itertools.pairwise(lons))


def check_antimeridian(geometry: BaseGeometry) -> None:
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            if _jumps(ring.coords):
                raise InvalidInput(
                    "the area crosses the antimeridian (180°); GeoJSON would read it as going "
                    "the long way round the world: split it into a MultiPolygon at 180°"
                )


def area_polygon(data: Any) -> shapely.Polygon | shapely.MultiPolygon:
    """Read a WGS 84 Polygon/MultiPolygon from GeoJSON (geometry, Feature or collection of one)."""
    if not isinstance(data, dict):
        raise InvalidInput("the area must be a GeoJSON object")
    if "crs" in data:
        raise InvalidInput("the area carries a 'crs' member; send RFC 7946 WGS 84 lon/lat")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise InvalidInput(f"the FeatureCollection holds {len(features)} features; give one")
        return area_polygon(features[0])
    if kind == "Feature":
        return area_polygon(data.get("geometry"))
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"the area must be a Polygon or MultiPolygon, not {kind!r}")
    try:
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInput(f"the area is not valid GeoJSON: {exc}") from exc
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180:  # a map drawing carried past 180° on the world's next copy
        raise InvalidInput(
            f"the area reaches longitude {minx if minx < -180 else maxx:g}, outside -180..180: "
            "an area may not cross the antimeridian (180°); split it into a MultiPolygon at 180°"
        )
    for lon, lat in ((minx, miny), (maxx, maxy)):
        check_lonlat(lon, lat)
    check_antimeridian(geometry)
    if not geometry.is_valid:
        raise InvalidInput(f"the area is not a valid polygon: {shapely.is_valid_reason(geometry)}")
    if geometry.is_empty or geometry.area == 0:
        raise InvalidInput("the area is empty")
    if isinstance(geometry, shapely.Polygon):
        return orient(geometry)
    assert isinstance(geometry, shapely.MultiPolygon)
    return shapely.MultiPolygon([orient(p) for p in geometry.geoms])


def to_geojson_text(geometry: BaseGeometry) -> str:
    return json.dumps(mapping(geometry), separators=(",", ":"))


def from_geojson_text(text: str) -> BaseGeometry:
    return shape(json.loads(text))
