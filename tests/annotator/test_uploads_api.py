"""Add imagery over HTTP: POST /api/v1/images answers 202 with its job by default; resumable
uploads in chunks (/api/v1/uploads): order, resume after a dropped chunk, another user,
the caps, bad Content-Range, cancel, expiry; the header read that prefills the form; and
sidecars (an external .msk mask, a world file and .aux.xml CRS) honoured beside their image,
over chunks, over multipart and from the CLI."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.warp
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from rasterio.crs import CRS
from rasterio.env import Env
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from annotator import create_app
from annotator.cli import main
from tests.conftest import _app_with_users, login, token_for, write_geotiff
from tests.jobs import consuming, ingested_image, wait_for_job

Header = dict[str, str]
CHUNK = 4096


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("uploads")
    settings = {"DATA_DIR": str(folder / "instance"), "SECRET_KEY": "test-secret",
                "TESTING": True, "UPLOAD_FILE_MAX_MB": 1}  # fmt: skip
    yield from _app_with_users(create_app(settings))


@pytest.fixture(scope="module")
def headers(app: Flask) -> dict[str, Header]:
    return {
        role: {"Authorization": f"Bearer {token_for(app, role)}"}
        for role in ("viewer", "analyst", "editor", "admin")
    }


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    data = rng.integers(1, 255, (3, 60, 80), dtype=np.uint8)
    tags = {"TIFFTAG_DATETIME": "2024:05:06 07:08:09", "SENSOR": "WorldView-3"}
    return write_geotiff(tmp_path_factory.mktemp("scene") / "scene.tif", data, tags=tags)


def make_sidecar_set(folder: Path, valid: str) -> Path:
    """A plain TIFF (no geotags) whose place is a world file, whose CRS is an .aux.xml, and
    whose external .msk mask hides one half (`valid`: "east" or "west" is kept)."""
    image = folder / "plain.tif"
    with Env(GDAL_TIFF_INTERNAL_MASK=False), pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        profile: dict[str, Any] = {"driver": "GTiff", "width": 64, "height": 64, "count": 3}
        with rasterio.open(image, "w", dtype="uint8", **profile) as dataset:
            dataset.write(np.full((3, 64, 64), 120 if valid == "east" else 121, dtype="uint8"))
            mask = np.zeros((64, 64), dtype="uint8")
            if valid == "east":
                mask[:, 32:] = 255
            else:
                mask[:, :32] = 255
            dataset.write_mask(mask)
    assert (folder / "plain.tif.msk").is_file()
    (folder / "plain.tfw").write_text("10\n0\n0\n-10\n500005\n4999995\n")
    wkt = CRS.from_epsg(32633).to_wkt()
    (folder / "plain.tif.aux.xml").write_text(f"<PAMDataset><SRS>{wkt}</SRS></PAMDataset>")
    return image


@pytest.fixture(scope="module")
def sidecar_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sidecar_set(tmp_path_factory.mktemp("sidecars"), "east")


def sidecar_files(image: Path) -> list[Path]:
    return [image, *(image.parent / n for n in ("plain.tif.msk", "plain.tfw", "plain.tif.aux.xml"))]


def start(client: FlaskClient, header: Header, name: str, size: int) -> dict[str, Any]:
    response = client.post("/api/v1/uploads", json={"name": name, "size": size}, headers=header)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/uploads/{body['id']}")
    return body


def put(
    client: FlaskClient, header: Header, upload_id: str, data: bytes, first: int, size: int
) -> Any:
    last = first + len(data) - 1
    return client.put(
        f"/api/v1/uploads/{upload_id}",
        data=data,
        headers={**header, "Content-Range": f"bytes {first}-{last}/{size}"},
        content_type="application/octet-stream",
    )


def send_all(client: FlaskClient, header: Header, path: Path) -> str:
    content = path.read_bytes()
    upload = start(client, header, path.name, len(content))
    for first in range(0, len(content), CHUNK):
        response = put(client, header, upload["id"], content[first : first + CHUNK], first,
                       len(content))  # fmt: skip
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["complete"] is True
    return str(upload["id"])


def upload_folders(app: Flask) -> list[str]:
    root = Path(app.config["TMP_ROOT"]) / "uploads"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def test_chunks_in_order_prefill_and_ingest(
    app: Flask, headers: dict[str, Header], scene: Path
) -> None:
    client = app.test_client()
    upload_id = send_all(client, headers["analyst"], scene)
    header = client.get(f"/api/v1/uploads/{upload_id}/header", headers=headers["analyst"])
    assert header.status_code == 200
    assert header.get_json() | {"width": 80} == {
        "captured": "2024-05-06T07:08:09Z", "sensor": "WorldView-3", "provider": None,
        "licence": None, "attribution": None, "width": 80, "height": 60, "bands": 3,
    }  # fmt: skip
    with consuming(app):
        response = client.post(
            "/api/v1/uploads/ingest",
            json={"uploads": [upload_id], "provider": "Maxar", "licence": "CC-BY-4.0",
                  "attribution": "<b>Maxar</b>"},
            headers=headers["analyst"],
        )  # fmt: skip
        assert response.status_code == 202, response.get_json()
        job = response.get_json()
        assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
        image = ingested_image(client, headers["analyst"], job["id"])
    assert image["original_filename"] == "scene.tif" and image["provider"] == "Maxar"
    assert image["attribution"] == "<b>Maxar</b>" and image["created_by"] == "analyst"
    assert upload_folders(app) == []  # used up
    gone = client.get(f"/api/v1/uploads/{upload_id}", headers=headers["analyst"])
    assert gone.status_code == 404


def test_an_upload_over_multipart_answers_202_with_its_job_by_default(
    app: Flask, headers: dict[str, Header], sidecar_set: Path
) -> None:
    """Several parts: the image and its sidecars, grouped by stem, honoured by GDAL."""
    client = app.test_client()
    form: MultiDict[str, Any] = MultiDict()
    for path in sidecar_files(sidecar_set):
        form.add("file", FileStorage(io.BytesIO(path.read_bytes()), filename=f"x/../{path.name}"))
    boundary, body = encode_multipart(form)
    with consuming(app):
        response = client.post(
            "/api/v1/images", data=body, headers=headers["analyst"],
            content_type=f"multipart/form-data; boundary={boundary}",
        )  # fmt: skip
        assert response.status_code == 202, response.get_json()
        assert response.headers["Location"].endswith(f"/api/v1/jobs/{response.get_json()['id']}")
        image = ingested_image(client, headers["analyst"], response.get_json()["id"])
    assert_sidecars_honoured(image)


def assert_sidecars_honoured(image: dict[str, Any], valid: str = "east") -> None:
    """UTM 33N, 640 m square from x=500000: only the `valid` half is in the footprint (the
    mask's edge is at x=500320)."""
    assert image["original_filename"] == "plain.tif"
    west, south, east, north = image["bbox"]
    lon_mid = rasterio.warp.transform("EPSG:32633", "EPSG:4326", [500320], [4999680])[0][0]
    edge = west if valid == "east" else east
    assert edge == pytest.approx(lon_mid, abs=2e-4), image["bbox"]
    assert 14.99 < west < east < 15.01 and 45.1 < south < north < 45.2, image["bbox"]


def test_sidecars_over_chunks_and_a_lone_sidecar_refused(
    app: Flask, headers: dict[str, Header], sidecar_set: Path
) -> None:
    client = app.test_client()
    analyst = headers["analyst"]
    ids = [send_all(client, analyst, path) for path in sidecar_files(sidecar_set)]
    lone = client.post("/api/v1/uploads/ingest", json={"uploads": ids[1:2]}, headers=analyst)
    assert lone.status_code == 422 and "no image with its stem" in lone.get_json()["message"]
    with consuming(app):
        response = client.post("/api/v1/uploads/ingest", json={"uploads": ids}, headers=analyst)
        assert response.status_code == 202, response.get_json()
        job = wait_for_job(client, analyst, response.get_json()["id"])
    # the same file as the multipart test: the job links the image already catalogued
    assert job["status"] == "done" and job["result"]["images"][0]["created"] is False
    image = client.get(job["result"]["images"][0]["href"], headers=analyst).get_json()
    assert_sidecars_honoured(image)
    assert upload_folders(app) == []


def test_resume_after_a_dropped_chunk_and_wrong_offsets(
    app: Flask, headers: dict[str, Header], scene: Path
) -> None:
    client = app.test_client()
    analyst = headers["analyst"]
    content = scene.read_bytes()
    size = len(content)
    upload = start(client, analyst, "scene.tif", size)["id"]
    assert put(client, analyst, upload, content[:CHUNK], 0, size).get_json()["received"] == CHUNK
    # the connection drops mid-chunk: the body is shorter than its Content-Range says
    short = client.put(
        f"/api/v1/uploads/{upload}", data=content[CHUNK : CHUNK + 100],
        headers={**analyst, "Content-Range": f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}"},
    )  # fmt: skip
    assert short.status_code == 400 and short.get_json()["details"]["offset"] == CHUNK
    state = client.get(f"/api/v1/uploads/{upload}", headers=analyst).get_json()
    assert state == {"id": upload, "name": "scene.tif", "size": size, "received": CHUNK,
                     "complete": False}  # fmt: skip
    # a chunk sent again, or one that skips ahead, is refused with where to go on from
    for first in (0, 2 * CHUNK):
        refused = put(client, analyst, upload, content[first : first + CHUNK], first, size)
        assert refused.status_code == 409, refused.get_json()
        assert refused.get_json()["details"]["offset"] == CHUNK
    early = client.post("/api/v1/uploads/ingest", json={"uploads": [upload]}, headers=analyst)
    assert early.status_code == 409 and early.get_json()["details"]["offset"] == CHUNK
    for first in range(CHUNK, size, CHUNK):
        assert put(client, analyst, upload, content[first : first + CHUNK], first,
                   size).status_code == 200  # fmt: skip
    data = Path(app.config["TMP_ROOT"]) / "uploads" / upload / "data"
    assert data.read_bytes() == content
    assert client.delete(f"/api/v1/uploads/{upload}", headers=analyst).status_code == 204


def test_an_upload_is_its_starters_alone(app: Flask, headers: dict[str, Header]) -> None:
    client = app.test_client()
    upload = start(client, headers["analyst"], "mine.tif", 10)["id"]
    for role in ("editor", "admin"):
        other = headers[role]
        assert client.get(f"/api/v1/uploads/{upload}", headers=other).status_code == 404
        assert put(client, other, upload, b"0123456789", 0, 10).status_code == 404
        finish = client.post("/api/v1/uploads/ingest", json={"uploads": [upload]}, headers=other)
        assert finish.status_code == 404
        assert client.delete(f"/api/v1/uploads/{upload}", headers=other).status_code == 404
    viewer = client.post("/api/v1/uploads", json={"name": "a.tif", "size": 5},
                         headers=headers["viewer"])  # fmt: skip
    assert viewer.status_code == 403
    assert client.post("/api/v1/uploads", json={"name": "a.tif", "size": 5}).status_code == 401
    mine = client.get(f"/api/v1/uploads/{upload}", headers=headers["analyst"]).get_json()
    assert mine["received"] == 0
    assert client.delete(f"/api/v1/uploads/{upload}", headers=headers["analyst"]).status_code == 204


def test_caps_and_bad_content_ranges(app: Flask, headers: dict[str, Header]) -> None:
    client = app.test_client()
    analyst = headers["analyst"]
    over = client.post("/api/v1/uploads", json={"name": "big.tif", "size": 1024 * 1024 + 1},
                       headers=analyst)  # fmt: skip
    assert over.status_code == 413 and over.get_json()["details"]["limit"] == 1024 * 1024
    for body in ({"name": "a.tif", "size": 0}, {"name": "a.tif"}, {"size": 3}):
        assert client.post("/api/v1/uploads", json=body, headers=analyst).status_code == 422
    upload = start(client, analyst, "a.tif", 10)["id"]
    for content_range in ("", "bytes 0-9", "bytes=0-9/10", "bytes 5-2/10", "bytes 0-10/10",
                          "bytes 0-9/11", "items 0-9/10", "bytes -1-9/10"):  # fmt: skip
        response = client.put(f"/api/v1/uploads/{upload}", data=b"0123456789",
                              headers={**analyst, "Content-Range": content_range})  # fmt: skip
        assert response.status_code == 400, (content_range, response.get_json())
        assert response.get_json()["error"] == "invalid"
    long_body = client.put(f"/api/v1/uploads/{upload}", data=b"0123456789AB",
                           headers={**analyst, "Content-Range": "bytes 0-9/10"})  # fmt: skip
    assert long_body.status_code == 400
    for bad_id in ("../../etc", "0" * 31 + "g"):
        assert client.get(f"/api/v1/uploads/{bad_id}", headers=analyst).status_code == 404
    assert client.get(f"/api/v1/uploads/{upload}", headers=analyst).get_json()["received"] == 0
    assert client.delete(f"/api/v1/uploads/{upload}", headers=analyst).status_code == 204


def test_cancel_and_expiry_clean_up(app: Flask, headers: dict[str, Header]) -> None:
    client = app.test_client()
    analyst = headers["analyst"]
    cancelled = start(client, analyst, "a.tif", 10)["id"]
    assert put(client, analyst, cancelled, b"01234", 0, 10).status_code == 200
    assert client.delete(f"/api/v1/uploads/{cancelled}", headers=analyst).status_code == 204
    assert cancelled not in upload_folders(app)
    assert client.get(f"/api/v1/uploads/{cancelled}", headers=analyst).status_code == 404
    stale = start(client, analyst, "old.tif", 10)["id"]
    folder = Path(app.config["TMP_ROOT"]) / "uploads" / stale
    old = time.time() - 25 * 3600  # past UPLOAD_EXPIRE_HOURS (24)
    for path in (folder, *folder.iterdir()):
        os.utime(path, (old, old))
    fresh = start(client, analyst, "new.tif", 10)["id"]  # starting one sweeps
    assert upload_folders(app) == [fresh]
    assert client.get(f"/api/v1/uploads/{stale}", headers=analyst).status_code == 404
    assert client.delete(f"/api/v1/uploads/{fresh}", headers=analyst).status_code == 204


def test_the_cli_takes_sidecars_next_to_the_path(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`annotator images import plain.tif` finds plain.tif.msk, plain.tfw and the .aux.xml
    beside it (this set's mask keeps the western half: a new image)."""
    image = make_sidecar_set(tmp_path, "west")
    monkeypatch.setenv("ANNOTATOR_DATA_DIR", str(app.config["DATA_DIR"]))
    monkeypatch.setenv("ANNOTATOR_DATABASE_URL", str(app.config["DATABASE_URL"]))
    result = CliRunner().invoke(main, ["images", "import", str(image), "--json"])
    assert result.exit_code == 0, result.output
    [made] = json.loads(result.stdout)
    assert made["created"] is True
    assert_sidecars_honoured(made, "west")


def test_add_imagery_is_offered_to_analysts_only(app: Flask) -> None:
    """The home page's panel (the site page has the same partial, played in Chromium)."""
    for user, shown in (("viewer", False), ("analyst", True), ("admin", True)):
        client = app.test_client()
        login(client, user)
        page = client.get("/").get_data(as_text=True)
        assert ('id="add-imagery"' in page) is shown, user
        assert ("upload/add.js" in page) is shown, user


def run_cli(app: Flask, args: list[str], terminal: bool) -> tuple[int, str, str]:
    """`annotator ...` as a user runs it, its stderr on a pseudo-terminal when `terminal`."""
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(app.config["DATA_DIR"])}
    master, slave = pty.openpty() if terminal else (None, None)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "annotator"), *args], env=env,
        stdout=subprocess.PIPE, stderr=slave if terminal else subprocess.PIPE,
    )  # fmt: skip
    if slave is not None:
        os.close(slave)
    seen = b""
    while master is not None:
        try:
            piece = os.read(master, 65536)
        except OSError:  # the terminal's other end closed: the command ended
            break
        if not piece:
            break
        seen += piece
    out, err = process.communicate(timeout=120)
    if master is not None:
        os.close(master)
    said = seen if terminal else err
    return process.returncode, out.decode(), said.decode(errors="replace")


