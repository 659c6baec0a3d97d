"""/healthz, /readyz and /metrics with the Flask test client, on a real SQLite file and a
real PostgreSQL server (stopped and started again)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from morecantile import tms as tile_matrix_sets
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from annotations import annotation as store
from annotations.annotation import Actor
from annotations.catalogue.users import Role, add_user
from annotations.feature import parse_feature
from annotations.schema import upgrade
from annotator import create_app, health, scratch, services
from tests.annotator.test_durability import CENTRE, feature
from tests.annotator.test_images_api import upload
from tests.conftest import PASSWORD, require
from tests.postgis import ThrowawayCluster, missing

Header = Callable[[str], dict[str, str]]
MERCATOR = tile_matrix_sets.get("WebMercatorQuad")


def scrape(client: FlaskClient, headers: dict[str, str] | None = None) -> str:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


class Meter:
    """Scrapes before and after: `moved(name, **labels)` is how much a metric grew."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.before = scrape(client)
        self.after = self.before

    def again(self) -> str:
        self.after = scrape(self.client)
        return self.after

    def moved(self, name: str, **labels: str) -> float:
        return value(self.after, name, **labels) - value(self.before, name, **labels)


@pytest.fixture
def image_id(app: Flask, shared_data: Path, auth_header: Header) -> str:
    response = upload(
        app.test_client(),
        auth_header("analyst"),
        shared_data / "sample_geotiff.tif",
        provider="SpaceNet",
        licence="CC BY-SA 4.0",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


# ---------------------------------------------------------------------------- health


def test_healthz_answers_without_sign_in_and_says_nothing_more(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_lists_each_check(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "status": "ready",
        "checks": [
            {"name": "database", "ok": True, "reason": "ok"},
            {"name": "images", "ok": True, "reason": "ok"},
        ],
    }


def checks(client: FlaskClient, expected_status: int) -> dict[str, tuple[bool, str]]:
    response = client.get("/readyz")
    assert response.status_code == expected_status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == ("ready" if expected_status == 200 else "not ready")
    return {c["name"]: (c["ok"], c["reason"]) for c in body["checks"]}


def test_readyz_is_503_while_the_sqlite_file_is_moved_away(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    database = Path(app.config["DATA_DIR"]) / "annotator.db"
    assert database.is_file()
    aside = tmp_path / "aside.db"
    database.rename(aside)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        found = checks(client, 503)
        assert found["database"] == (False, "the database file is missing")
        assert found["images"] == (True, "ok")
        assert str(tmp_path) not in response.get_data(as_text=True), "no paths"
        assert not database.exists(), "the check made no new, empty database"
    finally:
        aside.rename(database)
    assert checks(client, 200)["database"] == (True, "ok")


def test_readyz_is_503_while_the_image_store_is_gone(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    images = Path(app.config["IMAGES_DIR"])
    images.rename(tmp_path / "images-aside")
    try:
        found = checks(client, 503)
        assert found == {
            "database": (True, "ok"),
            "images": (False, "the image store is missing"),
        }
    finally:
        (tmp_path / "images-aside").rename(images)
    assert checks(client, 200)["images"] == (True, "ok")


def test_readyz_waits_for_a_locked_sqlite_file_a_second_not_thirty(app: Flask) -> None:
    """Another process holds the database locked (exclusive locking mode): the check gives
    up after its own 1 s busy timeout (the app's is 30 s; the check's 3 s limit would say
    "no answer within 3 s"), and passes once the lock is gone."""
    client = app.test_client()
    services.database(app).dispose()  # the app's idle pooled connections would keep it out
    holder = sqlite3.connect(Path(app.config["DATA_DIR"]) / "annotator.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE alembic_version SET version_num = version_num")
        found = checks(client, 503)
        assert found["database"] == (False, "the database stayed locked for over 1 s")
        holder.execute("COMMIT")
    finally:
        holder.close()
    assert checks(client, 200)["database"] == (True, "ok")


def test_health_answers_before_init_when_everything_else_is_503(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "new"), "SECRET_KEY": "test-secret"})
    client = app.test_client()
    assert client.get("/login").status_code == 503, "readiness refuses the app itself"
    assert client.get("/healthz").status_code == 200
    found = checks(client, 503)
    assert found["database"] == (False, "the database file is missing")
    assert found["images"] == (True, "ok")
    sqlite3.connect(tmp_path / "new" / "annotator.db").close()  # a file without tables
    assert checks(client, 503)["database"] == (False, "no tables yet: run `annotator init`")
    assert "annotator_http_requests_total" in scrape(client)
    upgrade(services.database(app))
    assert checks(client, 200)["database"] == (True, "ok")
    assert client.get("/login").status_code == 200


def test_readyz_says_when_the_schema_is_behind(app: Flask) -> None:
    with services.database(app).write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    found = checks(app.test_client(), 503)
    assert found["database"] == (
        False,
        "the schema is not this version's: run `annotator init` to upgrade an older one",
    )


def test_a_check_that_hangs_fails_in_its_time_limit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that never answers (here: one that waits on an event) makes /readyz a 503
    after CHECK_TIMEOUT_S, and is not started again beside itself while it hangs."""
    release = threading.Event()
    calls: list[int] = []

    def stuck(_: Flask) -> None:
        calls.append(1)
        release.wait(30)

    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.2)
    health.add_check(app, "queue", stuck)
    client = app.test_client()
    try:
        first = checks(client, 503)
        assert first["queue"] == (False, "no answer within 0.2 s")
        assert first["database"] == (True, "ok")
        second = checks(client, 503)
        assert second["queue"] == (False, "no answer yet (over 0.2 s)")
        assert len(calls) == 1
    finally:
        release.set()


# ------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL server of this module's own, to stop and start without disturbing the
    session's shared one."""
    problem = missing()
    require(problem is None, problem or "")
    with ThrowawayCluster() as cluster:
        yield cluster


def test_readyz_on_postgis_is_503_while_the_server_is_stopped(
    own_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    url = own_cluster.create_database("readyz")
    app = create_app(
        {"DATA_DIR": str(tmp_path / "pg"), "SECRET_KEY": "test-secret", "DATABASE_URL": url}
    )
    upgrade(services.database(app))
    client = app.test_client()
    assert checks(client, 200)["database"] == (True, "ok")
    own_cluster.pause()
    try:
        response = client.get("/readyz")
        found = checks(client, 503)
        assert found["database"] == (False, "cannot connect to the database")
        assert found["images"] == (True, "ok")
        text = response.get_data(as_text=True)
        assert str(own_cluster.port) not in text and "127.0.0.1" not in text, "no addresses"
    finally:
        own_cluster.resume()
    assert checks(client, 200)["database"] == (True, "ok")
    # the database itself gone (dropped), the server up
    services.database(app).dispose()
    own_cluster.drop_database("readyz")
    assert checks(client, 503)["database"] == (False, "cannot connect to the database")


# --------------------------------------------------------------------------- metrics


def test_requests_are_counted_by_route_never_by_path(app: Flask, auth_header: Header) -> None:
    client = app.test_client()
    meter = Meter(client)
    for _ in range(3):
        client.get("/healthz")
    secret_id = "an-id-nobody-should-see-in-metrics"
    missing_one = client.get(f"/api/v1/annotations/{secret_id}", headers=auth_header("viewer"))
    assert missing_one.status_code == 404
    assert client.get("/no/such/page/at-all").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    text = meter.again()
    assert meter.moved("annotator_http_requests_total", route="/healthz", status="200") == 3
    assert meter.moved("annotator_http_request_duration_seconds_count", route="/healthz") == 3
    route = "/api/v1/annotations/<annotation_id>"
    assert meter.moved("annotator_http_requests_total", route=route, status="404") == 1
    assert meter.moved("annotator_http_requests_total", route="(unmatched)", status="404") == 1
    assert meter.moved("annotator_http_requests_total", method="other", status="405") == 1
    assert secret_id not in text and "at-all" not in text and "BREW" not in text


def test_tiles_rendered_against_cache_hits(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    headers = auth_header("viewer")
    tile = MERCATOR.tile(*CENTRE, 16)
    url = f"/tiles/{image_id}/16/{tile.x}/{tile.y}.png"
    meter = Meter(client)
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    assert client.get(url, headers=headers).status_code == 200
    assert client.get(url, headers=headers).status_code == 200
    etag = first.headers["ETag"]
    assert client.get(url, headers={**headers, "If-None-Match": etag}).status_code == 304
    meter.again()
    assert meter.moved("annotator_tiles_total", source="rendered") == 1
    assert meter.moved("annotator_tiles_total", source="cache") == 2
    assert meter.moved("annotator_tiles_total", source="not_modified") == 1
    assert meter.moved("annotator_tile_render_duration_seconds_count") == 1


def test_ingest_duration_by_outcome(
    app: Flask, shared_data: Path, auth_header: Header, tmp_path: Path
) -> None:
    client = app.test_client()
    meter = Meter(client)
    ok = upload(
        client,
        auth_header("analyst"),
        shared_data / "sample_geotiff.tif",
        provider="SpaceNet",
        licence="CC BY-SA 4.0",
    )
    assert ok.status_code == 201
    again = upload(
        client,
        auth_header("analyst"),
        shared_data / "sample_geotiff.tif",
        provider="SpaceNet",
        licence="CC BY-SA 4.0",
    )
    assert again.status_code == 200, "catalogued already: not ingested again"
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\x00" * 1000)
    bad = upload(client, auth_header("analyst"), junk, provider="x", licence="y")
    assert 400 <= bad.status_code < 500
    meter.again()
    assert meter.moved("annotator_ingest_duration_seconds_count", outcome="ok") == 1
    assert meter.moved("annotator_ingest_duration_seconds_count", outcome="failed") == 1
    assert meter.moved("annotator_ingest_duration_seconds_sum", outcome="ok") > 0


def test_annotation_writes_by_kind_counted_once_committed(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    client = app.test_client()
    headers = {**auth_header("analyst"), "Content-Type": "application/json"}
    meter = Meter(client)
    made = client.post("/api/v1/annotations", data=feature(image_id, "one"), headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    ident, etag = made.get_json()["id"], made.headers["ETag"]
    patch = json.dumps({"type": "Feature", "properties": {"notes": "two"}})
    edited = client.patch(
        f"/api/v1/annotations/{ident}", data=patch, headers={**headers, "If-Match": etag}
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    stale = client.patch(
        f"/api/v1/annotations/{ident}", data=patch, headers={**headers, "If-Match": etag}
    )
    assert stale.status_code == 412, "a refused write is not counted"
    etag = edited.headers["ETag"]
    gone = client.delete(f"/api/v1/annotations/{ident}", headers={**headers, "If-Match": etag})
    assert gone.status_code == 200, gone.get_data(as_text=True)
    back = client.post(
        f"/api/v1/annotations/{ident}/restore",
        headers={**headers, "If-Match": gone.headers["ETag"]},
    )
    assert back.status_code == 200, back.get_data(as_text=True)
    moved = client.post(
        f"/api/v1/annotations/{ident}/status",
        headers={**headers, "If-Match": back.headers["ETag"]},
        data=json.dumps({"status": "in_review"}),
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    # many at once, as an import writes them (rows inserted without ORM objects)
    data = parse_feature(json.loads(feature(image_id, "bulk")), services.taxonomy(app))
    with services.database(app).write() as session:
        store.create_many(session, [(data, None)] * 5, Actor("analyst", Role.analyst))
    # a transaction that fails after writing is rolled back: nothing counted
    with pytest.raises(RuntimeError), services.database(app).write() as session:
        store.create(session, data, Actor("analyst", Role.analyst))
        raise RuntimeError("rolled back")
    meter.again()
    name = "annotator_annotation_writes_total"
    assert meter.moved(name, action="create") == 1 + 5
    assert meter.moved(name, action="edit") == 1
    assert meter.moved(name, action="delete") == 1
    assert meter.moved(name, action="restore") == 1
    assert meter.moved(name, action="status") == 1


def test_export_duration_by_format_and_outcome(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    made = client.post(
        "/api/v1/annotations",
        data=feature(image_id, "x"),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert made.status_code == 201
    meter = Meter(client)
    for fmt in ("geojson", "csv"):
        response = client.get(f"/api/v1/exports?format={fmt}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        response.close()
    app.config["EXPORT_MAX_MB"] = 0.0001  # 104 bytes: the finished file is over budget
    stopped = client.get("/api/v1/exports?format=geojson", headers=headers)
    assert stopped.status_code == 413, stopped.get_data(as_text=True)
    meter.again()
    name = "annotator_export_duration_seconds_count"
    assert meter.moved(name, format="geojson", outcome="ok") == 1
    assert meter.moved(name, format="csv", outcome="ok") == 1
    assert meter.moved(name, format="geojson", outcome="stopped") == 1


def sign_in(client: FlaskClient, name: str, password: str) -> Any:
    page = client.get("/login").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    token = page[start : page.index('"', start)]
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def test_sign_in_failures_by_reason_never_by_name(tmp_path: Path) -> None:
    app = create_app(
        {
            "DATA_DIR": str(tmp_path / "i"),
            "SECRET_KEY": "test-secret",
            "SIGNIN_ACCOUNT_LIMIT": "2 per 15 minutes",
        }
    )
    upgrade(services.database(app))
    with services.database(app).write() as session:
        add_user(session, "reporter-jane", Role.viewer, PASSWORD)
    client = app.test_client()
    meter = Meter(client)
    assert sign_in(client, "reporter-jane", "wrong 1").status_code == 401
    assert sign_in(client, "reporter-jane", "wrong 2").status_code == 401
    assert sign_in(client, "reporter-jane", "wrong 3").status_code == 429
    slots = app.extensions["annotator.sign_in_throttle"].slots
    assert slots.acquire(blocking=False)  # every password check is busy
    try:
        assert sign_in(app.test_client(), "someone-else", "x").status_code == 503
    finally:
        slots.release()
    text = meter.again()
    name = "annotator_signin_failures_total"
    assert meter.moved(name, reason="credentials") == 2
    assert meter.moved(name, reason="throttled") == 1
    assert meter.moved(name, reason="busy") == 1
    assert "jane" not in text and "someone" not in text


def test_metrics_token(tmp_path: Path) -> None:
    app = create_app(
        {
            "DATA_DIR": str(tmp_path / "i"),
            "SECRET_KEY": "test-secret",
            "METRICS_TOKEN": "s3cret-token",
        }
    )
    upgrade(services.database(app))
    client = app.test_client()
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic s3cret-token"},
        {"Authorization": "Bearer s3cret-token-and-more"},
    ):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"] == "unauthorized"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "annotator_" not in refused.get_data(as_text=True)
    text = scrape(client, {"Authorization": "Bearer s3cret-token"})
    assert "annotator_http_requests_total" in text
    assert client.get("/healthz").status_code == 200, "the probes need no token"
    assert client.get("/readyz").status_code == 200


def test_metrics_hold_no_process_or_platform_details(app: Flask) -> None:
    text = scrape(app.test_client())
    assert "python_info" not in text and "process_" not in text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert names and all(name.startswith("annotator_") for name in names)


def test_health_routes_stay_out_of_the_api_document(app: Flask, auth_header: Header) -> None:
    response = app.test_client().get("/api/v1/openapi.json", headers=auth_header("viewer"))
    assert response.status_code == 200
    paths = set(response.get_json()["paths"])
    assert paths and not {"/healthz", "/readyz", "/metrics"} & paths


def test_data_folder_tmp_metrics_folder_is_kept_while_its_owner_lives(tmp_path: Path) -> None:
    """`annotator serve` keeps the workers' metrics in its own tmp/ folder, whose lock the
    gunicorn it execs inherits: another process starting meanwhile leaves it alone."""
    root = tmp_path / "tmp"
    script = (
        "import os, sys, time; from pathlib import Path; from annotator import scratch;"
        "folder = scratch.kept_across_exec(Path(sys.argv[1]));"
        "print(folder, flush=True);"
        "os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)'])"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(root)], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            folder = Path(child.stdout.readline().strip())
            assert folder.parent == root and folder.is_dir()
            assert scratch.remove_leftovers(root, 0.0) == [], "the exec'd program holds its lock"
            assert folder.is_dir()
        finally:
            child.kill()
    assert scratch.remove_leftovers(root, 0.0) == [folder]
    shutil.rmtree(root, ignore_errors=True)
