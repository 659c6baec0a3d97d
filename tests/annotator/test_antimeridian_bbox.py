"""bbox filters across the antimeridian (west > east, RFC 7946 section 5.2 and OGC API
Features): read as [west, 180] and [-180, east], through the annotations list, the exports
and the OGC API items, on SQLite and on PostGIS. Annotations lie on both sides of 180 degrees
and one far away; a box across 180 finds the two near ones and never the far one. A shape
that misses such an image is refused naming the footprint's real extent across 180."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from rasterio.transform import from_origin

from annotations.measure import box_polygon
from tests.antimeridian import upload
from tests.conftest import _app_with_users, make_app, token_for, write_geotiff

#: where each annotation is put: a square of 200 m around the point
PLACES = {"east": (179.8, -16.9), "west": (-179.8, -16.9), "far": (10.0, 45.0)}


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp(f"bbox-{request.param}")
    url = f"sqlite:///{folder}/db.sqlite"
    if request.param == "postgis":
        url = request.getfixturevalue("postgis_cluster").create_database()
    app = next(_app_with_users(make_app(folder, url)))
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    data = np.random.default_rng(3).integers(1, 255, (1, 40, 80), dtype=np.uint8)
    across = write_geotiff(  # a lon/lat grid from 179.6 to 180.4: cut at 180
        folder / "across.tif",
        data,
        crs="EPSG:4326",
        transform=from_origin(179.6, -16.7, 0.01, 0.01),
    )
    far = write_geotiff(
        folder / "far.tif", data, crs="EPSG:4326", transform=from_origin(9.6, 45.2, 0.01, 0.01)
    )
    images = {"across": upload(app, headers, across), "far": upload(app, headers, far)}
    ids = {}
    client = app.test_client()
    for name, (lon, lat) in PLACES.items():
        image = images["far" if name == "far" else "across"]
        shape = box_polygon(lon, lat, length_m=200.0, width_m=200.0, heading_deg=0)
        feature = {
            "type": "Feature",
            "geometry": shape.__geo_interface__,
            "properties": {"label": "aircraft", "image_id": image["id"], "shape": "polygon"},
        }
        created = client.post("/api/v1/annotations", json=json.loads(json.dumps(feature)),
                              headers=headers)  # fmt: skip
        assert created.status_code == 201, created.get_json()
        ids[created.get_json()["id"]] = name
    yield app, headers, ids, images
    from annotator import services

    services.database(app).dispose()


def _names(world: Any, path: str) -> set[str]:
    app, headers, ids, _images = world
    response = app.test_client().get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return {ids[feature["id"]] for feature in json.loads(response.get_data())["features"]}


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("179.7,-17,-179.7,-16.8", {"east", "west"}),  # across 180: both sides
        ("179.9,-17,-179.7,-16.8", {"west"}),  # across 180, the east one outside
        ("179.7,-17,-179.9,-16.8", {"east"}),  # across 180, the west one outside
        ("179.7,-17,179.9,-16.8", {"east"}),  # an ordinary box
        ("5,-60,-170,60", {"east", "west", "far"}),  # the long way round
        ("179.7,10,-179.7,20", set()),  # across 180, north of everything
    ],
)
def test_the_annotations_list_reads_a_box_across_180(world: Any, bbox: str, expected: set) -> None:
    assert _names(world, f"/api/v1/annotations?bbox={bbox}") == expected
    assert _names(world, f"/ogcapi/collections/annotations/items?bbox={bbox}") == expected
    assert _names(world, f"/api/v1/exports?format=geojson&bbox={bbox}") == expected


def test_the_ogc_api_reads_a_box_across_180_in_its_other_crss(world: Any) -> None:
    """EPSG:4326 is lat,lon: the box's corners swap, and west > east still means across."""
    crs = "http://www.opengis.net/def/crs/EPSG/0/4326"
    path = f"/ogcapi/collections/annotations/items?bbox=-17,179.7,-16.8,-179.7&bbox-crs={crs}"
    assert _names(world, path) == {"east", "west"}


@pytest.mark.parametrize("bbox", ["181,-17,-179,-16", "179,-17,-181,-16", "179,-16,-179,-17"])
def test_a_box_outside_the_world_is_still_refused(world: Any, bbox: str) -> None:
    app, headers, _ids, _images = world
    for path in ("/api/v1/annotations", "/ogcapi/collections/annotations/items"):
        response = app.test_client().get(f"{path}?bbox={bbox}", headers=headers)
        assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
        assert "bbox" in response.get_json()["message"]


def test_a_shape_off_an_image_across_180_names_its_real_extent(world: Any) -> None:
    app, headers, _ids, images = world
    shape = box_polygon(0.0, 0.0, length_m=200.0, width_m=200.0, heading_deg=0)
    feature = {
        "type": "Feature",
        "geometry": json.loads(json.dumps(shape.__geo_interface__)),
        "properties": {"label": "aircraft", "image_id": images["across"]["id"], "shape": "polygon"},
    }
    response = app.test_client().post("/api/v1/annotations", json=feature, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert "lon 179.6000 to -179.6000 across 180, lat -17.1000..-16.7000" in body["message"]
    assert "-180" not in body["message"]
    west, _south, east, _north = body["details"]["image_bbox"]
    assert (west, east) == pytest.approx((179.6, -179.6))
