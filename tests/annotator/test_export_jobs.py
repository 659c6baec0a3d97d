"""GET /api/v1/exports?...&async=1: an export as an `export` job (issue 12 item 1). 202 with
the job; a worker writes the file as its owner sees it; the result links a download that only
the owner may read, while their role still covers the export's; the file is removed after
ANNOTATOR_EXPORT_KEEP_HOURS (410); a bad request makes no job."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from annotations.catalogue.users import Role, change_user, get_user
from annotator import services
from tests.annotations.test_imports import add_image
from tests.conftest import _app_with_users, make_app, token_for
from tests.jobs import consuming, wait_for_job

Header = dict[str, str]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Flask]:
    for application in _app_with_users(make_app(tmp_path_factory.mktemp("export-jobs"))):
        add_image(application, shared_data / "sample_geotiff.tif")
        analyst = {"Authorization": f"Bearer {token_for(application, 'analyst')}"}
        raw = (shared_data / "geotiff_labels.geojson").read_bytes()
        data = {
            "file": (io.BytesIO(raw), "labels.geojson"),
            "label_field": "building",
            "label_map": '{"yes": "structure"}',
        }
        made = application.test_client().post(
            "/api/v1/imports", data=data, headers=analyst, content_type="multipart/form-data"
        )
        assert made.status_code == 201, made.get_json()
        yield application


@pytest.fixture(scope="module")
def headers(app: Flask) -> dict[str, Header]:
    return {
        role: {"Authorization": f"Bearer {token_for(app, role)}"}
        for role in ("viewer", "analyst", "editor", "admin")
    }


def export_job(app: Flask, headers: Header, query: str = "format=geojson") -> dict[str, object]:
    client = app.test_client()
    queued = client.get(f"/api/v1/exports?{query}&async=1", headers=headers)
    assert queued.status_code == 202, queued.get_json()
    assert queued.headers["Location"].endswith(f"/api/v1/jobs/{queued.get_json()['id']}")
    with consuming(app):
        ended = wait_for_job(client, headers, queued.get_json()["id"])
    assert ended["status"] == "done", ended
    return ended


def test_an_export_job_makes_a_file_only_its_owner_downloads(
    app: Flask, headers: dict[str, Header]
) -> None:
    client = app.test_client()
    job = export_job(app, headers["analyst"], "format=geojson&label=structure")
    result = job["result"]
    assert isinstance(result, dict) and result["count"] == 43 and result["role"] == "analyst"
    got = client.get(result["download"], headers=headers["analyst"])
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert len(json.loads(got.data)["features"]) == 43
    assert int(result["bytes"]) == len(got.data)
    got.close()
    # another user never reads it: not even their job (404); an admin sees the job, not the file
    assert client.get(result["download"], headers=headers["editor"]).status_code == 404
    assert client.get(result["download"], headers=headers["admin"]).status_code == 403
    assert client.get(result["download"]).status_code == 401
    # a job that made no file
    refused = client.get("/api/v1/jobs/" + "0" * 32 + "/download", headers=headers["analyst"])
    assert refused.status_code == 404


def test_the_owner_whose_role_dropped_is_refused_and_old_files_go(
    app: Flask, headers: dict[str, Header]
) -> None:
    client = app.test_client()
    job = export_job(app, headers["editor"], "format=csv")
    download = job["result"]["download"]  # type: ignore[index]
    database = services.database(app)
    with database.write() as session:
        change_user(session, get_user(session, "editor"), role=Role.viewer)
    try:
        dropped = client.get(download, headers=headers["editor"])
        assert dropped.status_code == 403 and "role" in dropped.get_json()["message"]
    finally:
        with database.write() as session:
            change_user(session, get_user(session, "editor"), role=Role.editor)
    again = client.get(download, headers=headers["editor"])
    assert again.status_code == 200
    again.close()
    # older than ANNOTATOR_EXPORT_KEEP_HOURS: the next export job removes it
    folder = Path(app.config["DATA_DIR"]) / "jobs" / "exports" / str(job["id"])
    old = time.time() - (float(app.config["EXPORT_KEEP_HOURS"]) + 1) * 3600
    os.utime(folder, (old, old))
    export_job(app, headers["analyst"])
    assert not folder.exists()
    gone = client.get(download, headers=headers["editor"])
    assert gone.status_code == 410 and gone.get_json()["error"] == "gone"


def test_a_bad_export_request_makes_no_job(app: Flask, headers: dict[str, Header]) -> None:
    client = app.test_client()
    before = client.get("/api/v1/jobs", headers=headers["analyst"]).get_json()["jobs"]
    for query in ("format=nope", "format=geojson&label=no.such.label", "format=geojson&bbox=1"):
        response = client.get(f"/api/v1/exports?{query}&async=1", headers=headers["analyst"])
        assert 400 <= response.status_code < 500, (query, response.get_json())
    after = client.get("/api/v1/jobs", headers=headers["analyst"]).get_json()["jobs"]
    assert after == before
