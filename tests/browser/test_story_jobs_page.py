"""The report page's outputs "In the background" in Chromium: an analyst starts the evidence
bundle as a story job; the page's bar waits while no worker runs, then follows the job to
done and links the file, which downloads. The console stays clean. Screenshot:
docs/screenshots/story-jobs.png."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotator import services
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import ROOT, _app_with_users, make_app, write_geotiff
from tests.jobs import consuming
from tests.newsroom import newsroom

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshots" / "story-jobs.png"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str, str]]:
    folder = tmp_path_factory.mktemp("story-jobs-page")
    for app in _app_with_users(make_app(folder)):
        room = newsroom(
            app, write_geotiff(folder / "scene.tif"), datetime(2024, 12, 13, tzinfo=UTC)
        )
        base, _ = room.published()
        with serving(app) as url:
            yield app, url, base.rsplit("/", 1)[1]
        services.database(app).dispose()


def test_a_reports_bundle_made_in_the_background_downloads(
    report: tuple[Flask, str, str], browser: Any, tmp_path: Path
) -> None:
    app, url, report_id = report
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "story-jobs"):
        open_signed_in(page, url, f"/reports/{report_id}", "analyst")
        page.click("#story-jobs button:has-text('Evidence bundle')")
        bar = page.locator("#story-jobs .job-progress")
        bar.wait_for()
        assert bar.get_attribute("data-status") == "queued"  # no worker yet
        with consuming(app):
            link = page.wait_for_selector("#story-jobs a.story-download", timeout=60000)
        assert bar.get_attribute("data-status") == "done"
        assert link.inner_text().startswith("download ") and link.inner_text().endswith(".zip")
        page.locator("#story-jobs").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT))
        with page.expect_download() as got:
            link.click()
        saved = tmp_path / "bundle.zip"
        got.value.save_as(saved)
        assert "manifest.json" in zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert problems == [], problems
    page.close()
