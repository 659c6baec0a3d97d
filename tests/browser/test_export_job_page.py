"""Exporting in the background in Chromium: on a site page an analyst presses "In the
background" beside Export; the export job's progress bar shows it queued (no worker yet),
then done, with a download link to the file, which holds the site's annotations. The
console stays clean. Screenshot: docs/screenshots/export-job.png."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import _app_with_users, make_app, token_for
from tests.jobs import consuming

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Flask, str, str]]:
    for app in _app_with_users(make_app(tmp_path_factory.mktemp("export-job-page"))):
        analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        client = app.test_client()
        image = shared_data / "sample_geotiff.tif"
        made = import_images(
            services.database(app),
            Path(app.config["IMAGES_DIR"]),
            [Upload(image, image.name)],
            Provenance(),
            max_pixels=10**9,
        )
        body = {"name": "Atlanta yard", "area": made[0].image.to_dict()["footprint"]}
        created = client.post("/api/v1/sites", json=body, headers=analyst)
        assert created.status_code == 201, created.get_json()
        slug = created.get_json()["slug"]
        raw = (shared_data / "geotiff_labels.geojson").read_bytes()
        data = {
            "file": (io.BytesIO(raw), "labels.geojson"),
            "label_field": "building",
            "label_map": '{"yes": "structure"}',
        }
        imported = client.post(
            "/api/v1/imports", data=data, headers=analyst, content_type="multipart/form-data"
        )
        assert imported.status_code == 201, imported.get_json()
        with serving(app) as url:
            yield app, url, slug
        services.database(app).dispose()


def test_export_in_the_background_gives_a_download(
    site: tuple[Flask, str, str], browser: Any
) -> None:
    app, url, slug = site
    page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    problems = watch_console(page)
    with screenshot_on_failure(page, "export-job"):
        open_signed_in(page, url, f"/sites/{slug}", "analyst")
        form = page.locator("form.export").first
        form.locator("select[name=format]").select_option("geojson")
        form.locator("button.export-async").click()
        form.locator(".job-progress[data-status='queued']").wait_for()
        with consuming(app):
            link = form.locator("a.export-download")
            link.wait_for(timeout=60000)
        assert "(43 annotations)" in link.inner_text()
        assert form.locator(".job-progress-label").inner_text() == "100% · done"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "export-job.png"))
        with page.expect_download() as fetched:
            link.click()
        saved = fetched.value.path()
        assert len(json.loads(Path(saved).read_text())["features"]) == 43
    assert problems == [], problems
    page.close()
