"""Image upload and catalogue over HTTP, including every bad upload we refuse."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from flask import Flask
from flask.testing import FlaskClient
from rasterio.transform import from_origin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from annotations.catalogue.images import Image
from annotator import services
from tests.conftest import login

Header = Callable[[str], dict[str, str]]


def multipart(
    client: FlaskClient, headers: dict[str, str], pairs: list[tuple[str, Any]]
) -> TestResponse:
    """POST a multipart body built in memory (the test client's own builder spools
    large bodies to temporary files it never closes). File values are (bytes, name)."""
    fields: MultiDict[str, Any] = MultiDict()
    for key, value in pairs:
        if isinstance(value, tuple):
            value = FileStorage(io.BytesIO(value[0]), filename=value[1])
        fields.add(key, value)
    boundary, body = encode_multipart(fields)
    return client.post(
        "/api/v1/images?wait=1", data=body, headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip


def upload(
    client: FlaskClient, headers: dict[str, str], path: Path, name: str | None = None,
    **fields: str,
) -> TestResponse:  # fmt: skip
    pairs: list[tuple[str, Any]] = [("file", (path.read_bytes(), name or path.name))]
    return multipart(client, headers, pairs + list(fields.items()))


def image_rows(app: Flask) -> int:
    with services.database(app).read() as session:
        return int(session.scalar(select(func.count()).select_from(Image)) or 0)


def stored_files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["IMAGES_DIR"]).iterdir())


def test_upload_records_everything_and_is_idempotent(
    app: Flask, auth_header: Header, shared_data: Path
) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    response = upload(
        client, headers, shared_data / "sample_geotiff.tif",
        captured="2016-05-01T16:00:00Z", provider="SpaceNet", sensor="WorldView-3",
        licence="CC BY-SA 4.0", attribution="SpaceNet / CosmiQ Works",
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/images/{body['id']}")
    assert body["sha256"] == "f135d521b13a7e16a97983df976579217afbb07550c878115e0c71c36de193c5"
    assert body["captured_at"] == "2016-05-01T16:00:00Z" and body["captured_source"] == "user"
    assert body["provider"] == "SpaceNet" and body["licence"] == "CC BY-SA 4.0"
    assert body["crs"] == "EPSG:32616" and body["dtype"] == "uint16"
    assert body["width"] == 900 and body["band_count"] == 1
    assert body["gsd_m"] == pytest.approx(0.5)
    assert body["footprint"]["type"] == "Polygon"
    assert body["display"]["rescale"] is not None
    assert body["original_filename"] == "sample_geotiff.tif"
    assert stored_files(app) == [Path(app.config["IMAGES_DIR"]) / f"{body['sha256']}.tif"]

    again = upload(client, headers, shared_data / "sample_geotiff.tif", "renamed.tif")
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    assert image_rows(app) == 1 and len(stored_files(app)) == 1

    listed = client.get("/api/v1/images", headers=headers).get_json()["images"]
    assert [image["id"] for image in listed] == [body["id"]]
    one = client.get(f"/api/v1/images/{body['id']}", headers=headers).get_json()
    assert one["attribution"] == "SpaceNet / CosmiQ Works"


def _bad_files(tmp_path: Path, make_geotiff: Callable[..., Path]) -> dict[str, tuple[Path, int]]:
    files: dict[str, tuple[Path, int]] = {}
    samples = {
        "empty": b"",
        "random": bytes(np.random.default_rng(9).integers(0, 256, 2048, dtype=np.uint8)),
        "html": b"<html><head><title>404</title></head><body>gone</body></html>",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
        "vrt": b"<VRTDataset rasterXSize='1' rasterYSize='1'></VRTDataset>",
    }
    for name, content in samples.items():
        path = tmp_path / f"{name}.tif"
        path.write_bytes(content)
        files[name] = (path, 415)
    whole = make_geotiff(
        "whole.tif", data=np.random.default_rng(1).integers(0, 255, (3, 800, 800), dtype=np.uint8)
    )
    cut = tmp_path / "truncated.tif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files["truncated"] = (cut, 422)
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(
        nocrs, "w", driver="GTiff", count=1, width=10, height=10, dtype="uint8",
        transform=from_origin(100, 10, 1, 1),
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 10, 10), dtype=np.uint8))
    files["no-crs"] = (nocrs, 422)
    bomb = tmp_path / "bomb.tif"
    with rasterio.open(
        bomb, "w", driver="GTiff", count=1, width=100_000, height=100_000, dtype="uint8",
        crs="EPSG:32636", transform=from_origin(790000, 3922000, 1, 1), tiled=True, sparse_ok=True,
    ):  # fmt: skip
        pass
    files["bomb"] = (bomb, 413)
    return files


def test_bad_uploads_get_a_clear_4xx_and_leave_nothing(
    app: Flask, auth_header: Header, tmp_path: Path, make_geotiff: Callable[..., Path]
) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    for name, (path, status) in _bad_files(tmp_path, make_geotiff).items():
        response = upload(client, headers, path)
        assert response.status_code == status, (name, response.get_json())
        body = response.get_json()
        assert body["error"] and len(body["message"]) > 10, name
        assert image_rows(app) == 0, name
        assert stored_files(app) == [], name
        assert list(Path(app.config["TMP_DIR"]).iterdir()) == [], name


def test_a_batch_with_one_bad_file_imports_none(
    app: Flask, auth_header: Header, tmp_path: Path, make_geotiff: Callable[..., Path]
) -> None:
    good = make_geotiff("good.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    pairs = [("file", (good.read_bytes(), "good.tif")), ("file", (bad.read_bytes(), "bad.tif"))]
    response = multipart(app.test_client(), auth_header("analyst"), pairs)
    assert response.status_code == 415
    assert image_rows(app) == 0 and stored_files(app) == []


@pytest.mark.parametrize("name", ["../../x.tif", "NUL.tif", "..\\..\\evil.tif", "/etc/passwd"])
def test_hostile_file_names_are_stored_under_the_generated_id(
    app: Flask, auth_header: Header, make_geotiff: Callable[..., Path], tmp_path: Path, name: str
) -> None:
    path = make_geotiff("plain.tif")
    before = {p for p in tmp_path.rglob("*")}
    response = upload(app.test_client(), auth_header("analyst"), path, name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert stored_files(app) == [Path(app.config["IMAGES_DIR"]) / f"{body['sha256']}.tif"]
    created = {p for p in tmp_path.rglob("*")} - before
    assert all(str(p).startswith(str(app.config["DATA_DIR"])) for p in created)
    assert "/" not in body["original_filename"] and ".." not in body["original_filename"]
    assert not Path("/x.tif").exists() and not (tmp_path.parent / "x.tif").exists()


def test_upload_over_the_limit_is_413(tmp_path: Path, make_geotiff: Callable[..., Path]) -> None:
    from annotations.catalogue.users import Role, add_user
    from annotations.schema import upgrade
    from annotator import create_app
    from tests.conftest import token_for

    app = create_app({"DATA_DIR": str(tmp_path / "small"), "MAX_UPLOAD_MB": 1,
                      "SECRET_KEY": "x"})  # fmt: skip
    upgrade(services.database(app))
    with services.database(app).write() as session:
        add_user(session, "analyst", Role.analyst, "long enough password")
    big = make_geotiff(
        "big.tif", data=np.random.default_rng(0).integers(0, 255, (3, 800, 800), dtype=np.uint8)
    )
    assert big.stat().st_size > 1024 * 1024
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    response = upload(app.test_client(), headers, big)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert "1 MB" in response.get_json()["message"]
    assert image_rows(app) == 0


def test_writes_need_a_role_and_browser_writes_need_csrf(
    app: Flask, auth_header: Header, make_geotiff: Callable[..., Path]
) -> None:
    path = make_geotiff()
    client = app.test_client()
    assert upload(client, {}, path).status_code == 401
    assert upload(client, auth_header("viewer"), path).status_code == 403
    assert image_rows(app) == 0
    token = login(client, "analyst")
    refused = upload(client, {}, path)
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"
    accepted = upload(client, {"X-CSRF-Token": token}, path)
    assert accepted.status_code == 201


def test_missing_file_field_and_bad_capture_time(
    app: Flask, auth_header: Header, make_geotiff: Callable[..., Path]
) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    response = multipart(client, headers, [("site", "hmeimim")])
    assert response.status_code == 400 and "file" in response.get_json()["message"]
    bad_time = upload(client, headers, make_geotiff(), captured="yesterday")
    assert bad_time.status_code == 422 and "ISO 8601" in bad_time.get_json()["message"]
    unknown_site = upload(client, headers, make_geotiff(), site="atlantis")
    assert unknown_site.status_code == 404
    assert image_rows(app) == 0
