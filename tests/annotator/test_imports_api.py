"""POST /api/v1/imports: multipart upload, dry run, roles, CSRF, and 4xx JSON for bad files."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.annotations.test_imports import add_image, count
from tests.conftest import login, token_for

Header = Callable[[str], dict[str, str]]


def post(app: Flask, raw: bytes, name: str, headers: dict[str, str], **form: Any
         ) -> TestResponse:  # fmt: skip
    data = {"file": (io.BytesIO(raw), name), **form}
    return app.test_client().post("/api/v1/imports", data=data, headers=headers,
                                  content_type="multipart/form-data")  # fmt: skip


@pytest.fixture
def atlanta_app(app_on_each_backend: Flask, shared_data: Path) -> Flask:
    add_image(app_on_each_backend, shared_data / "sample_geotiff.tif")
    return app_on_each_backend


def test_upload_dry_run_then_import_then_again(atlanta_app: Flask, shared_data: Path) -> None:
    app = atlanta_app
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    form = {"label_field": "building", "label_map": '{"yes": "structure"}'}
    dry = post(app, raw, "labels.geojson", analyst, dry_run="true", **form)
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["would_create"] == 43 and count(app) == 0
    made = post(app, raw, "../../labels.geojson", analyst, **form)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["created"] == 43 and body["source"]["name"] == "labels.geojson"
    first = app.test_client().get(f"/api/v1/annotations/{body['annotation_ids'][0]}",
                                  headers=analyst).get_json()  # fmt: skip
    assert first["properties"]["created_by"] == "analyst"
    assert first["properties"]["status"] == "draft"
    assert first["properties"]["source"]["imported_from"]["file"] == "labels.geojson"
    again = post(app, raw, "labels.geojson", analyst, **form)
    assert again.status_code == 200 and again.get_json()["already_imported"] == 43
    assert count(app) == 43


def test_label_map_as_a_csv_file_part(app: Flask, shared_data: Path) -> None:
    add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    response = post(app, raw, "labels.geojson", analyst, label_field="building",
                    label_map=(io.BytesIO(b"yes,structure.hangar\n"), "map.csv"))  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["by_label"] == {"structure.hangar": 43}


def test_viewers_may_not_import_and_browsers_need_csrf(app: Flask, shared_data: Path) -> None:
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    viewer = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
    assert post(app, raw, "l.geojson", viewer, dry_run="1").status_code == 403
    client = app.test_client()
    token = login(client, "analyst")
    data = {"file": (io.BytesIO(raw), "l.geojson"), "dry_run": "1", "label_field": "building"}
    refused = client.post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert refused.status_code in (400, 403) and refused.get_json()["error"] == "csrf_failed"
    data = {"file": (io.BytesIO(raw), "l.geojson"), "dry_run": "1", "label_field": "building",
            "label_map": "yes,structure", "csrf_token": token}  # fmt: skip
    accepted = client.post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert accepted.status_code == 200, accepted.get_json()
    # no image yet: every building is listed, none is imported
    assert accepted.get_json()["outside_every_image"] == 43


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, raw in entries.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


def test_bad_files_get_4xx_json_and_import_nothing(app: Flask, shared_data: Path) -> None:
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    labels = (shared_data / "geotiff_labels.geojson").read_bytes()
    xxe = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' \
          b"<kml><Placemark><name>&x;</name></Placemark></kml>"  # fmt: skip
    cases: list[tuple[bytes, str, int, str, dict[str, str]]] = [
        (zipped({"../../evil.shp": b"x"}), "slip.zip", 422, "unsafe_file", {}),
        (zipped({"a.shp": b"\0" * 5_000_000}), "bomb.zip", 422, "unsafe_file", {}),
        (zipped({"readme.txt": b"hello"}), "none.zip", 422, "unreadable_file", {}),
        (xxe, "x.kml", 422, "unsafe_file", {}),
        (labels[: len(labels) // 2], "cut.geojson", 422, "unreadable_file", {}),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "a.png", 415, "unsupported_format", {}),
        (labels, "l.geojson", 422, "invalid", {"label_field": "building"}),
        (labels, "l.geojson", 422, "invalid", {"label_map": "{not json"}),
        (labels, "l.geojson", 404, "not_found", {"image": "f" * 32}),
    ]
    for raw, name, status, code, form in cases:
        response = post(app, raw, name, analyst, **form)
        assert response.status_code == status, (name, response.get_json())
        body = response.get_json()
        assert body["error"] == code and body["message"], (name, body)
    missing = app.test_client().post("/api/v1/imports", data={"dry_run": "1"}, headers=analyst,
                                     content_type="multipart/form-data")  # fmt: skip
    assert missing.status_code == 400 and "'file'" in missing.get_json()["message"]
    assert count(app) == 0
    assert list(Path(app.config["TMP_DIR"]).iterdir()) == []


def test_uploads_over_the_limit_get_413(app: Flask, shared_data: Path) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    response = post(app, raw, "l.geojson", analyst, dry_run="1")
    assert (
        response.status_code == 413 and response.get_json()["error"] == "request_entity_too_large"
    )


def test_unknown_labels_are_listed_in_the_error(app: Flask, shared_data: Path) -> None:
    add_image(app, shared_data / "sample_geotiff.tif")
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    raw = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"label": value},
         "geometry": {"type": "Point", "coordinates": [-84.479, 33.638 + i * 0.0005]}}
        for i, value in enumerate(["house", "shed", "structure"])]}).encode()  # fmt: skip
    response = post(app, raw, "osm.geojson", analyst)
    assert response.status_code == 422
    body = response.get_json()
    assert body["details"]["unknown_labels"] == ["house", "shed"]
    assert "'house', 'shed'" in body["message"]
    assert count(app) == 0
