"""A small scene across the antimeridian, as the antimeridian tests upload it: UTM zone 60
south, 780..880 km east at 500 m a pixel (200 x 100 px, about 179.4 E to 179.6 W, over Fiji),
sent through the API as a user would, and a point stored west of 180 on it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from flask import Flask
from rasterio.transform import from_origin
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

LAT = -16.93
WIDTH, HEIGHT = 200, 100


def blocks(seed: int) -> np.ndarray[Any, Any]:
    """A band of 10 px blocks of random greys: tiles on each side of 180 tell apart."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(40, 220, (1, HEIGHT // 10, WIDTH // 10), dtype=np.uint8)
    return np.kron(cells, np.ones((10, 10))).astype(np.uint8)


def write_scene(path: Path, data: np.ndarray[Any, Any], tags: dict[str, str] | None = None) -> Path:
    """A plain one-band GeoTIFF of `data` (1 x 100 x 200) across 180 degrees (about 20 KB)."""
    profile = {"driver": "GTiff", "count": 1, "height": HEIGHT, "width": WIDTH, "dtype": "uint8"}
    transform = from_origin(780000, 8150000, 500, 500)
    with rasterio.open(path, "w", crs="EPSG:32760", transform=transform, **profile) as dataset:
        dataset.write(data)
        if tags:
            dataset.update_tags(**tags)
    return path


def upload(app: Flask, headers: dict[str, str], path: Path) -> dict[str, Any]:
    """`path` posted to /api/v1/images (answered when ingested); the image's JSON."""
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(path.read_bytes()), filename=path.name)}
    )
    response = app.test_client().post(
        "/api/v1/images?wait=1",
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    return dict(response.get_json())


def store_point_west_of_180(app: Flask, headers: dict[str, str], image_id: str) -> None:
    """An An-124 point at -179.9 on `image_id`: stored in -180..180, drawn past 180."""
    stored = app.test_client().post(
        "/api/v1/annotations",
        headers=headers,
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-179.9, LAT]},
            "properties": {
                "label": "aircraft.transport.an-124",
                "image_id": image_id,
                "shape": "point",
                "confidence": "confirmed",
            },
        },
    )
    assert stored.status_code == 201, stored.get_json()
