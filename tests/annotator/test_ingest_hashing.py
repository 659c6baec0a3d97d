"""Issue 12 (speed): a file's sha256 is not a whole extra read before its COG is written.

An upload's sha256 is computed from the bytes as the request writes them into the job's
folder, and the job uses it; a file with no known sha256 is hashed while its COG is written,
and a file already catalogued stops that ingest as soon as its hash is known. Real GeoTIFFs,
a real sandbox child, a real app and job queue.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from annotations.catalogue.images import Provenance
from annotations.jobs.tables import Job
from annotator import services
from annotator.intake import Upload, import_images
from imagery.errors import NotAGeoTIFF
from imagery.sandbox import PROVISIONAL, ingest_isolated, workspace
from tests.conftest import _app_with_users, make_app, token_for, write_geotiff
from tests.jobs import consuming, ingested_image


class Stop(Exception):
    """What the test's `on_hashed` raises."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from _app_with_users(make_app(tmp_path_factory.mktemp("hashing")))


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_geotiff(tmp_path_factory.mktemp("scenes") / "scene.tif")


def test_a_file_hashed_while_its_cog_is_written_is_stored_under_its_sha256(
    scene: Path, tmp_path: Path
) -> None:
    work = workspace(tmp_path / "store")
    told: list[str] = []
    facts = ingest_isolated(scene, work, on_hashed=told.append)
    digest = sha256_of(scene)
    assert facts.sha256 == digest
    assert told == [digest]
    assert facts.cog_path == work.absolute() / f"{digest}.tif"
    assert [p.name for p in work.iterdir()] == [f"{digest}.tif"]  # nothing provisional left
    assert facts.width == 400 and facts.height == 300


def test_what_on_hashed_raises_stops_the_ingest_and_leaves_nothing(
    scene: Path, tmp_path: Path
) -> None:
    work = workspace(tmp_path / "store")

    def refuse(digest: str) -> None:
        raise Stop(digest)

    with pytest.raises(Stop) as stopped:
        ingest_isolated(scene, work, on_hashed=refuse)
    assert str(stopped.value) == sha256_of(scene)
    # no COG, under either name (a child killed mid-write may leave its temporary files in
    # `work`, which the caller removes: annotator.intake)
    assert not [p for p in work.iterdir() if p.name.startswith((PROVISIONAL, sha256_of(scene)))]


def test_a_refused_file_hashed_meanwhile_leaves_nothing(tmp_path: Path) -> None:
    text = tmp_path / "notes.tif"
    text.write_bytes(b"not a raster at all\n" * 1000)
    work = workspace(tmp_path / "store")
    with pytest.raises(NotAGeoTIFF):
        ingest_isolated(text, work)
    assert not [p for p in work.iterdir() if p.name.startswith(PROVISIONAL) or p.suffix]


def test_a_catalogued_file_is_not_ingested_again_when_hashed_meanwhile(
    app: Flask, tmp_path: Path
) -> None:
    path = write_geotiff(tmp_path / "again.tif", tags={"TIFFTAG_IMAGEDESCRIPTION": "again"})
    store = Path(app.config["IMAGES_DIR"])

    def once() -> Any:
        return import_images(
            services.database(app), store, [Upload(path, path.name)], Provenance(), max_pixels=10**9
        )[0]

    first, second = once(), once()
    assert first.created and not second.created
    assert first.image.id == second.image.id
    assert first.image.sha256 == sha256_of(path)
    assert (store / f"{sha256_of(path)}.tif").is_file()
    assert not [p for p in store.iterdir() if p.name.startswith((".ingest-", PROVISIONAL))]


def test_an_uploads_sha256_is_computed_as_it_is_received_and_is_the_files(
    app: Flask, scene: Path
) -> None:
    form: MultiDict[str, Any] = MultiDict()
    form.add("file", FileStorage(io.BytesIO(scene.read_bytes()), filename="upload.tif"))
    boundary, body = encode_multipart(form)
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    client = app.test_client()
    answer = client.post(
        "/api/v1/images?async=1", data=body, headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["id"]
    with services.database(app).read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        files = job.parameters["files"]
    assert [item["sha256"] for item in files] == [sha256_of(scene)]
    with consuming(app):
        image = ingested_image(client, headers, job_id)
    assert image["sha256"] == sha256_of(scene)
