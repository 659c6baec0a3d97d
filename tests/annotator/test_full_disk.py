"""A full disk, made for real: a small tmpfs mounted as the data folder (or as a PostgreSQL
tablespace), filled to the last byte. The API answers 507 Insufficient Storage saying
so, the command line one line and exit 1; nothing is half-written; freeing space is
enough to carry on."""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from psycopg import sql
from rasterio.transform import from_origin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from annotations.annotation import Annotation
from annotations.catalogue.images import Image
from annotations.catalogue.users import Role, add_user
from annotations.disk import MESSAGE
from annotations.schema import upgrade
from annotator import create_app, services
from tests.annotator.test_roles import feature
from tests.conftest import PASSWORD, ROOT, require, token_for, write_geotiff
from tests.postgis import ThrowawayCluster

ANNOTATOR = [str(Path(sys.executable).with_name("annotator"))]  # the console script


class Disk:
    """A tmpfs of `size` at `path`; `fill()` takes every free byte, `free()` gives it back."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        self.size = size
        self.filler = path / "filler"

    def mount(self) -> Disk:
        self.path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs",
                                 str(self.path)], capture_output=True, text=True)  # fmt: skip
        require(result.returncode == 0,
                f"cannot mount a tmpfs (needs root): {result.stderr.strip()}")  # fmt: skip
        return self

    def fill(self) -> None:
        handle = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 16, 4096, 512, 1):  # down to the last byte
                try:
                    while True:
                        os.write(handle, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        finally:
            os.close(handle)
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    mounted = Disk(tmp_path / "disk", "24m").mount()
    try:
        yield mounted
    finally:
        mounted.unmount()


def small_scene(tmp_path: Path, name: str, size: int = 1200) -> Path:
    """Noise near tests.annotator.test_roles.CENTRE: its COG needs about as much room as
    the file (noise does not compress)."""
    data = np.random.default_rng(11).integers(0, 255, (3, size, size), dtype=np.uint8)
    return write_geotiff(tmp_path / name, data, crs="EPSG:4326",
                         transform=from_origin(-84.4795, 33.6390, 1e-5, 1e-5))  # fmt: skip


def upload(client: Any, headers: dict[str, str], path: Path) -> TestResponse:
    fields: MultiDict[str, Any] = MultiDict()
    fields.add("file", FileStorage(io.BytesIO(path.read_bytes()), filename=path.name))
    boundary, body = encode_multipart(fields)
    return client.post("/api/v1/images?wait=1", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip


def noisy_feature(image_id: str) -> dict[str, Any]:
    body = feature(image_id)
    body["properties"]["notes"] = secrets.token_hex(4_500)  # 9,000 characters, incompressible
    return body


def counts(app: Flask) -> tuple[int, int]:
    with services.database(app).read() as session:
        images = session.scalar(select(func.count()).select_from(Image))
        annotations = session.scalar(select(func.count()).select_from(Annotation))
        return int(images or 0), int(annotations or 0)


def ready_app(data_dir: Path, database_url: str | None = None) -> Flask:
    config: dict[str, Any] = {"DATA_DIR": str(data_dir), "SECRET_KEY": "test-secret"}
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    upgrade(services.database(app))
    with services.database(app).write() as session:
        add_user(session, "analyst", Role.analyst, PASSWORD)
    return app


def assert_out_of_space(response: TestResponse) -> None:
    assert response.status_code == 507, response.get_data(as_text=True)[:400]
    assert response.get_json() == {"error": "insufficient_storage", "message": MESSAGE,
                                   "details": None}  # fmt: skip


def test_the_api_says_507_on_a_full_disk_and_writes_nothing(disk: Disk, tmp_path: Path) -> None:
    app = ready_app(disk.path / "data")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    first = upload(client, headers, small_scene(tmp_path, "first.tif", 256))
    assert first.status_code == 201, first.get_json()
    image_id = first.get_json()["id"]
    assert (
        client.post("/api/v1/annotations", json=feature(image_id), headers=headers).status_code
        == 201
    )
    before = counts(app)
    stored = sorted(p.name for p in Path(app.config["IMAGES_DIR"]).iterdir())
    disk.fill()

    for _ in range(3):  # SQLite: "database or disk is full"
        assert_out_of_space(
            client.post("/api/v1/annotations", json=noisy_feature(image_id), headers=headers)
        )
    scene = small_scene(tmp_path, "second.tif")
    assert_out_of_space(upload(client, headers, scene))  # the upload, or its COG: ENOSPC

    assert counts(app) == before
    assert sorted(p.name for p in Path(app.config["IMAGES_DIR"]).iterdir()) == stored
    assert list(Path(app.config["TMP_DIR"]).rglob("*.tif")) == []

    disk.free()
    again = client.post("/api/v1/annotations", json=noisy_feature(image_id), headers=headers)
    assert again.status_code == 201, again.get_json()
    assert upload(client, headers, scene).status_code == 201
    assert counts(app) == (before[0] + 1, before[1] + 1)
    services.database(app).dispose()


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run([*ANNOTATOR, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)  # fmt: skip


def test_the_command_line_says_so_in_one_line(disk: Disk, tmp_path: Path) -> None:
    data = disk.path / "data"
    assert run_cli(data, "init").returncode == 0
    scene = small_scene(tmp_path, "scene.tif")
    disk.fill()
    for args in (
        ("images", "import", str(scene)),
        ("sites", "add", "Hmeimim", "--lon", "35.95", "--lat", "35.41"),
    ):
        result = run_cli(data, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.strip().splitlines() == [f"Error: {MESSAGE}"], result.stderr
    assert sorted(p.name for p in (data / "images").iterdir()) == []
    disk.free()
    listed = run_cli(data, "sites", "list")
    assert listed.returncode == 0 and listed.stdout == ""  # nothing was half-added
    assert run_cli(data, "images", "import", str(scene)).returncode == 0


@pytest.fixture
def postgres_on_full_disk(postgis_cluster: ThrowawayCluster) -> Iterator[tuple[str, Disk]]:
    """A database whose every table lives in a tablespace on a tmpfs (in a folder the
    server's user can reach: pytest's own are private to root)."""
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    outside = Path(tempfile.mkdtemp(prefix="annotator-full-disk-"))
    outside.chmod(0o755)
    disk = Disk(outside / "disk", "64m").mount()
    space = disk.path / "tablespace"
    space.mkdir()
    subprocess.run(["chown", "-R", "postgres:postgres", str(disk.path)], check=True)
    name = f"full_{secrets.token_hex(4)}"
    url = postgis_cluster.create_database(name)
    with postgis_cluster.admin() as connection:
        connection.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
            sql.Identifier(name), sql.Literal(str(space))))  # fmt: skip
        connection.execute(sql.SQL("ALTER DATABASE {} SET TABLESPACE {}").format(
            sql.Identifier(name), sql.Identifier(name)))  # fmt: skip
    try:
        yield url, disk
    finally:
        disk.free()
        postgis_cluster.drop_database(name)
        with postgis_cluster.admin() as connection:
            connection.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(name)))
        disk.unmount()
        shutil.rmtree(outside, ignore_errors=True)


def test_postgresql_disk_full_is_a_507(
    postgres_on_full_disk: tuple[str, Disk], tmp_path: Path
) -> None:
    url, disk = postgres_on_full_disk
    app = ready_app(tmp_path / "data", url)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    made = upload(client, headers, small_scene(tmp_path, "scene.tif", 256))
    assert made.status_code == 201
    image_id = made.get_json()["id"]
    before = counts(app)
    disk.fill()
    answers = []
    for _ in range(40):  # until the tables need a page the disk cannot give
        response = client.post("/api/v1/annotations", json=noisy_feature(image_id),
                               headers=headers)  # fmt: skip
        assert response.status_code in (201, 507), response.get_data(as_text=True)[:400]
        answers.append(response.status_code)
        if response.status_code == 507:
            assert_out_of_space(response)
            break
    assert answers[-1] == 507, answers
    assert counts(app)[1] == before[1] + answers.count(201)
    disk.free()
    assert (
        client.post("/api/v1/annotations", json=feature(image_id), headers=headers).status_code
        == 201
    )
    services.database(app).dispose()
