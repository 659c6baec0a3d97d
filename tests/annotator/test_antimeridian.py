"""A scene across the antimeridian through the app: uploaded, its footprint a MultiPolygon
cut at 180 degrees with an RFC 7946 bbox (west > east), tiles on both sides, annotations
accepted on both sides, a site on either side attaching it, and its STAC item's bbox."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from morecantile import tms
from PIL import Image as PILImage
from pyproj import Transformer
from shapely.geometry import mapping

from annotations.measure import box_polygon
from tests.antimeridian import upload, write_scene
from tests.conftest import _app_with_users, make_app, token_for

MERCATOR = tms.get("WebMercatorQuad")
EAST_SIDE = (179.7, -16.93)  # Fiji, east of Greenwich
WEST_SIDE = (-179.85, -16.93)  # the same scene, past 180 degrees


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("antimeridian")
    app = next(_app_with_users(make_app(folder)))
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    data = np.random.default_rng(4).integers(1, 255, (1, 100, 200), dtype=np.uint8)
    image = upload(app, headers, write_scene(folder / "fiji.tif", data))
    yield {"app": app, "headers": headers, "image": image}


def test_the_footprint_is_cut_at_180_with_a_box_west_of_east(world: dict[str, Any]) -> None:
    image = world["image"]
    assert image["footprint"]["type"] == "MultiPolygon"
    west, _south, east, _north = image["bbox"]
    assert 179 < west < 180 and -180 < east < -179, "RFC 7946: west > east across 180"
    client = world["app"].test_client()
    tilejson = client.get(f"/tiles/{image['id']}/tilejson.json", headers=world["headers"])
    left, _, right, _ = tilejson.get_json()["bounds"]
    assert left == pytest.approx(west) and right == pytest.approx(east + 360)  # one piece


@pytest.mark.parametrize("where", [EAST_SIDE, WEST_SIDE], ids=["east-of-180", "west-of-180"])
def test_tiles_and_annotations_on_both_sides(world: dict[str, Any], where: tuple) -> None:
    client, image = world["app"].test_client(), world["image"]
    tile = MERCATOR.tile(*where, 10)
    response = client.get(
        f"/tiles/{image['id']}/10/{tile.x}/{tile.y}.png", headers=world["headers"]
    )
    assert response.status_code == 200
    pixels = np.asarray(PILImage.open(io.BytesIO(response.data)))
    left, bottom, right, top = MERCATOR.xy_bounds(tile)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(*where)
    col, row = int((x - left) / (right - left) * 256), int((top - y) / (top - bottom) * 256)
    assert pixels.ndim == 2 or pixels[row, col, -1] == 255, "the tile shows the image there"
    box = box_polygon(*where, length_m=60.0, width_m=40.0, heading_deg=30)
    feature = {
        "type": "Feature",
        "geometry": json.loads(json.dumps(mapping(box))),
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": image["id"],
            "shape": "rotated-box",
            "confidence": "confirmed",
        },
    }
    created = client.post("/api/v1/annotations", json=feature, headers=world["headers"])
    assert created.status_code == 201, created.get_json()
    lon, lat = where
    found = client.get(
        f"/api/v1/annotations?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}",
        headers=world["headers"],
    ).get_json()
    assert [f["id"] for f in found["features"]] == [created.get_json()["id"]]


@pytest.mark.parametrize("where", [EAST_SIDE, WEST_SIDE], ids=["east-of-180", "west-of-180"])
def test_a_site_on_either_side_holds_the_image(world: dict[str, Any], where: tuple) -> None:
    client = world["app"].test_client()
    lon, lat = where
    slug = f"fiji-{'east' if lon > 0 else 'west'}"
    body = {"slug": slug, "name": slug, "lon": lon, "lat": lat, "radius_m": 2000}
    response = client.post("/api/v1/sites", json=body, headers=world["headers"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["image_ids"] == [world["image"]["id"]]


def test_the_stac_item_has_the_rfc_7946_box(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    response = client.get("/api/v1/exports?format=stac", headers=world["headers"])
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(f"/{world['image']['id']}.json")]
        item = json.loads(archive.read(name))
    assert item["bbox"] == pytest.approx(world["image"]["bbox"])
    assert item["bbox"][0] > item["bbox"][2] and item["geometry"]["type"] == "MultiPolygon"


def test_a_site_across_180_has_the_rfc_7946_box_and_its_own_utm_zone(
    world: dict[str, Any],
) -> None:
    """A site drawn across 180 degrees (sent split there) reads west > east in the API and
    in its OGC API collection's extent, whose UTM zone is the site's (60 south), not the
    zone of longitude 0 that the whole band's centre would give; it holds the image."""
    client = world["app"].test_client()
    halves = [
        [[179.5, -17.1], [180, -17.1], [180, -16.8], [179.5, -16.8], [179.5, -17.1]],
        [[-180, -17.1], [-179.6, -17.1], [-179.6, -16.8], [-180, -16.8], [-180, -17.1]],
    ]
    area = {"type": "MultiPolygon", "coordinates": [[ring] for ring in halves]}
    body = {"slug": "fiji-across", "name": "Fiji across 180", "area": area}
    made = client.post("/api/v1/sites", json=body, headers=world["headers"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["bbox"] == pytest.approx([179.5, -17.1, -179.6, -16.8])
    assert made.get_json()["image_ids"] == [world["image"]["id"]]
    collection = client.get("/ogcapi/collections/site-fiji-across", headers=world["headers"])
    assert collection.status_code == 200, collection.get_json()
    extent = collection.get_json()["extent"]["spatial"]["bbox"][0]
    assert extent == pytest.approx([179.5, -17.1, -179.6, -16.8])
    assert "http://www.opengis.net/def/crs/EPSG/0/32760" in collection.get_json()["crs"]
