"""An import stopped part-way keeps nothing (issue 12 item 1): import_file's progress hook is
told after each batch, planned then written, and a stop it asks for raises `Cancelled`,
rolling the write transaction back. As a job: DELETE /api/v1/jobs/<id> on a running import
stops it between two write batches, on SQLite and on PostGIS."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask

from annotations.exchange.imports import Cancelled, ImportOptions, ImportRequest, import_file
from annotator import services
from tests.annotations.test_imports import ANALYST, INSIDE, add_image, count, feature, square
from tests.conftest import token_for
from tests.job_gate import gated_queue
from tests.jobs import consuming, wait_for_job

FEATURES = 7


def seven(row: int = 0) -> bytes:
    lon, lat = INSIDE
    features = [feature(square(lon + n * 0.0003, lat + row * 0.0003)) for n in range(FEATURES)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def request(
    app: Flask, steps: list[tuple[float, str, bool]], stop_at: float | None
) -> ImportRequest:
    def hook(fraction: float, message: str, writing: bool) -> bool:
        steps.append((fraction, message, writing))
        return stop_at is not None and fraction >= stop_at

    return ImportRequest(
        name="seven.geojson",
        options=ImportOptions(),
        dry_run=False,
        actor=ANALYST,
        tmp_dir=Path(app.config["TMP_DIR"]),
        max_bytes=1 << 20,
        progress=hook,
        batch=2,
    )


def run(app: Flask, req: ImportRequest) -> dict[str, object]:
    database, taxonomy = services.database(app), services.taxonomy(app)
    return import_file(database, taxonomy, io.BytesIO(seven()), req)


def test_an_import_stopped_between_batches_keeps_nothing_and_a_job_is_cancelled_part_way(
    app_on_each_backend: Flask, shared_data: Path
) -> None:
    app = app_on_each_backend
    add_image(app, shared_data / "sample_geotiff.tif")
    # stopped while writing (after the first write batch): the transaction rolls back
    steps: list[tuple[float, str, bool]] = []
    with pytest.raises(Cancelled, match=r"seven\.geojson"):
        run(app, request(app, steps, stop_at=0.51))
    assert count(app) == 0
    assert [s for s in steps if s[2]] == [(steps[-1][0], "wrote 2 of 7", True)]
    # stopped while planning: nothing was written
    steps = []
    with pytest.raises(Cancelled):
        run(app, request(app, steps, stop_at=0.2))
    assert count(app) == 0 and not any(s[2] for s in steps)
    # not stopped: every batch is reported, in order, up to 1
    steps = []
    report = run(app, request(app, steps, stop_at=None))
    assert report["created"] == FEATURES and count(app) == FEATURES
    fractions = [s[0] for s in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    planned = [s[1] for s in steps if s[1].startswith("checked")]
    assert planned == [
        "checked 2 of 7 features",
        "checked 4 of 7 features",
        "checked 6 of 7 features",
    ]
    assert [s[1] for s in steps if s[2]] == [
        "wrote 2 of 7",
        "wrote 4 of 7",
        "wrote 6 of 7",
        "wrote 7 of 7",
    ]

    # as a job: DELETE while it runs; it stops between two write batches and keeps nothing
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    data = {"file": (io.BytesIO(seven(row=1)), "more.geojson")}
    queued = client.post("/api/v1/imports?async=1", data=data, headers=headers)
    assert queued.status_code == 202, queued.get_json()
    job_id = queued.get_json()["id"]
    jobs, gate = gated_queue(app, "import", writing=True, settings={"IMPORT_BATCH": 2})
    with consuming(jobs):
        assert gate.reached.wait(120), "the job never reached its first write batch"
        running = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
        assert running["status"] == "running" and running["progress"] >= 0.5, running
        asked = client.delete(f"/api/v1/jobs/{job_id}", headers=headers)
        # 202 while it stops; 200 once it has (on SQLite the job held the write lock the
        # cancel's own write waits for: it stops at the stop file, then the cancel is written)
        answered = (asked.status_code, asked.get_json()["status"])
        assert answered in ((202, "running"), (200, "cancelled")), asked.get_json()
        ended = wait_for_job(client, headers, job_id)
    assert ended["status"] == "cancelled" and ended["result"] is None, ended
    assert "nothing was imported" in ended["message"]
    assert count(app) == FEATURES  # the job's first batch was rolled back
    work = Path(app.config["DATA_DIR"]) / "jobs" / "work"
    assert not work.exists() or not any(work.iterdir())
