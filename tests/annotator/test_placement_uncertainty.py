"""Honest uncertainty everywhere it travels: on a capture placed by ground control points with
an RMSE, an annotation's measurements carry it (API and stored), the measure answer widens
its tolerance by it, exports say "placed by 9 control points, RMSE N m" (CSV column, KML
balloon), and so do the published evidence's manifest, KML, story map popups and figure
credit. A north-up capture of the same place gets none of it."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from rasterio.control import GroundControlPoint
from shapely.geometry import mapping

from annotations.measure import box_polygon
from tests.conftest import _app_with_users, make_app, write_geotiff
from tests.newsroom import CENTRE, Newsroom, catalogued, newsroom

CAPTURE = "2024-12-13T08:21:00Z"


def gcp_geotiff(path: Path, noise_m: float) -> Path:
    """make_geotiff's scene (400 x 300 px of 0.5 m in UTM 36N near Hmeimim) placed by nine
    ground control points only, each moved by `noise_m` of seeded noise."""
    rng = np.random.default_rng(3)
    gcps = []
    for col in (0, 200, 400):
        for row in (0, 150, 300):
            dx, dy = rng.normal(0, noise_m, 2)
            x, y = 790_000 + 0.5 * col + dx, 3_922_000 - 0.5 * row + dy
            gcps.append(GroundControlPoint(row=row, col=col, x=x, y=y))
    data = np.random.default_rng(5).integers(1, 255, (3, 300, 400), dtype=np.uint8)
    return write_geotiff(path, data, gcps=gcps, crs="EPSG:32636", transform=None)


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Newsroom, str, float]]:
    """A newsroom whose capture is placed by GCPs, a north-up capture of the same place, and
    the placement's RMSE as ingest recorded it."""
    folder = tmp_path_factory.mktemp("placement")
    for app in _app_with_users(make_app(folder)):
        room = newsroom(app, gcp_geotiff(folder / "gcps.tif", noise_m=2.0))
        north_up = catalogued(app, write_geotiff(folder / "north-up.tif"))
        image = room.call("GET", f"/api/v1/images/{room.image_id}").get_json()
        assert image["georeferencing"]["method"] == "gcp-polynomial"
        yield room, north_up.id, float(image["georeferencing"]["rms_m"])


def box_on(image_id: str) -> dict[str, Any]:
    shape = box_polygon(CENTRE[0], CENTRE[1], length_m=69, width_m=73, heading_deg=30)
    return {
        "type": "Feature",
        "geometry": json.loads(json.dumps(mapping(shape))),
        "properties": {"label": "aircraft.transport.an-124", "image_id": image_id},
    }


def test_the_placement_has_an_rmse_worth_stating(placed: tuple[Newsroom, str, float]) -> None:
    _, _, rmse = placed
    # 2 m of noise on each axis, 3 of the 9 points' degrees of freedom used by the affine fit
    assert 1.0 < rmse < 4.0


def test_measurements_carry_the_placement_error(placed: tuple[Newsroom, str, float]) -> None:
    room, north_up, rmse = placed
    made = room.call("POST", "/api/v1/annotations", "analyst", json=box_on(room.image_id))
    assert made.status_code == 201, made.get_json()
    measured = made.get_json()["properties"]["measurements"]
    assert measured["placement_error_m"] == rmse
    assert measured["length_m"] == pytest.approx(73, abs=0.1)
    shown = room.call("GET", f"/api/v1/annotations/{made.get_json()['id']}").get_json()
    assert shown["properties"]["measurements"] == measured
    plain = room.call("POST", "/api/v1/annotations", "analyst", json=box_on(north_up))
    assert "placement_error_m" not in plain.get_json()["properties"]["measurements"]
    # the live measure: the error beside the sizes, the tolerance widened by it
    body = {"geometry": box_on(room.image_id)["geometry"], "image_id": room.image_id}
    answer = room.call("POST", "/api/v1/measure", "analyst", json=body).get_json()
    assert answer["placement_error_m"] == rmse
    assert answer["measurements"]["placement_error_m"] == rmse
    assert answer["tolerance_m"] == pytest.approx(2 * answer["gsd_m"] + rmse, abs=0.001)
    assert answer["candidates"][0]["label"] == "aircraft.transport.an-124"
    body["image_id"] = north_up
    answer = room.call("POST", "/api/v1/measure", "analyst", json=body).get_json()
    assert answer["placement_error_m"] is None and answer["tolerance_m"] == 1.0
    assert "placement_error_m" not in answer["measurements"]
    # a bulk import measures on arrays: the same error in the same text
    collection = {"type": "FeatureCollection", "features": [box_on(room.image_id)]}
    imported = room.call(
        "POST",
        "/api/v1/imports",
        "analyst",
        data={"file": (io.BytesIO(json.dumps(collection).encode()), "one.geojson")},
    )
    assert imported.status_code in (200, 201), imported.get_json()
    [made_id] = imported.get_json()["annotation_ids"]
    got = room.call("GET", f"/api/v1/annotations/{made_id}").get_json()
    assert got["properties"]["measurements"] == measured


