"""The import page's "Import in the background" in Chromium: an analyst checks a GeoJSON file,
then imports the held file as an import job; the page shows the job's progress bar (queued
while no worker runs), then the report; a file that is no GIS file ends the job failed and
the page says why. The console stays clean. Screenshot: docs/screenshots/import-job.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import box, mapping, shape

from annotator import services
from tests.annotations.test_imports import add_image, count
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import _app_with_users, make_app, token_for
from tests.job_gate import gated_queue
from tests.jobs import consuming

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Flask, str, str]]:
    for app in _app_with_users(make_app(tmp_path_factory.mktemp("import-job-page"))):
        image = add_image(app, shared_data / "sample_geotiff.tif")
        with serving(app) as url:
            yield app, url, image
        services.database(app).dispose()


def labels(app: Flask, image_id: str) -> bytes:
    """Two trucks inside the image, one with a hostile id, as a GeoJSON file."""
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    image = app.test_client().get(f"/api/v1/images/{image_id}", headers=headers).get_json()
    middle = shape(image["footprint"]).centroid
    d = 0.00005
    features = [
        {
            "type": "Feature",
            "id": name,
            "properties": {"label": "vehicle.truck"},
            "geometry": mapping(
                box(middle.x + n * 3 * d, middle.y, middle.x + n * 3 * d + d, middle.y + d)
            ),
        }
        for n, name in enumerate(["truck-1", HOSTILE])
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_import_in_the_background_shows_the_jobs_bar_then_the_report(
    site: tuple[Flask, str, str], browser: Any
) -> None:
    app, url, image = site
    upload = {
        "name": f"{HOSTILE}.geojson",
        "mimeType": "application/geo+json",
        "buffer": labels(app, image),
    }
    before = count(app)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "import-job"):
        open_signed_in(page, url, "/import", "analyst")
        page.set_input_files("input[name=file]", upload)
        page.select_option("select[name=image]", image)
        page.click("button[value=check]")
        page.wait_for_selector(".import-result h2:has-text('Checked: 2 would be made')")
        page.click("button[value=background]")  # the held file, no second choice
        page.wait_for_selector("#import-job .job-progress[data-status='queued']")
        assert count(app) == before  # no worker yet
        with consuming(app):
            done = page.wait_for_selector(".import-job-end h2", timeout=60000)
        assert done.inner_text() == "Imported: 2 made"
        assert page.inner_text("#import-job .job-progress-label") == "100% · done"
        assert page.inner_text(".import-job-end td.made") == "2"
        assert HOSTILE in page.inner_text(".import-job-end")  # shown as text, never as HTML
        assert page.locator(".import-job-end img").count() == 0
        assert count(app) == before + 2
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".import-job-end").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "import-job.png"))
        # a file that is no GIS file: the job fails, and the page says why
        bad = {
            "name": "notes.geojson",
            "mimeType": "application/geo+json",
            "buffer": b"<html>not a GIS file</html>",
        }
        page.set_input_files("input[name=file]", bad)
        page.click("button[value=background]")
        page.wait_for_selector("#import-job .job-progress[data-status='queued']")
        with consuming(app):
            failed = page.wait_for_selector("#import-job[role=alert] .message", timeout=60000)
        assert "notes.geojson" in failed.inner_text()
        assert count(app) == before + 2
    assert problems == [], problems
    page.close()


def test_a_running_import_shows_its_progress_and_cancel_stops_it(
    site: tuple[Flask, str, str], browser: Any
) -> None:
    """The bar moves past 0 while the import runs (batches of 2 features here), and Cancel
    stops it between two batches: the page says so and nothing was imported."""
    app, url, image = site
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    found = app.test_client().get(f"/api/v1/images/{image}", headers=headers).get_json()
    middle = shape(found["footprint"]).centroid
    d = 0.00005
    features = [
        {
            "type": "Feature",
            "id": f"cancel-{n}",
            "properties": {"label": "vehicle.truck"},
            "geometry": mapping(
                box(
                    middle.x + n * 3 * d,
                    middle.y - 9 * d,
                    middle.x + n * 3 * d + d,
                    middle.y - 8 * d,
                )
            ),
        }
        for n in range(6)
    ]
    upload = {
        "name": "six.geojson",
        "mimeType": "application/geo+json",
        "buffer": json.dumps({"type": "FeatureCollection", "features": features}).encode(),
    }
    before = count(app)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    jobs, gate = gated_queue(app, "import", writing=False, settings={"IMPORT_BATCH": 2})
    with screenshot_on_failure(page, "import-job-cancel"):
        open_signed_in(page, url, "/import", "analyst")
        page.set_input_files("input[name=file]", upload)
        page.select_option("select[name=image]", image)
        page.click("button[value=background]")
        page.wait_for_selector("#import-job .job-progress[data-status='queued']")
        with consuming(jobs):
            assert gate.reached.wait(120), "the import never reached its second batch"
            page.wait_for_selector("#import-job .job-progress[data-status='running']")
            shown = page.eval_on_selector("#import-job progress", "bar => bar.value")
            assert 0 < shown < 0.5, shown  # it moved: a batch of the plan is done
            assert "checked 2 of 6 features" in page.inner_text("#import-job .job-progress-label")
            page.screenshot(path=str(SCREENSHOTS / "import-job-cancel.png"))
            page.click("#import-job .import-job-cancel")
            ended = page.wait_for_selector(
                "#import-job[role=alert] .import-job-end h2", timeout=60000
            )
            assert ended.inner_text() == "Cancelled"
        assert "nothing was imported" in page.inner_text("#import-job .message")
        assert page.locator("#import-job .import-job-cancel").is_hidden()
        assert count(app) == before
    assert problems == [], problems
    page.close()
