"""The Jobs page links what every kind of job made (issue 12), in Chromium: an ingest its
image; an import its counts, the image with how many annotations it got, and the image's
site; an export the download of its file while it is kept (then "removed", and the download
410); a failed job its error in one line. Names are hostile and shown as text. The console
stays clean. Screenshot: docs/screenshots/jobs-results.png."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import box, mapping, shape

from annotations.catalogue.sites import add_site
from annotations.jobs.queue import JobQueue
from annotator import services
from annotator.jobs.setup import queue
from tests.annotations.test_imports import add_image
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import ROOT, _app_with_users, make_app, token_for, write_geotiff
from tests.jobs import consuming, wait_for_job

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshots" / "jobs-results.png"
HOSTILE = "<img src=x onerror=alert(1)>"


def footprint(app: Flask, image_id: str, headers: dict[str, str]) -> Any:
    found = app.test_client().get(f"/api/v1/images/{image_id}", headers=headers).get_json()
    return shape(found["footprint"])


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Flask, str, str]]:
    for app in _app_with_users(make_app(tmp_path_factory.mktemp("jobs-results"))):
        image = add_image(app, shared_data / "sample_geotiff.tif")
        area = footprint(app, image, analyst(app)).buffer(0.001)
        with services.database(app).write() as session:
            add_site(session, f"{HOSTILE} yard", area, slug="yard")
        with serving(app) as url:
            yield app, url, image
        services.database(app).dispose()


def analyst(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, 'analyst')}"}


def two_trucks(app: Flask, image_id: str) -> bytes:
    middle = footprint(app, image_id, analyst(app)).centroid
    d = 0.00005
    features = [
        {
            "type": "Feature",
            "id": f"truck-{n}",
            "properties": {"label": "vehicle.truck"},
            "geometry": mapping(
                box(middle.x + n * 3 * d, middle.y, middle.x + n * 3 * d + d, middle.y + d)
            ),
        }
        for n in range(2)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def started(response: Any) -> str:
    assert response.status_code == 202, response.get_json()
    job_id: str = response.get_json()["id"]
    return job_id


def post(client: Any, what: str, raw: bytes, name: str) -> Any:
    """POST /api/v1/<what>?async=1 with one file, as the analyst."""
    data = {"file": (io.BytesIO(raw), name)}
    return client.post(f"/api/v1/{what}?async=1", headers=client.headers, data=data)


def kept_for(app: Flask, hours: float) -> JobQueue:
    """The app's queue, its export files kept `hours` (negative: over at once)."""
    jobs = queue(app)
    settings = {**jobs.runtime.settings, "EXPORT_KEEP_HOURS": hours}
    return JobQueue(replace(jobs.runtime, settings=settings), jobs.url)


def test_the_jobs_page_links_what_each_kind_of_job_made(
    site: tuple[Flask, str, str], browser: Any, tmp_path: Path
) -> None:
    app, url, image = site
    client, headers = app.test_client(), analyst(app)
    client.headers = headers
    # an export whose keeping time is already over, run first (it removes older files)
    expired = started(client.get("/api/v1/exports?format=geojson&async=1", headers=headers))
    with consuming(kept_for(app, -1)):
        assert wait_for_job(client, headers, expired)["status"] == "done"
    scene = write_geotiff(tmp_path / "scene.tif").read_bytes()
    ingest = started(post(client, "images", scene, f"{HOSTILE}.tif"))
    imported = started(post(client, "imports", two_trucks(app, image), "trucks.geojson"))
    failed = started(post(client, "imports", b"<html>no</html>", "notes.geojson"))
    with consuming(app):
        ended = {job: wait_for_job(client, headers, job) for job in (ingest, imported, failed)}
        export = started(client.get("/api/v1/exports?format=geojson&async=1", headers=headers))
        ended[export] = wait_for_job(client, headers, export)
    statuses = [ended[j]["status"] for j in (ingest, imported, failed, export)]
    assert statuses == ["done", "done", "failed", "done"]
    result = ended[imported]["result"]
    links = {"href": f"/api/v1/images/{image}", "page": f"/images/{image}"}
    assert result["images"] == [{"id": image, "name": "sample_geotiff.tif", "count": 2} | links]
    assert result["sites"] == [{"slug": "yard", "name": f"{HOSTILE} yard", "page": "/sites/yard"}]
    assert client.get(f"/api/v1/jobs/{expired}/download", headers=headers).status_code == 410

    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "jobs-results"):
        open_signed_in(page, url, "/jobs", "analyst")
        page.wait_for_selector("#jobs[data-loaded]", state="attached")
        row = lambda job: page.locator(f"#jobs-list tr[data-id='{job}'] td.job-result")  # noqa: E731
        made = row(ingest).locator("a")
        assert made.inner_text() == f"{HOSTILE}.tif"  # text, never markup
        assert made.get_attribute("href") == ended[ingest]["result"]["images"][0]["page"]
        assert row(imported).locator(".job-counts").inner_text().startswith("2 made, 0 already")
        assert row(imported).locator("a.job-image").get_attribute("href") == f"/images/{image}"
        assert "sample_geotiff.tif (2)" in row(imported).inner_text()
        assert row(imported).locator("a.job-site").inner_text() == f"{HOSTILE} yard"
        assert row(imported).locator("img").count() == 0
        error = row(failed).locator(".job-error").inner_text()
        assert "notes.geojson" in error and "\n" not in error
        assert "removed" in row(expired).locator(".job-removed").inner_text()
        assert row(expired).locator("a").count() == 0
        download = row(export).locator("a.job-download")
        assert download.inner_text() == f"Download {ended[export]['result']['name']}"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        with page.expect_download() as got:
            download.click()
        saved = tmp_path / "export.geojson"
        got.value.save_as(saved)
        assert len(json.loads(saved.read_text())["features"]) == 2
    assert problems == [], problems
    page.close()
