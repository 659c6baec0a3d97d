"""Tiles and TileJSON over HTTP: caching headers, conditional GETs, and bad addresses."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from morecantile import tms as tile_matrix_sets
from PIL import Image

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images

MERCATOR = tile_matrix_sets.get("WebMercatorQuad")
Header = Callable[[str], dict[str, str]]


@pytest.fixture
def image_id(app: Flask, shared_data: Path) -> str:
    results = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(shared_data / "RGB.byte.tif", "RGB.byte.tif")],
        Provenance(attribution="USGS <Landsat> & rasterio"),
        max_pixels=10**9,
    )
    return results[0].image.id


def inside_tile(z: int) -> tuple[int, int]:
    """A tile well inside RGB.byte.tif's valid pixels."""
    west, south, east, north = -78.2, 24.3, -77.4, 25.0
    tile = MERCATOR.tile((west + east) / 2, (south + north) / 2, z)
    return tile.x, tile.y


def test_tile_formats_etag_and_304(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    headers = auth_header("viewer")
    x, y = inside_tile(9)
    for fmt, media, mode in (("png", "image/png", "PNG"), ("jpg", "image/jpeg", "JPEG"),
                             ("webp", "image/webp", "WEBP")):  # fmt: skip
        response = client.get(f"/tiles/{image_id}/9/{x}/{y}.{fmt}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == media
        picture = Image.open(io.BytesIO(response.data))
        assert picture.format == mode and picture.size == (256, 256)
        etag = response.headers["ETag"]
        assert etag.startswith('"') and not etag.startswith("W/"), "a strong ETag"
        assert "max-age" in response.headers["Cache-Control"]
        again = client.get(
            f"/tiles/{image_id}/9/{x}/{y}.{fmt}", headers={**headers, "If-None-Match": etag}
        )
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag
    png = client.get(f"/tiles/{image_id}/9/{x}/{y}.png", headers=headers).headers["ETag"]
    other = client.get(f"/tiles/{image_id}/9/{x + 1}/{y}.png", headers=headers).headers["ETag"]
    assert png != other


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("31/0/0.png", 400),
        ("-1/0/0.png", 400),
        ("3/8/0.png", 400),
        ("3/0/8.png", 400),
        ("3/1.5/0.png", 400),
        ("a/b/c.png", 400),
        ("99999999999/0/0.png", 400),
        ("9/0/0.png", 404),
        ("9/140/218.gif", 400),
    ],
)
def test_bad_tile_requests_are_4xx_json(
    app: Flask, image_id: str, auth_header: Header, path: str, status: int
) -> None:
    response = app.test_client().get(f"/tiles/{image_id}/{path}", headers=auth_header("viewer"))
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] and body["message"]


def test_unknown_image_and_anonymous(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    unknown = client.get("/tiles/deadbeef/1/0/0.png", headers=auth_header("viewer"))
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"
    assert client.get(f"/tiles/{image_id}/9/140/218.png").status_code == 401
    for bogus in ("ann_not-a-real-token", "garbage"):
        refused = client.get(
            f"/tiles/{image_id}/9/140/218.png", headers={"Authorization": f"Bearer {bogus}"}
        )
        assert refused.status_code == 401, bogus


def test_tilejson(app: Flask, image_id: str, auth_header: Header) -> None:
    response = app.test_client().get(
        f"/tiles/{image_id}/tilejson.json", headers=auth_header("viewer")
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith(f"/tiles/{image_id}/{{z}}/{{x}}/{{y}}.png")
    west, south, east, north = body["bounds"]
    assert -79.1 < west < east < -76.4 and 23.4 < south < north < 25.7
    assert 0 <= body["minzoom"] <= body["maxzoom"] <= 12
    assert body["attribution"] == "USGS &lt;Landsat&gt; &amp; rasterio", "escaped for HTML"
