"""POST /api/v1/imports?async=1: a real import of a GIS file as an `import` job (issue 12
item 1). 202 once the file is received; a worker imports it as its owner; the job's result is
the report the request would have answered, with links to what was made; a refused file is
the job's error and leaves nothing behind; a dry run still answers in the request; the
per-user limit applies; other users never see the job."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.annotations.test_imports import add_image, count
from tests.conftest import _app_with_users, make_app, token_for
from tests.jobs import consuming, wait_for_job

Header = dict[str, str]
HOSTILE = "<img src=x onerror=alert(1)>.geojson"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Flask]:
    for application in _app_with_users(make_app(tmp_path_factory.mktemp("import-jobs"))):
        add_image(application, shared_data / "sample_geotiff.tif")
        yield application


@pytest.fixture(scope="module")
def headers(app: Flask) -> dict[str, Header]:
    return {
        role: {"Authorization": f"Bearer {token_for(app, role)}"}
        for role in ("viewer", "analyst", "editor")
    }


@pytest.fixture(scope="module")
def labels(shared_data: Path) -> bytes:
    return (shared_data / "geotiff_labels.geojson").read_bytes()


def post(
    app: Flask, raw: bytes, name: str, headers: Header, query: str = "?async=1", **form: Any
) -> TestResponse:
    data = {"file": (io.BytesIO(raw), name), **form}
    return app.test_client().post(
        f"/api/v1/imports{query}", data=data, headers=headers, content_type="multipart/form-data"
    )


def work_folders(app: Flask) -> list[Path]:
    work = Path(app.config["DATA_DIR"]) / "jobs" / "work"
    return sorted(work.iterdir()) if work.is_dir() else []


def test_an_import_runs_as_a_job_and_its_result_is_the_report(
    app: Flask, headers: dict[str, Header], labels: bytes
) -> None:
    client = app.test_client()
    form = {"label_field": "building", "label_map": '{"yes": "structure"}'}
    dry = post(app, labels, "labels.geojson", headers["analyst"], dry_run="1", **form)
    assert dry.status_code == 200 and dry.get_json()["would_create"] == 43  # in the request
    queued = post(app, labels, HOSTILE, headers["analyst"], **form)
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    assert job["kind"] == "import" and job["status"] == "queued" and count(app) == 0
    assert queued.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    assert client.get(queued.headers["Location"], headers=headers["viewer"]).status_code in (
        403,
        404,
    )
    with consuming(app):
        ended = wait_for_job(client, headers["analyst"], job["id"])
    assert ended["status"] == "done", ended
    report = ended["result"]
    assert report["created"] == 43 and count(app) == 43
    assert report["source"]["name"] == HOSTILE and report["by_label"] == {"structure": 43}
    assert len(report["annotations"]) == 43
    first = client.get(report["annotations"][0], headers=headers["analyst"]).get_json()
    assert first["properties"]["created_by"] == "analyst"
    assert first["properties"]["source"]["imported_from"]["file"] == HOSTILE
    assert work_folders(app) == []


def test_a_refused_file_is_the_jobs_error_and_leaves_nothing(
    app: Flask, headers: dict[str, Header]
) -> None:
    client = app.test_client()
    before = count(app)
    queued = post(app, b"<html>not a GIS file</html>", "page.geojson", headers["editor"])
    assert queued.status_code == 202, queued.get_json()
    with consuming(app):
        ended = wait_for_job(client, headers["editor"], queued.get_json()["id"])
    assert ended["status"] == "failed" and ended["result"] is None, ended
    assert "page.geojson" in ended["error"] and "Traceback" not in ended["error"]
    assert count(app) == before and work_folders(app) == []
    tmp = Path(app.config["TMP_DIR"])
    assert not tmp.exists() or not any(p.is_file() for p in tmp.rglob("*"))


def test_bad_requests_are_refused_before_any_job(
    app: Flask, headers: dict[str, Header], labels: bytes
) -> None:
    bad_map = post(app, labels, "l.geojson", headers["analyst"], label_map="{not json")
    assert bad_map.status_code in (400, 422), bad_map.get_json()
    no_file = app.test_client().post(
        "/api/v1/imports?async=1",
        data={},
        headers=headers["analyst"],
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 400
    assert post(app, labels, "l.geojson", headers["viewer"]).status_code == 403
    assert work_folders(app) == []


def test_the_per_user_limit_applies(app: Flask, headers: dict[str, Header], labels: bytes) -> None:
    client = app.test_client()
    limit = int(app.config["JOBS_PER_USER"])
    queued = [post(app, labels, "l.geojson", headers["editor"]) for _ in range(limit)]
    assert [r.status_code for r in queued] == [202] * limit
    refused = post(app, labels, "l.geojson", headers["editor"])
    assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_jobs"
    for response in queued:  # cancelled while queued: they never run
        job_id = response.get_json()["id"]
        cancelled = client.delete(f"/api/v1/jobs/{job_id}", headers=headers["editor"])
        assert cancelled.status_code == 200
    with consuming(app):  # the worker drops them and their files
        for response in queued:
            ended = wait_for_job(client, headers["editor"], response.get_json()["id"])
            assert ended["status"] == "cancelled" and ended["started_at"] is None
    assert work_folders(app) == []
