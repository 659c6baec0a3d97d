"""Rasters that used to end in a 500: extents past the poles or 180 degrees, and float
pixels near the limits of the type (1e308, infinity, NaN). Each is now a 4xx that says
what is wrong, or an image placed where it belongs whose tiles render."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from flask import Flask
from flask.testing import FlaskClient
from morecantile import tms
from PIL import Image as PILImage
from rasterio.transform import from_origin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from annotations.catalogue.images import Image
from annotator import services
from imagery.ingest import ingest
from tests.conftest import token_for, write_geotiff

WEB_MERCATOR = tms.get("WebMercatorQuad")


def geographic(
    tmp_path: Path, name: str, west: float, north: float, pixel: float, **kwargs: Any
) -> Path:
    data = kwargs.pop("data", None)
    if data is None:
        data = np.random.default_rng(3).integers(1, 255, (1, 100, 100), dtype=np.uint8)
    return write_geotiff(tmp_path / name, data, crs="EPSG:4326",
                         transform=from_origin(west, north, pixel, pixel), **kwargs)  # fmt: skip


def post_image(client: FlaskClient, headers: dict[str, str], path: Path) -> TestResponse:
    """The body built in memory: the test client spools large ones to files it never closes."""
    fields = {"file": FileStorage(io.BytesIO(path.read_bytes()), filename=path.name)}
    boundary, body = encode_multipart(fields)
    return client.post("/api/v1/images?wait=1", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip


def image_rows(app: Flask) -> int:
    with services.database(app).read() as session:
        return int(session.scalar(select(func.count()).select_from(Image)) or 0)


def tile_png(client: FlaskClient, headers: dict[str, str], image_id: str, lon: float,
             lat: float, zoom: int) -> np.ndarray[Any, Any]:  # fmt: skip
    tile = WEB_MERCATOR.tile(lon, lat, zoom)
    response = client.get(f"/tiles/{image_id}/{zoom}/{tile.x}/{tile.y}.png", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return np.asarray(PILImage.open(io.BytesIO(response.data)))


@pytest.mark.parametrize(
    ("west", "north", "pixel", "latitude"),
    [(10.0, 95.0, 0.1, "95"), (10.0, 105.0, 0.1, "105"), (10.0, -80.0, 0.2, "-100")],
    ids=["edge-past-north-pole", "wholly-past-north-pole", "past-south-pole"],
)
def test_latitudes_past_a_pole_are_refused_on_each_backend(
    app_on_each_backend: Flask, tmp_path: Path, west: float, north: float, pixel: float,
    latitude: str,
) -> None:  # fmt: skip
    app = app_on_each_backend
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    path = geographic(tmp_path, "polar.tif", west, north, pixel)
    response = post_image(app.test_client(), headers, path)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"] == "not_georeferenced"
    assert f"latitude {latitude}" in body["message"] and "polar.tif" in body["message"]
    assert image_rows(app) == 0
    assert [p.name for p in Path(app.config["IMAGES_DIR"]).iterdir()] == []


def test_longitudes_on_a_0_360_grid_are_placed_west_of_greenwich(
    app_on_each_backend: Flask, tmp_path: Path
) -> None:
    app = app_on_each_backend
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    client = app.test_client()
    data = np.full((1, 100, 100), 200, dtype=np.uint8)
    # longitudes 200..210 east are 160..150 west
    path = geographic(tmp_path, "pacific.tif", 200.0, 10.0, 0.1, data=data)
    response = post_image(client, headers, path)
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    body = response.get_json()
    lons = [x for x, _ in body["footprint"]["coordinates"][0]]
    assert min(lons) == pytest.approx(-160.0) and max(lons) == pytest.approx(-150.0)
    tilejson = client.get(f"/tiles/{body['id']}/tilejson.json", headers=headers).get_json()
    assert tilejson["bounds"] == pytest.approx([-160.0, 0.0, -150.0, 10.0])
    pixels = tile_png(client, headers, body["id"], -155.0, 5.0, 6)
    assert pixels.ndim == 2 and pixels[128, 128] == 200  # opaque grey, the image's own value


def test_extents_across_the_antimeridian_are_split_at_180(app: Flask, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    client = app.test_client()
    path = geographic(tmp_path, "fiji.tif", 175.0, -15.0, 0.1)
    response = post_image(client, headers, path)
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["footprint"]["type"] == "MultiPolygon"
    assert body["bbox"] == pytest.approx([175.0, -25.0, -175.0, -15.0])  # west > east
    for lon in (177.5, -177.5):  # both sides of 180 degrees show the image
        assert tile_png(client, headers, body["id"], lon, -20.0, 6)[128, 128, 1] == 255


def extreme_float(tmp_path: Path, name: str, values: np.ndarray[Any, Any]) -> Path:
    return write_geotiff(tmp_path / name, values.reshape(1, *values.shape), crs="EPSG:4326",
                         transform=from_origin(10.0, 10.0, 1e-4, 1e-4))  # fmt: skip


@pytest.mark.parametrize("kind", ["flat-1e308", "float-limits", "float32-max"])
def test_float_pixels_near_the_type_limits_render(app: Flask, tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(5)
    if kind == "flat-1e308":
        values = np.full((512, 512), 1e308)
    elif kind == "float-limits":
        top = np.finfo(np.float64).max
        values = np.where(rng.random((512, 512)) > 0.5, top, -top)
    else:
        values = np.full((512, 512), np.finfo(np.float32).max, dtype=np.float32)
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    client = app.test_client()
    response = post_image(client, headers, extreme_float(tmp_path, f"{kind}.tif", values))
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    body = response.get_json()
    low, high = body["display"]["rescale"][0]
    assert np.isfinite([low, high]).all() and high > low
    thumbnail = client.get(f"/images/{body['id']}/thumbnail.png", headers=headers)
    assert thumbnail.status_code == 200
    for zoom in (9, 12):  # overviews: the image shows, in part of the tile
        pixels = tile_png(client, headers, body["id"], 10.025, 9.975, zoom)
        assert (pixels[..., -1] == 255).any()
    pixels = tile_png(client, headers, body["id"], 10.025, 9.975, 15)  # inside the image
    assert pixels.ndim == 2  # opaque everywhere


def test_non_finite_pixels_are_nodata_in_tiles_and_thumbnail(app: Flask, tmp_path: Path) -> None:
    values = np.full((512, 512), 5.0, dtype=np.float32)
    values[:, :128] = np.inf
    values[:, 128:256] = np.nan
    values[:, 256:384] = -np.inf
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    client = app.test_client()
    response = post_image(client, headers, extreme_float(tmp_path, "holes.tif", values))
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    image_id = response.get_json()["id"]
    thumb = np.asarray(PILImage.open(io.BytesIO(
        client.get(f"/images/{image_id}/thumbnail.png", headers=headers).data)))  # fmt: skip
    assert thumb.shape[-1] in (2, 4)  # it has transparency
    width = thumb.shape[1]
    assert (thumb[:, : width * 3 // 4 - 2, -1] == 0).all()  # every non-finite column hidden
    assert (thumb[:, width * 3 // 4 + 2 :, -1] == 255).all()  # the finite quarter shown
    pixels = tile_png(client, headers, image_id, 10.005, 9.975, 16)
    assert (pixels[..., -1] == 0).any()


def test_overviews_of_values_near_1e308_stay_finite(tmp_path: Path) -> None:
    """GDAL averages by summing: 2 x 2 pixels of 1.5e308 made overviews of infinity."""
    rng = np.random.default_rng(2)
    values = 1.5e308 + rng.random((1024, 1024)) * 1.5e307
    facts = ingest(extreme_float(tmp_path, "huge.tif", values), tmp_path / "store")
    with rasterio.open(facts.cog_path) as dataset:
        levels = len(dataset.overviews(1))
    assert levels >= 1
    for level in range(levels):
        with rasterio.open(facts.cog_path, overview_level=level) as overview:
            assert np.isfinite(overview.read(1)).all()