def test_exports_say_how_the_capture_was_placed(placed: tuple[Newsroom, str, float]) -> None:
    room, north_up, rmse = placed
    words = f"placed by 9 control points, RMSE {rmse:.1f} m"
    for image_id in (room.image_id, north_up):
        made = room.call("POST", "/api/v1/annotations", "analyst", json=box_on(image_id))
        assert made.status_code == 201
    got = room.call("GET", "/api/v1/exports?format=csv", "analyst")
    assert got.status_code == 200, got.get_json()
    rows = list(csv.DictReader(io.StringIO(got.data.decode("utf-8-sig"))))
    by_image = {row["image_id"]: row for row in rows}
    assert by_image[room.image_id]["georeferencing"] == words
    assert json.loads(by_image[room.image_id]["measurements"])["placement_error_m"] == rmse
    assert by_image[north_up]["georeferencing"] == "north-up geotransform"
    kml = room.call("GET", "/api/v1/exports?format=kml", "analyst").data.decode()
    balloons = re.findall(r"<description>(.*?)</description>", kml, re.S)
    assert any(words in b for b in balloons) and any("placed by" not in b for b in balloons)


def test_the_published_evidence_says_it(placed: tuple[Newsroom, str, float]) -> None:
    room, _, rmse = placed
    words = f"placed by 9 control points, RMSE {rmse:.1f} m"
    said = words[0].upper() + words[1:]
    base, _ = room.published()
    bundle = zipfile.ZipFile(io.BytesIO(room.call("GET", f"{base}/bundle.zip").data))
    manifest = json.loads(bundle.read("manifest.json"))
    assert [image["georeferencing"] for image in manifest["images"]] == [words]
    assert [image["placement_error_m"] for image in manifest["images"]] == [rmse]
    kml_name = next(n for n in bundle.namelist() if n.endswith(".kml"))
    assert said in bundle.read(kml_name).decode()
    story = room.call("GET", f"{base}/map.html").data.decode()
    assert "evidence-placement" in story and story.count(said) >= 2  # popup, credits
    figure = room.call("GET", f"{base}/figure.svg?width=800")
    assert figure.status_code == 200
    # the credit under the caption, wrapped over lines as the figure's width needs
    lines = re.findall(r"<text[^>]*>([^<]*)</text>", figure.data.decode())
    assert said in " ".join(lines)
    # a report in Arabic: the figure's credit says it in Arabic, the figures kept apart
    base, _ = room.published(language="ar")
    figure = room.call("GET", f"{base}/figure.svg?width=800")
    lines = re.findall(r"<text[^>]*>([^<]*)</text>", figure.data.decode())
    plain = " ".join(lines).replace("\u2068", "").replace("\u2069", "")
    assert f"نقاط التحكم: 9، خطأ التموضع (RMSE): {rmse:.1f} م" in plain


def test_the_info_bar_says_placed_by_once(placed: tuple[Newsroom, str, float]) -> None:
    """A press picture's record already reads "placed by ..." (imagery.press.fit)."""
    room, _, _ = placed
    template = room.app.jinja_env.get_template("_georeferencing.html")
    for text, shown in (
        ("placed by 4 control points (affine), RMSE 2.5 m", "placed by 4 control points"),
        ("GCP polynomial 1, RMS 3.4 m (9 points)", "placed by GCP polynomial 1"),
        ("<b>RPC</b>", "placed by &lt;b&gt;RPC&lt;/b&gt;"),
    ):
        record = {"method": "georeferenced", "text": text}
        with room.app.test_request_context():
            html = template.render(image=SimpleNamespace(georeferencing=record, acquisition={}))
        assert shown in html and "placed by placed by" not in html, html
