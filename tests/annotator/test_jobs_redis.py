"""Every kind of job through a Redis-backed queue and a real `annotator worker` (issue 12
item 1: the distributed backend): an app whose ANNOTATOR_JOBS_URL is a throwaway
redis-server queues an ingest, an import, an export and a story job over HTTP; the jobs wait
in Redis (no SQLite queue is made); a separate `annotator worker` process, given the same
data folder and URL, runs them all to done; their results' files download."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, mapping, shape

from annotator.app import create_app
from annotator.jobs.setup import queue
from tests.conftest import _app_with_users, write_geotiff
from tests.jobs import wait_for_job
from tests.newsroom import Newsroom, newsroom
from tests.redis_server import ThrowawayRedis, redis_server  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def room(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: ThrowawayRedis,  # noqa: F811
) -> Iterator[Newsroom]:
    redis_server.flush()
    folder = tmp_path_factory.mktemp("jobs-redis")
    config = {
        "DATA_DIR": str(folder / "instance"),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "JOBS_URL": redis_server.url,
    }
    for app in _app_with_users(create_app(config)):
        yield newsroom(app, write_geotiff(folder / "scene.tif"), datetime(2024, 12, 13, tzinfo=UTC))


def trucks(room: Newsroom) -> bytes:
    found = room.call("GET", f"/api/v1/images/{room.image_id}", "analyst").get_json()
    middle = shape(found["footprint"]).centroid
    d = 0.00005
    features = [
        {
            "type": "Feature",
            "id": f"truck-{n}",
            "properties": {"label": "vehicle.truck"},
            "geometry": mapping(
                box(middle.x + 3 * n * d, middle.y, middle.x + 3 * n * d + d, middle.y + d)
            ),
        }
        for n in range(2)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def queued(response: Any) -> str:
    assert response.status_code == 202, response.get_json()
    job_id: str = response.get_json()["id"]
    return job_id


def test_every_kind_runs_through_redis_in_an_annotator_worker(
    room: Newsroom,
    redis_server: ThrowawayRedis,  # noqa: F811
    tmp_path: Path,
) -> None:
    app = room.app
    base, _ = room.published()
    scene = write_geotiff(tmp_path / "second.tif").read_bytes()
    upload = {"file": (io.BytesIO(scene), "second.tif")}
    labels = {"file": (io.BytesIO(trucks(room)), "trucks.geojson")}
    jobs = {
        "ingest": queued(room.call("POST", "/api/v1/images?async=1", "analyst", data=upload)),
        "import": queued(room.call("POST", "/api/v1/imports?async=1", "analyst", data=labels)),
        "export": queued(room.call("GET", "/api/v1/exports?format=geojson&async=1", "analyst")),
        "story": queued(room.call("GET", f"{base}/bundle.zip?async=1", "editor")),
    }
    assert queue(app).pending() == 4  # waiting in Redis
    data = Path(app.config["DATA_DIR"])
    assert not (data / "jobs" / "queue.db").exists()  # no SQLite queue
    environment = {
        **os.environ,
        "ANNOTATOR_DATA_DIR": str(data),
        "ANNOTATOR_JOBS_URL": redis_server.url,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-c", "from annotator.cli import main; main()", "worker"],
            env=environment,
            stderr=stderr,
        )
    try:
        ended = {
            kind: wait_for_job(
                room.client, room.as_("editor" if kind == "story" else "analyst"), job
            )
            for kind, job in jobs.items()
        }
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    assert {kind: job["status"] for kind, job in ended.items()} == dict.fromkeys(jobs, "done"), (
        ended
    )
    assert all(job["started_at"] for job in ended.values())
    image = ended["ingest"]["result"]["images"][0]
    assert room.call("GET", image["href"], "analyst").status_code == 200
    assert ended["import"]["result"]["created"] == 2
    exported = room.call("GET", ended["export"]["result"]["download"], "analyst")
    assert exported.status_code == 200 and len(json.loads(exported.data)["features"]) >= 2
    exported.close()
    bundle = room.call("GET", ended["story"]["result"]["download"], "editor")
    assert bundle.status_code == 200
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    bundle.close()
    assert queue(app).pending() == 0
    said = log.read_bytes()
    assert redis_server.url.encode() in said and b"Traceback" not in said, said[-2000:]
