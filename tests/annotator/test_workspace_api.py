"""What the workspace asks of the server: label type-ahead, measure-and-identify, the page,
and a basemap's origin in the CSP only when a deployment configures one."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import mapping

from annotations.catalogue.images import Provenance
from annotations.measure import box_polygon
from annotator import create_app, services
from annotator.config import ConfigError
from annotator.intake import Upload, import_images
from tests.conftest import login

Header = Callable[[str], dict[str, str]]


@pytest.fixture
def image(app: Flask, make_geotiff: Callable[..., Path]) -> Any:
    path = make_geotiff("apron.tif")  # 0.5 m pixels in UTM 36N
    return import_images(services.database(app), app.config["IMAGES_DIR"],
                         [Upload(path, "apron.tif")], Provenance(provider="<b>P</b>"),
                         max_pixels=10**9)[0].image  # fmt: skip


def centre(image: Any) -> tuple[float, float]:
    return (image.min_lon + image.max_lon) / 2, (image.min_lat + image.max_lat) / 2


def box(image: Any, length: float, span: float, heading: float = 262.0) -> dict[str, Any]:
    return json.loads(json.dumps(mapping(box_polygon(*centre(image), length, span, heading))))


def test_label_search_finds_by_number_and_prefix(app: Flask, auth_header: Header) -> None:
    client = app.test_client()
    found = client.get("/api/v1/labels?q=124", headers=auth_header("viewer")).get_json()
    assert found["labels"][0]["id"] == "aircraft.transport.an-124"
    il = client.get("/api/v1/labels?q=il", headers=auth_header("viewer")).get_json()
    ids = [label["id"] for label in il["labels"]]
    assert {"aircraft.transport.il-76", "aircraft.transport.il-62"} <= set(ids)
    assert "colour" in il["labels"][0] and "attributes" in il["labels"][0]
    everything = client.get("/api/v1/labels", headers=auth_header("viewer")).get_json()
    assert len(everything["labels"]) > len(ids)
    for bad in ("limit=0", "limit=101", "limit=ten"):
        response = client.get(f"/api/v1/labels?q=il&{bad}", headers=auth_header("viewer"))
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_measure_ranks_an_124_first_for_69_by_73(app: Flask, auth_header: Header, image: Any
                                                 ) -> None:  # fmt: skip
    client = app.test_client()
    body = {"geometry": box(image, 69.0, 73.0), "image_id": image.id}
    answer = client.post("/api/v1/measure", json=body, headers=auth_header("viewer"))
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert result["candidates"][0]["label"] == "aircraft.transport.an-124"
    assert result["candidates"][0]["fits"] is True
    assert result["gsd_m"] == pytest.approx(0.5) and result["tolerance_m"] == pytest.approx(1.0)
    assert result["measurements"]["length_m"] == pytest.approx(73.0, abs=0.05)
    assert result["measurements"]["width_m"] == pytest.approx(69.0, abs=0.05)
    # shown as the An-124 is described: 69 m long, 73 m span
    assert result["aircraft"]["length_m"] == pytest.approx(69.0, abs=0.05)
    assert result["aircraft"]["span_m"] == pytest.approx(73.0, abs=0.05)
    # the same numbers the API stores with a saved annotation
    properties = {"label": "aircraft.transport.an-124", "image_id": image.id}
    feature = {"type": "Feature", "geometry": body["geometry"], "properties": properties}
    saved = client.post("/api/v1/annotations", json=feature, headers=auth_header("analyst"))
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["properties"]["measurements"] == result["measurements"]
    body = {"geometry": box(image, 46.6, 50.5), "image_id": image.id}
    il_76 = client.post("/api/v1/measure", json=body, headers=auth_header("viewer"))
    assert il_76.get_json()["candidates"][0]["label"] == "aircraft.transport.il-76"


def test_measure_a_line_and_a_point(app: Flask, auth_header: Header, image: Any) -> None:
    lon, lat = centre(image)
    client = app.test_client()
    line = {"type": "LineString", "coordinates": [[lon, lat], [lon, lat + 0.001]]}
    result = client.post("/api/v1/measure", json={"geometry": line, "image_id": image.id},
                         headers=auth_header("viewer")).get_json()  # fmt: skip
    assert result["measurements"]["length_m"] == pytest.approx(110.9, abs=0.2)
    assert result["candidates"] == [] and result["aircraft"] is None
    point = {"type": "Point", "coordinates": [lon, lat]}
    result = client.post("/api/v1/measure", json={"geometry": point, "image_id": image.id},
                         headers=auth_header("viewer")).get_json()  # fmt: skip
    assert result["measurements"] == {} and result["candidates"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}, 422),
        ({"geometry": {"type": "Point", "coordinates": [500, 0]}}, 422),
        ({"geometry": {"type": "Blob"}}, 400),
        ({"geometry": None}, 400),
        ({"image_id": None}, 422),
        ({"image_id": "0" * 32}, 404),
    ],
)
def test_measure_refuses_bad_input(app: Flask, auth_header: Header, image: Any,
                                   body: dict[str, Any], status: int) -> None:  # fmt: skip
    lon, lat = centre(image)
    request = {"geometry": {"type": "Point", "coordinates": [lon, lat]}, "image_id": image.id}
    request.update(body)
    response = app.test_client().post("/api/v1/measure", json=request,
                                      headers=auth_header("viewer"))  # fmt: skip
    assert response.status_code == status, response.get_json()
    assert set(response.get_json()) == {"error", "message", "details"}


def test_the_workspace_page(app: Flask, image: Any) -> None:
    client = app.test_client()
    login(client, "analyst")
    page = client.get(f"/images/{image.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for script in ("vendor/leaflet-geoman/leaflet-geoman.min.js", "workspace/draw.js"):
        assert script in html
        static = client.get(f"/static/{script}")
        assert static.status_code == 200
        static.close()
    data = json.loads(re.search(r'id="image-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert data["can_edit"] is True and data["user"] == "analyst" and data["basemap"] is None
    assert data["gsd_m"] == pytest.approx(0.5)
    assert "&lt;b&gt;P&lt;/b&gt;" in html and "<b>P</b>" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in csp and "http" not in csp
    assert "<script>" not in html, "no inline scripts: the CSP forbids them"
    client.post("/logout", data={"csrf_token": data["csrf"]})
    login(client, "viewer")
    viewer = client.get(f"/images/{image.id}").get_data(as_text=True)
    assert 'data-tool="box"' not in viewer and "drawing needs the analyst role" in viewer


def test_a_configured_basemap_and_only_its_origin(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "k",
                      "BASEMAP_URL": "https://tiles.example.org/osm/{z}/{x}/{y}.png",
                      "BASEMAP_ATTRIBUTION": "© <OpenStreetMap> contributors"})  # fmt: skip
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tiles.example.org;" in csp
    assert csp.count("example.org") == 1
    services.database(app).dispose()
    for url in ("ftp://x.org/{z}/{x}/{y}", "https://x.org/tiles", "https://a'b.org/{z}/{x}/{y}",
                "javascript:alert(1)//{z}{x}{y}"):  # fmt: skip
        with pytest.raises(ConfigError):
            create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "k", "BASEMAP_URL": url})
