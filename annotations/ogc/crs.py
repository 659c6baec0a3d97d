"""CRS by reference (OGC API - Features Part 2): CRS84 (lon, lat; what is stored), EPSG:4326
(the same datum with lat, lon axis order, as EPSG defines it) and a site's UTM zone.

A CRS is named by its OGC URI (`http://www.opengis.net/def/crs/EPSG/0/32636`); the short
forms `EPSG:32636` and `OGC:CRS84` are read too, so hand-typed links work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from annotations.errors import InvalidInput

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
_EPSG_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d{4,5})$")
_EPSG_SHORT = re.compile(r"^(?:EPSG:|\[EPSG:)(\d{4,5})\]?$", re.IGNORECASE)
_CRS84_NAMES = {
    CRS84,
    "OGC:CRS84",
    "[OGC:CRS84]",
    "CRS84",
    "http://www.opengis.net/def/crs/OGC/0/CRS84",
}


def epsg_uri(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


@lru_cache(maxsize=1)
def _utm_zones() -> list[tuple[float, float, float, float, int]]:
    """Every WGS 84 UTM zone with its area of use, from pyproj's database (asked once: a
    query takes about 0.3 s, and a list of collections names every site's zone)."""
    everywhere = AreaOfInterest(-180.0, -90.0, 180.0, 90.0)
    zones = []
    for info in query_utm_crs_info(datum_name="WGS 84", area_of_interest=everywhere):
        area = info.area_of_use
        if info.auth_name == "EPSG" and area is not None:
            zones.append((area.west, area.south, area.east, area.north, int(info.code)))
    return zones


def utm_zone(bbox: Sequence[float]) -> str:
    """The URI of the WGS 84 UTM zone holding the centre of `bbox` (west, south, east, north;
    west > east across 180 degrees, as RFC 7946 allows)."""
    west, east = bbox[0], bbox[2]
    if west > east:
        east += 360
    lon = (west + east) / 2
    lon = lon - 360 if lon > 180 else lon
    lat = (bbox[1] + bbox[3]) / 2
    for west, south, east, north, code in _utm_zones():
        if west <= lon <= east and south <= lat <= north:
            return epsg_uri(code)
    raise InvalidInput(f"no UTM zone holds {lon:.4f}, {lat:.4f}")


def parse_crs(value: str, offered: Sequence[str]) -> str:
    """The canonical URI of `value` if the collection offers it; else a 400's message."""
    text = value.strip()
    if text in _CRS84_NAMES:
        uri = CRS84
    else:
        match = _EPSG_URI.match(text) or _EPSG_SHORT.match(text)
        uri = epsg_uri(int(match.group(1))) if match else text
    if uri not in offered:
        raise InvalidInput(
            f"crs {value[:120]!r} is not offered here; use one of: {', '.join(offered)}"
        )
    return uri


@lru_cache(maxsize=64)
def _transformer(target: str) -> Transformer:
    """CRS84 -> target, always x=lon, y=lat in and the target's own (x, y) order out, except
    that EPSG:4326 output is swapped by `swap_axes` (pyproj is asked in lon, lat)."""
    code = int(target.rsplit("/", 1)[1])
    return Transformer.from_crs("OGC:CRS84", f"EPSG:{code}", always_xy=True)


def _inverse(source: str) -> Transformer:
    code = int(source.rsplit("/", 1)[1])
    return Transformer.from_crs(f"EPSG:{code}", "OGC:CRS84", always_xy=True)


def lat_lon_order(uri: str) -> bool:
    """EPSG:4326 says latitude first; CRS84 and the UTM zones say x (east) first."""
    return uri == EPSG_4326


def _swap(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    return coords[:, ::-1].copy()


def project(geometries: NDArray[np.object_], target: str) -> NDArray[np.object_]:
    """Shapely geometries (CRS84) in `target`'s coordinates, axis order as `target` says."""
    if target == CRS84:
        return geometries
    if target == EPSG_4326:
        return shapely.transform(geometries, _swap)
    transformer = _transformer(target)

    def forward(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometries, forward)


def bbox_to_crs84(
    bbox: tuple[float, float, float, float], source: str
) -> tuple[float, float, float, float]:
    """A `bbox` given in `source` (axis order as `source` says) as west, south, east, north."""
    if source == CRS84:
        return bbox
    if source == EPSG_4326:
        south, west, north, east = bbox
        return west, south, east, north
    west, south, east, north = _inverse(source).transform_bounds(*bbox, densify_pts=21)
    return west, south, east, north
