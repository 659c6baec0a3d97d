"""Error messages about uploads name the file the user sent, never the server's temporary
copy (issue 10, item 17): image uploads (one file or a batch), the imports API and the
import page. GDAL's and SQLite's own words, which hold the path they were given, are kept,
with that path replaced by the user's name."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from flask import Flask

from tests.annotator.test_images_api import _bad_files, multipart, upload
from tests.conftest import login

Header = Callable[[str], dict[str, str]]
#: names of ours that must never reach a user
OURS = ("0.tif", "1.tif", "upload-", ".ingest-", "import-", "source", "unzipped", "/tmp", "tmp/")


def assert_names_only_theirs(message: str, name: str, app: Flask) -> None:
    assert name in message, message
    for ours in (*OURS, str(app.config["TMP_DIR"]), str(app.config["DATA_DIR"])):
        assert ours not in message.replace(name, ""), (ours, message)


def test_image_upload_errors_name_the_file_sent(
    app: Flask, auth_header: Header, tmp_path: Path, make_geotiff: Callable[..., Path]
) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    for kind, (path, status) in _bad_files(tmp_path, make_geotiff).items():
        name = f"Mission {kind} pass.tif"
        response = upload(client, headers, path, name=name)
        assert response.status_code == status, (kind, response.get_json())
        assert_names_only_theirs(response.get_json()["message"], name, app)


def test_a_batch_names_the_file_that_failed(
    app: Flask, auth_header: Header, tmp_path: Path, make_geotiff: Callable[..., Path]
) -> None:
    good = make_geotiff("good.tif")
    whole = make_geotiff(
        "whole.tif", data=np.random.default_rng(1).integers(0, 255, (3, 800, 800), dtype=np.uint8)
    )
    for name, raw, status in (
        ("second pass.tif", b"", 415),
        ("cut short.tif", whole.read_bytes()[: whole.stat().st_size // 2], 422),
    ):
        pairs = [("file", (good.read_bytes(), "first pass.tif")), ("file", (raw, name))]
        response = multipart(app.test_client(), auth_header("analyst"), pairs)
        assert response.status_code == status, response.get_json()
        message = response.get_json()["message"]
        assert_names_only_theirs(message, name, app)
        assert "first pass.tif" not in message


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, raw in entries.items():
            zipped.writestr(name, raw)
    return buffer.getvalue()


def bad_imports() -> dict[str, bytes]:
    """User's name -> content that GDAL, SQLite or our checks refuse."""
    shp_header = b"\x00\x00\x27\x0a" + b"\x00" * 96
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": "x"}}
    shapes = {"layer.shp": shp_header + b"garbage" * 10, "layer.shx": b"-", "layer.dbf": b"-"}
    return {
        "my labels.geojson": b"",
        "cut labels.geojson": b'{"type": "FeatureCollection", "features": [',
        "odd labels.geojson": json.dumps(
            {"type": "FeatureCollection", "features": [point]}
        ).encode(),
        "broken shapes.zip": _zip(shapes),
        "broken package.gpkg": b"SQLite format 3\x00" + b"\x00" * 52 + b"GPKG" + b"\xff" * 2000,
        "no shapes.zip": _zip({"readme.txt": b"hello"}),
        # GDAL names the files it could not open: by their names in the zip
        "no index.zip": _zip({"layer.shp": shp_header + b"\x00" * 100}),
    }


def test_import_errors_name_the_file_sent(app: Flask, tmp_path: Path) -> None:
    from tests.conftest import token_for

    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    for name, raw in bad_imports().items():
        for dry_run in ("1", "0"):
            response = app.test_client().post(
                "/api/v1/imports", headers=headers, content_type="multipart/form-data",
                data={"file": (io.BytesIO(raw), name), "dry_run": dry_run},
            )  # fmt: skip
            assert 400 <= response.status_code < 500, (name, response.get_json())
            assert_names_only_theirs(response.get_json()["message"], name, app)


def test_the_import_page_names_the_file_sent(app: Flask) -> None:
    client = app.test_client()
    token = login(client, "analyst")
    for name, raw in bad_imports().items():
        response = client.post(
            "/import", content_type="multipart/form-data",
            data={"file": (io.BytesIO(raw), name), "action": "check", "csrf_token": token},
        )  # fmt: skip
        assert 400 <= response.status_code < 500, name
        page = response.get_data(as_text=True)
        start = page.index(name)  # the error shown names the file ...
        shown = page[start : page.index("<", start)]
        assert_names_only_theirs(shown, name, app)  # ... and nothing of ours
