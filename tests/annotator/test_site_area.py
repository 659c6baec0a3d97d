"""`site=` selects by the site's area, not by image membership: one wide (global-like)
capture attached to two sites brings into each only the annotations lying in its own area,
in the list and its pages, exports (HTTP and CLI), the timeline's counts and the activity
feed, on SQLite and on PostGIS."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box, mapping

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.cli import main
from annotator.intake import Upload, import_images
from tests.conftest import token_for

#: site A is a triangle (its bounds hold a corner outside it); site B a square
AREA_A = Polygon([(31, 36), (34, 36), (31, 39)])
AREA_B = box(36, 36, 39, 39)


def bearer(app: Flask, user: str = "analyst") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def annotate(app: Flask, image_id: str, geometry: dict[str, Any]) -> str:
    feature = {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"label": "vehicle.truck", "image_id": image_id},
    }
    made = app.test_client().post("/api/v1/annotations", json=feature, headers=bearer(app))
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["id"])


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def world(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    return build_world(app_on_each_backend, make_geotiff)


def build_world(app: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    """A capture of lon 30..40, lat 35..40 (in both sites) and five annotations on it."""
    data = np.full((3, 100, 200), 90, dtype=np.uint8)
    path = make_geotiff("wide.tif", data=data, crs="EPSG:4326",
                        transform=from_origin(30.0, 40.0, 0.05, 0.05))  # fmt: skip
    [result] = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(path, path.name)],
        Provenance(),
        captured=datetime(2024, 12, 10, 9, tzinfo=UTC),
        max_pixels=10**9,
    )
    image = result.image.id
    client = app.test_client()
    for name, area in [("Site A", AREA_A), ("Site B", AREA_B)]:
        made = client.post("/api/v1/sites", json={"name": name, "area": mapping(area)},
                           headers=bearer(app))  # fmt: skip
        assert made.status_code == 201, made.get_json()
        assert made.get_json()["image_ids"] == [image]
    ids = {
        "inside_a": annotate(app, image, point(31.5, 36.5)),
        # in A's bounds but beyond the triangle's long edge: only the exact test drops it
        "a_corner": annotate(app, image, point(33.5, 38.5)),
        "inside_b": annotate(app, image, mapping(box(37, 37, 37.5, 37.5))),
        # across A's west edge (lon 31): it meets A, so it is A's
        "straddling_a": annotate(app, image, mapping(box(30.5, 37, 31.5, 37.5))),
        "between": annotate(app, image, point(35, 38)),
    }
    return {"app": app, "image": image, "ids": ids}


def listed(app: Flask, query: str) -> list[str]:
    response = app.test_client().get(f"/api/v1/annotations?{query}", headers=bearer(app))
    assert response.status_code == 200, response.get_json()
    return [feature["id"] for feature in response.get_json()["features"]]


def test_each_site_holds_exactly_its_own_in_lists_pages_exports_and_counts(
    world: dict[str, Any],
) -> None:
    app, ids = world["app"], world["ids"]
    own = {"site-a": {ids["inside_a"], ids["straddling_a"]}, "site-b": {ids["inside_b"]}}
    client = app.test_client()
    for slug, expected in own.items():
        assert sorted(listed(app, f"site={slug}")) == sorted(expected)
        exported = client.get(f"/api/v1/exports?format=geojson&site={slug}", headers=bearer(app))
        assert exported.status_code == 200
        assert {f["id"] for f in json.loads(exported.get_data())["features"]} == expected
        timeline = client.get(f"/api/v1/sites/{slug}/timeline", headers=bearer(app))
        [capture] = timeline.get_json()["captures"]
        assert capture["image_id"] == world["image"]
        assert capture["objects"] == len(expected)
        assert sum(count["annotations"] for count in capture["counts"]) == len(expected)
        feed = client.get(f"/api/v1/sites/{slug}/activity", headers=bearer(app)).get_json()
        subjects = {
            e["subject"]["id"] for e in feed["entries"] if e["subject"]["type"] == "annotation"
        }
        assert subjects == expected
    # the image itself still lists all five, and a bbox shares a statement with a site
    assert len(listed(app, f"image={world['image']}")) == 5
    assert sorted(listed(app, "site=site-a&bbox=30,35,31.6,40")) == sorted(
        [ids["inside_a"], ids["straddling_a"]]
    )
    assert listed(app, "site=site-a&bbox=32,35,40,40") == []
    # pages of one hold each exactly once
    seen, url = [], "/api/v1/annotations?site=site-a&limit=1"
    while url:
        page = client.get(url, headers=bearer(app)).get_json()
        assert page["numberReturned"] == 1  # the exact test is in SQL: no short pages
        seen += [feature["id"] for feature in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), "")
    assert sorted(seen) == sorted([ids["inside_a"], ids["straddling_a"]])


def test_cli_export_and_an_unknown_site(
    app: Flask, make_geotiff: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite only: the CLI builds the same Filters as HTTP, whose SQL runs on both
    backends above (an in-process CLI on PostGIS leaves its pool to the garbage collector)."""
    ids = build_world(app, make_geotiff)["ids"]
    monkeypatch.setenv("ANNOTATOR_DATA_DIR", str(app.config["DATA_DIR"]))
    runner = CliRunner()
    target = tmp_path / "b.geojson"
    args = ["export", "--format", "geojson", "--site", "site-b", "-o", str(target), "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["annotations"] == 1
    assert [f["id"] for f in json.loads(target.read_text())["features"]] == [ids["inside_b"]]
    result = runner.invoke(main, ["export", "--format", "geojson", "--site", "nowhere",
                                  "-o", str(tmp_path / "x.geojson")])  # fmt: skip
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no site 'nowhere'" in lines[0], result.stderr
    assert not (tmp_path / "x.geojson").exists()
    client = app.test_client()
    for url in ["/api/v1/annotations?site=nowhere", "/api/v1/exports?format=gpkg&site=nowhere"]:
        response = client.get(url, headers=bearer(app))
        assert response.status_code == 404, url
        assert "no site 'nowhere'" in response.get_json()["message"]
