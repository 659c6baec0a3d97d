"""Shared fixtures: real GeoTIFFs (shared/data and generated), a real SQLite app."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from flask import Flask
from flask.testing import FlaskClient
from rasterio.transform import from_origin
from werkzeug.security import generate_password_hash

from annotations.catalogue.users import Role, add_user, create_token
from annotations.schema import upgrade
from annotator import create_app, services
from tests.postgis import ThrowawayCluster, missing

#: files that take minutes of one worker each (a file runs whole in one worker: `--dist
#: loadfile`), handed out first, longest first, so that no worker is left running one of
#: them alone at the end while the other waits; the rest follow with the most tests first
#: (what pytest-xdist does by itself; the Makefile turns its own reordering off)
LONG_FILES = (
    "tests/test_benchmarks_smoke.py",
    "tests/annotator/test_roles.py",
    "tests/annotator/test_durability.py",
    "tests/annotator/test_backup_under_load.py",
    "tests/annotator/test_behind_a_proxy.py",
    "tests/annotator/test_slow_clients.py",
    "tests/annotator/test_export_hangup_served.py",
    "tests/annotations/test_backup_hashing.py",
    "tests/annotator/test_jobs_served.py",
    "tests/annotator/test_read_keys_served.py",
    "tests/browser/test_journey_seed_story.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def order(name: str) -> tuple[int, int]:
        if name in LONG_FILES:
            return LONG_FILES.index(name), 0
        return len(LONG_FILES), -len(files[name])

    items[:] = [item for name in sorted(files, key=order) for item in files[name]]


ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"


def require(condition: bool, reason: str) -> None:
    """Skip on a user's machine; under CI=true a missing prerequisite fails the run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require(SHARED_DATA.is_dir(), f"the sample rasters folder {SHARED_DATA} is absent")
    return SHARED_DATA


def write_geotiff(
    path: Path,
    data: np.ndarray[Any, Any] | None = None,
    tags: dict[str, str] | None = None,
    **profile: Any,
) -> Path:
    """Write a small real GeoTIFF at `path`; keyword arguments override the profile."""
    if data is None:
        rng = np.random.default_rng(7)
        data = rng.integers(1, 255, (3, 300, 400), dtype=np.uint8)
    base: dict[str, Any] = {
        "driver": "GTiff",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": str(data.dtype),
        "crs": "EPSG:32636",
        "transform": from_origin(790000, 3922000, 0.5, 0.5),
    }
    base.update(profile)
    with rasterio.open(path, "w", **base) as dataset:
        dataset.write(data)
        if tags:
            dataset.update_tags(**tags)
    return path


@pytest.fixture
def make_geotiff(tmp_path: Path) -> Callable[..., Path]:
    """Write a small real GeoTIFF in the test's folder (see `write_geotiff`)."""

    def make(name: str = "scene.tif", data: np.ndarray[Any, Any] | None = None,
             tags: dict[str, str] | None = None, **profile: Any) -> Path:  # fmt: skip
        return write_geotiff(tmp_path / name, data, tags, **profile)

    return make


def make_app(tmp_path: Path, database_url: str | None = None) -> Flask:
    config: dict[str, Any] = {
        "DATA_DIR": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    return create_app(config)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh SQLite catalogue with the test users (one a role): a copy of one made by
    `_app_with_users` once per process (migrating a new file for each of some 800 tests took
    0.17 s of CPU each); `upgrade` still runs on the copy, and finds it at the newest schema.
    The migrations themselves are tested from empty in tests/upgrades/ and by every
    `app_on_each_backend` test."""
    instance = tmp_path / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "annotator.db").write_bytes(_fresh_catalogue())
    application = make_app(tmp_path)
    upgrade(services.database(application))
    yield application
    services.database(application).dispose()


@functools.cache
def _fresh_catalogue() -> bytes:
    """The bytes of a SQLite catalogue migrated from empty, with the test users."""
    folder = Path(tempfile.mkdtemp(prefix="fresh-catalogue-"))
    try:
        for _application in _app_with_users(make_app(folder)):
            pass
        return (folder / "instance" / "annotator.db").read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_on_each_backend(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The app on SQLite and on PostGIS in turn."""
    yield from _app_with_users(make_app(tmp_path, database_url))


@functools.cache
def password_hash() -> str:
    """PASSWORD's scrypt hash, made once per process: the five users of every test app each
    had one made afresh (a second an app, some 800 apps); a hash checks the same whatever
    its salt, and signing in still checks it with scrypt."""
    return generate_password_hash(PASSWORD, "scrypt")


def _app_with_users(application: Flask) -> Iterator[Flask]:
    database = services.database(application)
    upgrade(database)
    with database.write() as session:
        for role in Role:
            add_user(session, role.name, role, None).password_hash = password_hash()
    yield application
    database.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A data folder with `annotator demo` loaded once per run (the synthetic Hmeimim
    scene and its 16 reference annotations; not the sample rasters) and the test users.
    Tests copy it, never change it. Under pytest-xdist the first worker to ask makes it
    in the run's own folder, under a lock, and the others wait for it and share it."""
    if worker_id == "master":
        return _demo_folder(tmp_path_factory.mktemp("demo-template") / "instance")
    shared = tmp_path_factory.getbasetemp().parent / "demo-template"
    with open(shared.with_name("demo-template.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "made").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a worker that died half-way
            _demo_folder(shared / "instance")
            (shared / "made").touch()
    return shared / "instance"


def _demo_folder(folder: Path) -> Path:
    from annotator.demo.loader import load_demo

    application = create_app({"DATA_DIR": str(folder), "SECRET_KEY": "test-secret",
                              "SAMPLE_DATA_DIR": str(folder / "no-samples")})  # fmt: skip
    for _ in _app_with_users(application):
        load_demo(application)
    return folder


@pytest.fixture
def demo_app(tmp_path: Path, demo_template: Path) -> Iterator[Flask]:
    """A fresh copy of the demo data folder for one test, with the app on it."""
    shutil.copytree(demo_template, tmp_path / "instance")
    application = make_app(tmp_path)
    yield application
    services.database(application).dispose()


def token_for(app: Flask, user: str) -> str:
    database = services.database(app)
    with database.write() as session:
        from annotations.catalogue.users import get_user

        return create_token(session, get_user(session, user), "tests")


@pytest.fixture
def auth_header(app: Flask) -> Callable[[str], dict[str, str]]:
    def header(user: str = "analyst") -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(app, user)}"}

    return header


def login(client: FlaskClient, user: str) -> str:
    """Sign in through the form, as a browser would; returns the session's CSRF token."""
    page = client.get("/login")
    token = _csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={"name": user, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get("/")
    return _csrf_from(home.get_data(as_text=True))


def _csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture(scope="session")
def postgis_cluster() -> Iterator[ThrowawayCluster]:
    """A real PostgreSQL + PostGIS server for the whole session, removed afterwards."""
    problem = missing()
    require(problem is None, problem or "")
    cluster = ThrowawayCluster().start()
    timings = ", ".join(f"{key} {value:.2f}" for key, value in cluster.timings.items())
    sys.stderr.write(f"\nthrowaway PostGIS cluster on port {cluster.port}: {timings}\n")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgis"], ids=["sqlite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for one test, on each storage backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db.sqlite"
    cluster: ThrowawayCluster = request.getfixturevalue("postgis_cluster")
    return cluster.create_database()