def test_images_import_shows_a_bar_on_a_terminal_only(app: Flask, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    files = [
        write_geotiff(tmp_path / f"bar-{n}.tif", rng.integers(1, 255, (3, 30, 40), "uint8"))
        for n in range(2)
    ]
    code, out, err = run_cli(app, ["images", "import", str(files[0])], terminal=True)
    assert code == 0, err
    assert "ingesting bar-0.tif (1 of 1)" in err and "99% recording in the catalogue" in err
    assert "imported bar-0.tif" in out and "\r" not in out
    # --json: the result only, even on a terminal (not a terminal: see the sidecars test)
    code, out, err = run_cli(app, ["images", "import", str(files[1]), "--json"], terminal=True)
    assert code == 0, err
    assert "ingesting" not in err and json.loads(out)[0]["original_filename"] == "bar-1.tif"


def test_a_ground_height_for_rpc_images_over_multipart_and_chunks(
    app: Flask, headers: dict[str, Header], tmp_path: Path
) -> None:
    """The Add imagery form's ground height reaches the RPC orthorectification either way;
    a height that is no number of metres in range is a 400 (422 in a JSON body) with
    nothing stored."""
    from tests.imagery.test_georef import nitf

    client, analyst = app.test_client(), headers["analyst"]

    def multipart(path: Path, height: str, query: str = "") -> Any:
        fields = {"file": FileStorage(io.BytesIO(path.read_bytes()), filename=path.name),
                  "height": height}  # fmt: skip
        boundary, body = encode_multipart(fields)
        return client.post(f"/api/v1/images{query}", data=body, headers=analyst,
                           content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip

    listed = client.get("/api/v1/images", headers=analyst).get_json()
    before = len(listed["images"] if isinstance(listed, dict) else listed)
    for bad in ("high", "1e400", "9000", "nan"):
        refused = multipart(nitf(tmp_path, "bad.ntf"), bad, "?wait=1")
        assert refused.status_code == 400, (bad, refused.get_json())
        assert refused.get_json()["message"] == "height must be a number of metres (-500 to 9000)"
    listed = client.get("/api/v1/images", headers=analyst).get_json()
    assert len(listed["images"] if isinstance(listed, dict) else listed) == before

    placed = multipart(nitf(tmp_path, "in-request.ntf"), "600", "?wait=1")
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["georeferencing"]["text"] == "RPC, constant height 600 m"

    second = tmp_path / "job.ntf"
    nitf(tmp_path, "job.ntf")
    with second.open("ab") as handle:  # another file (another sha256), the same image
        handle.write(b"\0")
    with consuming(app):
        queued = multipart(second, "250.5")
        assert queued.status_code == 202, queued.get_json()
        image = ingested_image(client, analyst, queued.get_json()["id"])
    assert image["georeferencing"]["text"] == "RPC, constant height 250.5 m"

    third = tmp_path / "chunks.ntf"
    nitf(tmp_path, "chunks.ntf")
    with third.open("ab") as handle:
        handle.write(b"\0\0")
    upload_id = send_all(client, analyst, third)
    ingest = "/api/v1/uploads/ingest"
    too_high = client.post(ingest, json={"uploads": [upload_id], "height": 12000}, headers=analyst)
    assert too_high.status_code == 422, too_high.get_json()
    with consuming(app):
        body = {"uploads": [upload_id], "height": -30}
        response = client.post(ingest, json=body, headers=analyst)
        assert response.status_code == 202, response.get_json()
        image = ingested_image(client, analyst, response.get_json()["id"])
    assert image["georeferencing"]["text"] == "RPC, constant height -30 m"
