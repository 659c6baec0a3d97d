"""The demo's press picture (issue 14 item 5): placed by its control points through the same
code as the CLI and the API, its two An-124s measured on it with the placement's error, and
linked to the seed report's claim; published with the report."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from annotator.demo.loader import SEED_TITLE
from annotator.demo.press import CREDIT, PRESS_NAME, SOURCE_URL, WIDTH
from annotator.demo.scene import SYNTHETIC_NOTE
from tests.conftest import token_for


def test_the_press_picture_placed_measured_linked_and_published(demo_app: Flask) -> None:
    client = demo_app.test_client()
    viewer = {"Authorization": f"Bearer {token_for(demo_app, 'viewer')}"}
    analyst = {"Authorization": f"Bearer {token_for(demo_app, 'analyst')}"}

    def get(path: str) -> Any:
        response = client.get(path, headers=viewer)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        return response.get_json() if response.is_json else response.data

    # the article's picture: a JPEG under 1200 px, SYNTHETIC in its pixels' caption and EXIF
    picture = Path(demo_app.config["DATA_DIR"]) / "demo" / PRESS_NAME
    with Image.open(picture) as opened:
        assert opened.format == "JPEG" and opened.size[0] == WIDTH <= 1200
        assert opened.getexif()[0x010E] == SYNTHETIC_NOTE
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()

    images = get("/api/v1/images?limit=100")["images"]
    [press] = [image for image in images if image["original_filename"] == PRESS_NAME]
    capture = next(i for i in images if i["original_filename"].endswith("2024-12-13.tif"))
    assert press["synthetic"] and SYNTHETIC_NOTE in press["description"]
    assert press["attribution"] == CREDIT and press["provider"] == "annotator demo (synthetic)"
    assert press["captured_at"] == "2024-12-13T00:00:00Z" and press["sites"] == ["hmeimim"]
    assert press["georeferencing"]["method"] == "georeferenced"
    assert press["georeferencing"]["points"] == "6"

    placed = get(f"/api/v1/images/{press['id']}/georeference")["placement"]
    assert placed["method"] == "affine" and len(placed["gcps"]) == 6
    assert 0.05 < placed["rmse_m"] < 1.0, "picked by hand off the truth: small, not zero"
    assert len(placed["residuals_m"]) == 6
    assert placed["original_sha256"] == digest and placed["original_name"] == PRESS_NAME
    assert placed["source_url"] == SOURCE_URL and ".example.org/" in SOURCE_URL
    assert placed["credit"] == CREDIT and placed["captured"].startswith("2024-12-13")
    assert placed["reference_image"] == capture["id"] and placed["placed_by"] == "analyst"
    assert placed["version"] == 1 and placed["previous"] is None
    kept = Path(demo_app.config["IMAGES_DIR"]).parent / "originals" / digest
    assert kept.read_bytes() == picture.read_bytes(), "the original kept untouched"

    # its two An-124s, measured on the placed picture: about 73 x 69 m, the RMSE attached
    features = get(f"/api/v1/annotations?image={press['id']}")["features"]
    assert [f["properties"]["label"] for f in features] == ["aircraft.transport.an-124"] * 2
    for feature in features:
        properties = feature["properties"]
        measured = properties["measurements"]
        assert measured["length_m"] == pytest.approx(73.3, abs=1.0)
        assert measured["width_m"] == pytest.approx(68.96, abs=1.0)
        assert measured["placement_error_m"] == placed["rmse_m"]
        assert properties["status"] == "approved"
        # the size ranking on the placed picture, its tolerance widened by the RMSE
        body = {"geometry": feature["geometry"], "image_id": press["id"]}
        ranked = client.post("/api/v1/measure", headers=analyst, json=body)
        assert ranked.status_code == 200, ranked.get_json()
        assert ranked.get_json()["placement_error_m"] == placed["rmse_m"]
        assert ranked.get_json()["candidates"][0]["label"] == "aircraft.transport.an-124"

    # linked to the seed report's claim about the two AN-124s, and in its publication
    reports = get("/api/v1/reports")["reports"]
    report = get(f"/api/v1/reports/{next(r['id'] for r in reports if r['title'] == SEED_TITLE)}")
    claim = report["claims"][0]
    assert "AN-124" in claim["exact"]
    linked = {link["annotation_id"]: link for link in report["links"]}
    for feature in features:
        assert linked[feature["id"]]["claim_id"] == claim["id"]
        assert linked[feature["id"]]["stance"] == "supports"
    evidence = get(f"/api/v1/reports/{report['id']}/publications/1")
    assert {f["id"] for f in features} <= {a["id"] for a in evidence["annotations"]}
    [frozen] = [image for image in evidence["images"] if image["id"] == press["id"]]
    assert frozen["placement_error_m"] == placed["rmse_m"] and frozen["placement_points"] == 6
    assert frozen["georeferencing"].startswith("placed by 6 control points, RMSE")
