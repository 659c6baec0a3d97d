"""Ingest in a child process with limits (issue 12 item 3), through the app: a hostile file
is refused in one line and leaves nothing in images/ or tmp/, over HTTP and in a job; the
CPU and memory limits refuse in one line; a child killed mid-write leaves nothing; a job's
cancel and its kind's time limit kill the running child at once; and the folder of an
import whose parent process was killed is removed at the next worker start.

The slow file is a 16,000 x 16,000 sparse GeoTIFF of 32 KB (256 MB of declared pixels, just
inside the header limits): its ingest takes many seconds of CPU, so the tests can stop it
in the middle without a large file.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
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

from annotations.catalogue.images import Image, Provenance
from annotations.jobs.running import recover
from annotations.schema import upgrade
from annotator import create_app, services
from annotator.intake import Upload, import_images
from annotator.jobs.setup import queue
from imagery.errors import UnreadableImage
from imagery.sandbox import PREFIX, Limits, OverLimit
from tests.conftest import _app_with_users, make_app, token_for
from tests.jobs import WAIT_S, consuming, wait_for_job, wait_until

ROOT = Path(__file__).resolve().parents[2]
ANNOTATOR = [str(Path(sys.executable).with_name("annotator"))]  # the console script
PROFILE: dict[str, Any] = {
    "driver": "GTiff", "dtype": "uint8", "crs": "EPSG:32636", "compress": "deflate",
    "transform": from_origin(790000, 3922000, 0.5, 0.5),
}  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from _app_with_users(make_app(tmp_path_factory.mktemp("limits")))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    made = {
        "slow": folder / "slow.tif",
        "bands": folder / "bands.tif",
        "sparse": folder / "sparse.tif",
        "hungry": folder / "hungry.tif",
    }
    with rasterio.open(made["slow"], "w", width=16000, height=16000, count=1, tiled=True,
                       sparse_ok=True, **PROFILE):  # fmt: skip
        pass
    with rasterio.open(made["bands"], "w", width=16, height=16, count=3000, interleave="band",
                       sparse_ok=True, **PROFILE):  # fmt: skip
        pass
    with rasterio.open(made["sparse"], "w", width=40000, height=40000, count=1, tiled=True,
                       sparse_ok=True, **PROFILE):  # fmt: skip
        pass
    # one 60 MB block of float64, compressed to a few KB: reading it needs the memory
    hungry = PROFILE | {"dtype": "float64"}
    with rasterio.open(made["hungry"], "w", width=2048, height=1920, count=2, tiled=True,
                       blockxsize=2048, blockysize=1920, **hungry) as dataset:  # fmt: skip
        dataset.write(np.full((2, 1920, 2048), 0.5))
    return made


def everything_in(folder: Path) -> list[str]:
    """Every file and folder below `folder`, hidden ones included."""
    if not folder.is_dir():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def rows(app: Flask) -> int:
    with services.database(app).read() as session:
        return int(session.scalar(select(func.count()).select_from(Image)) or 0)


def post(client: FlaskClient, headers: dict[str, str], path: Path, query: str) -> TestResponse:
    form: MultiDict[str, Any] = MultiDict()
    form.add("file", FileStorage(io.BytesIO(path.read_bytes()), filename=path.name))
    boundary, body = encode_multipart(form)
    return client.post(
        f"/api/v1/images?{query}", data=body, headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip


def ingest_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "ingest"]


def test_a_hostile_upload_is_refused_in_one_line_and_leaves_nothing(
    app: Flask, files: dict[str, Path]
) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    images, tmp = Path(app.config["IMAGES_DIR"]), Path(app.config["TMP_DIR"])
    for name, said in (("bands", "has 3,000 bands"), ("sparse", "times smaller")):
        refused = post(client, headers, files[name], "wait=1")
        assert refused.status_code == 413, refused.get_json()
        body = refused.get_json()
        assert body["error"] == "image_too_large" and said in body["message"]
        assert "\n" not in body["message"]
        assert everything_in(images) == [] and everything_in(tmp) == []
    with consuming(app):
        job = post(client, headers, files["bands"], "async=1").get_json()
        ended = wait_for_job(client, headers, job["id"])
    assert ended["status"] == "failed" and "has 3,000 bands" in ended["error"]
    assert everything_in(images) == [] and rows(app) == 0


def test_the_cpu_and_memory_limits_refuse_in_one_line_and_leave_nothing(
    app: Flask, files: dict[str, Path]
) -> None:
    store = Path(app.config["IMAGES_DIR"])
    cases = (
        ("slow", Limits(cpu_s=1), "slow.tif used more than 1 s of CPU while being ingested"),
        ("hungry", Limits(memory_mb=320), "hungry.tif used more than 320 MB of memory"),
    )
    for name, limits, said in cases:
        with pytest.raises(OverLimit) as refused:
            import_images(services.database(app), store, [Upload(files[name], f"{name}.tif")],
                          Provenance(), max_pixels=10**9, limits=limits)  # fmt: skip
        assert said in str(refused.value) and "\n" not in str(refused.value)
        assert everything_in(store) == [] and rows(app) == 0


def test_a_child_killed_mid_write_leaves_nothing(app: Flask, files: dict[str, Path]) -> None:
    store = Path(app.config["IMAGES_DIR"])
    killed: list[int] = []

    def kill_once_writing(fraction: float, message: str) -> None:
        writing = [f for f in store.glob(f"{PREFIX}*/*") if f.suffix == ".tif"]
        if writing and not killed:
            for child in ingest_children():
                assert child.pid is not None
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    with pytest.raises(UnreadableImage) as failed:
        import_images(services.database(app), store, [Upload(files["slow"], "slow.tif")],
                      Provenance(), max_pixels=10**9, progress=kill_once_writing)  # fmt: skip
    assert killed, "the ingest ended before it could be killed"
    assert "the ingest of slow.tif stopped (signal SIGKILL) before it ended" in str(failed.value)
    assert everything_in(store) == [] and rows(app) == 0


def test_cancelling_a_job_or_its_time_limit_kills_the_running_ingest_at_once(
    app: Flask, files: dict[str, Path]
) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    store = Path(app.config["IMAGES_DIR"])
    runtime = queue(app).runtime
    with consuming(app):
        job = post(client, headers, files["slow"], "async=1").get_json()
        children = [child.pid for child in wait_until(ingest_children, bool)]
        cancelled = client.delete(f"/api/v1/jobs/{job['id']}", headers=headers)
        assert cancelled.status_code == 202  # asked; the worker stops it
        ended = wait_for_job(client, headers, job["id"])
        assert ended["status"] == "cancelled" and ended["message"] == "cancelled while running"
        assert children and not any(alive(pid) for pid in children if pid)
        runtime.time_limits = {"ingest": 1.0}
        try:
            job = post(client, headers, files["slow"], "async=1").get_json()
            ended = wait_for_job(client, headers, job["id"])
        finally:
            runtime.time_limits = {}
    assert ended["status"] == "failed"
    assert "ingest jobs may run at most 1 s" in ended["error"]
    assert ingest_children() == []
    assert everything_in(store) == [] and rows(app) == 0


def test_the_folder_of_a_killed_import_goes_at_the_next_worker_start(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "x", "TESTING": True})
    upgrade(services.database(app))  # what `annotator init` does
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(data), "ANNOTATOR_SECRET_KEY": "x",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    store = data / "images"
    importer = subprocess.Popen([*ANNOTATOR, "images", "import", str(files["slow"])], env=env,
                                cwd=ROOT, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_until(lambda: {"writing": list(store.glob(f"{PREFIX}*/*.tif"))},
                   lambda seen: bool(seen["writing"]))  # fmt: skip
        family = descendants(importer.pid)
        assert family, "the import runs its ingest in a child process"
    finally:
        importer.kill()
        importer.wait(WAIT_S)
    # the ingest child sees its parent go and ends, and so do the forkserver and its tracker
    wait_until(lambda: {"alive": [p for p in family if alive(p)]},
               lambda seen: seen["alive"] == [])  # fmt: skip
    [left] = [p.name for p in store.iterdir() if p.name.startswith(PREFIX)]
    assert f"-{importer.pid}-" in left  # named after the process that made it
    recover(queue(app).runtime)  # what every `annotator worker` and `serve` does first
    assert everything_in(store) == []
    services.database(app).dispose()


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, up in parents.items() if up == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
