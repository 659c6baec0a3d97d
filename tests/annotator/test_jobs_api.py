"""The jobs API and ingest as a background job: POST /api/v1/images?async=1 answers 202 with
the job once the files are received, a worker ingests them, the job links the images; who
sees which job; cancelling; the per-user limit; a refused file fails its job and leaves
nothing behind."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from annotations.catalogue.images import Image
from annotator import create_app, services
from tests.conftest import _app_with_users, login, make_app, token_for, write_geotiff
from tests.jobs import consuming, ingested_image, wait_for_job

Header = dict[str, str]
HOSTILE = "<img src=x onerror=alert(1)>.tif"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from _app_with_users(make_app(tmp_path_factory.mktemp("jobs-api")))


@pytest.fixture(scope="module")
def headers(app: Flask) -> dict[str, Header]:
    return {
        role: {"Authorization": f"Bearer {token_for(app, role)}"}
        for role in ("viewer", "analyst", "editor", "admin")
    }


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_geotiff(tmp_path_factory.mktemp("scenes") / "scene.tif")


def post(
    client: FlaskClient, headers: Header, files: list[tuple[bytes, str]], **fields: str
) -> TestResponse:
    """POST /api/v1/images?async=1 with a multipart body built in memory."""
    form: MultiDict[str, Any] = MultiDict()
    for content, name in files:
        form.add("file", FileStorage(io.BytesIO(content), filename=name))
    for key, value in fields.items():
        form.add(key, value)
    boundary, body = encode_multipart(form)
    return client.post(
        "/api/v1/images?async=1", data=body, headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip


def work_folders(app: Flask) -> list[Path]:
    work = Path(app.config["DATA_DIR"]) / "jobs" / "work"
    return sorted(work.iterdir()) if work.is_dir() else []


def images(app: Flask) -> int:
    with services.database(app).read() as session:
        return int(session.scalar(select(func.count()).select_from(Image)) or 0)


def test_an_upload_answers_202_and_the_ingest_runs_as_a_job(
    app: Flask, headers: dict[str, Header], scene: Path
) -> None:
    client = app.test_client()
    with consuming(app):
        response = post(client, headers["analyst"], [(scene.read_bytes(), HOSTILE)],
                        provider="ESA", captured="2024-12-13T08:21:00Z")  # fmt: skip
        assert response.status_code == 202, response.get_json()
        job = response.get_json()
        assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
        assert job["kind"] == "ingest" and job["owner"] == "analyst"
        assert job["status"] in ("queued", "running", "done")
        image = ingested_image(client, headers["analyst"], job["id"])
    assert image["original_filename"] == HOSTILE and image["provider"] == "ESA"
    assert image["captured_at"] == "2024-12-13T08:21:00Z" and image["created_by"] == "analyst"
    done = client.get(f"/api/v1/jobs/{job['id']}", headers=headers["analyst"]).get_json()
    assert done["progress"] == 1.0 and done["error"] is None
    [made] = done["result"]["images"]
    assert made == {
        "id": image["id"], "name": HOSTILE, "created": True,
        "href": f"/api/v1/images/{image['id']}", "page": f"/images/{image['id']}",
    }  # fmt: skip
    assert work_folders(app) == []


def test_who_sees_which_job(app: Flask, headers: dict[str, Header], scene: Path) -> None:
    client = app.test_client()
    job = post(client, headers["analyst"], [(scene.read_bytes(), "again.tif")]).get_json()
    mine = client.get("/api/v1/jobs", headers=headers["analyst"]).get_json()["jobs"]
    assert job["id"] in {j["id"] for j in mine} and {j["owner"] for j in mine} == {"analyst"}
    for role in ("editor", "viewer"):
        other = client.get(f"/api/v1/jobs/{job['id']}", headers=headers[role])
        assert other.status_code == 404 and other.get_json()["error"] == "not_found"
        listed = client.get("/api/v1/jobs", headers=headers[role]).get_json()["jobs"]
        assert job["id"] not in {j["id"] for j in listed}
        refused = client.delete(f"/api/v1/jobs/{job['id']}", headers=headers[role])
        assert refused.status_code == 404
    everyone = client.get("/api/v1/jobs", headers=headers["admin"]).get_json()["jobs"]
    assert job["id"] in {j["id"] for j in everyone}
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=headers["admin"]).status_code == 200
    assert "params" not in job and "worker" not in job
    assert client.get("/api/v1/jobs").status_code == 401
    assert client.get("/api/v1/jobs/not-a-job", headers=headers["admin"]).status_code == 404
    queued = client.get("/api/v1/jobs?status=queued", headers=headers["analyst"]).get_json()
    assert [j["status"] for j in queued["jobs"]] == ["queued"]
    bad = client.get("/api/v1/jobs?status=lost", headers=headers["analyst"])
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid"
    # cancelled before any worker saw it: it never starts, and its files go at once
    cancelled = client.delete(f"/api/v1/jobs/{job['id']}", headers=headers["analyst"])
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/jobs/{job['id']}", headers=headers["analyst"])
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    with consuming(app):
        ended = wait_for_job(client, headers["analyst"], job["id"])
    assert ended["status"] == "cancelled" and ended["started_at"] is None
    assert work_folders(app) == []


def test_the_per_user_limit(app: Flask, headers: dict[str, Header], scene: Path) -> None:
    client = app.test_client()
    app.config["JOBS_PER_USER"] = 2
    try:
        made = [post(client, headers["editor"], [(scene.read_bytes(), f"{n}.tif")])
                for n in range(3)]  # fmt: skip
    finally:
        app.config["JOBS_PER_USER"] = 4
    assert [r.status_code for r in made] == [202, 202, 429]
    refused = made[2].get_json()
    assert refused["error"] == "too_many_jobs" and "at most 2 at once" in refused["message"]
    assert refused["details"] == {"open": 2, "limit": 2}
    assert len(work_folders(app)) == 2  # the refused upload left no folder
    for response in made[:2]:
        client.delete(f"/api/v1/jobs/{response.get_json()['id']}", headers=headers["editor"])
    viewer = post(client, headers["viewer"], [(scene.read_bytes(), "v.tif")])
    assert viewer.status_code == 403
    unknown = post(client, headers["analyst"], [(scene.read_bytes(), "s.tif")], site="nowhere")
    assert unknown.status_code == 404 and len(work_folders(app)) == 2


def test_a_refused_file_fails_its_job_and_leaves_nothing(
    app: Flask, headers: dict[str, Header], scene: Path
) -> None:
    client = app.test_client()
    before = images(app)
    store = sorted(Path(app.config["IMAGES_DIR"]).iterdir())
    files = [(scene.read_bytes(), "good.tif"), (b"II*\x00 not really a tiff", "bad.tif")]
    with consuming(app):
        job = post(client, headers["analyst"], files).get_json()
        ended = wait_for_job(client, headers["analyst"], job["id"])
    assert ended["status"] == "failed" and ended["result"] is None
    assert "bad.tif" in ended["error"] and "\n" not in ended["error"]
    assert images(app) == before
    assert sorted(Path(app.config["IMAGES_DIR"]).iterdir()) == store
    assert work_folders(app) == []


def test_the_jobs_page_and_link_are_for_analysts_and_up(app: Flask) -> None:
    for role, shown in (("viewer", False), ("analyst", True), ("admin", True)):
        client = app.test_client()
        login(client, role)
        assert ('id="nav-jobs"' in client.get("/").get_data(as_text=True)) is shown
        page = client.get("/jobs")
        assert page.status_code == (200 if shown else 403)
    assert "Everyone's jobs are listed" in page.get_data(as_text=True)


def test_a_queue_out_of_reach_answers_503_and_keeps_nothing(tmp_path: Path, scene: Path) -> None:
    """Redis stopped answering (here: a port nothing listens on): the upload is refused with
    503, its job ends failed, its files go; nothing was catalogued."""
    config = {"DATA_DIR": str(tmp_path / "instance"), "SECRET_KEY": "x", "TESTING": True,
              "JOBS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}  # fmt: skip
    for app in _app_with_users(create_app(config)):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        response = post(client, headers, [(scene.read_bytes(), "scene.tif")])
        assert response.status_code == 503 and response.get_json()["error"] == "busy"
        [job] = client.get("/api/v1/jobs", headers=headers).get_json()["jobs"]
        assert job["status"] == "failed" and "could not be reached" in job["error"]
        assert work_folders(app) == [] and images(app) == 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends
