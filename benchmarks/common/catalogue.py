"""Catalogue rows for benchmarks: a placeholder capture with no file behind it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from shapely.geometry import box

from annotations.catalogue.images import Image


def placeholder_image(
    bounds: tuple[float, float, float, float], captured_at: datetime, crs: str = "EPSG:4326"
) -> Image:
    """A 1 x 1 px synthetic capture covering `bounds` (west, south, east, north) in degrees,
    so annotations can be stored on it; the benchmarks time queries, never its pixels."""
    west, south, east, north = bounds
    return Image(
        id=uuid.uuid4().hex,
        sha256=uuid.uuid4().hex * 2,
        cog_name="x.tif",
        original_filename="x.tif",
        crs=crs,
        width=1,
        height=1,
        band_count=3,
        dtype="uint8",
        mask="none",
        gsd_m=0.5,
        footprint_geojson=json.dumps(box(west, south, east, north).__geo_interface__),
        captured_at=captured_at,
        captured_source="tag",
        display_json="{}",
        synthetic=True,
        min_lon=west,
        min_lat=south,
        max_lon=east,
        max_lat=north,
    )
