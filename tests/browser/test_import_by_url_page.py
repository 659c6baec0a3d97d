"""Import by URL in Chromium: an admin names a file on a local HTTP server (started here)
on the home page, the server queues an ingest job that copies and imports it, the page
follows the job's progress bar to its end and links the new image; an analyst has no such
form. The console stays clean.
Screenshot: docs/screenshots/import-by-url.png."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from annotator import services
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import _app_with_users, make_app
from tests.imagery.test_georef import gcp_image
from tests.jobs import consuming
from tests.servers import http_server

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Any]]:
    folder = tmp_path_factory.mktemp("by-url-browser")
    served = folder / "served"
    served.mkdir()
    points = [(c, r) for c in (0, 100, 200) for r in (0, 100, 200)] + [(50, 150)]
    gcp_image(served, "scanned-map.tif", points, noise_m=1.0)

    class Files(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    for app in _app_with_users(make_app(folder)):
        with http_server(Files) as files, serving(app) as url:
            yield url, files, app
        services.database(app).dispose()


def test_an_admin_imports_by_url_and_an_analyst_cannot(
    sites: tuple[str, str, Any], browser: Any
) -> None:
    url, files, app = sites
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "import-by-url"):
        open_signed_in(page, url, "/", "admin")
        page.click("#add-by-url summary")
        page.fill("#by-url", f"{files}/scanned-map.tif")
        page.click("#by-url-start")
        # no worker yet: the job waits, its bar says so
        page.wait_for_selector("#by-url-message .job-progress[data-status='queued']")
        with consuming(app):
            made = page.wait_for_selector("#by-url-made", timeout=60000)
        label = page.locator("#by-url-message .job-progress-label").inner_text()
        assert label == "100% · done"
        assert made.inner_text() == "scanned-map.tif"
        message = page.locator("#by-url-message").inner_text()
        assert "GCP polynomial 2, RMS" in message and "(10 points)" in message
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "import-by-url.png"))
        made.click()
        page.wait_for_selector(".infobar .georeferencing")
        assert "placed by GCP polynomial 2" in page.locator(".infobar .georeferencing").inner_text()
    assert problems == [], problems
    page.close()
    analyst = browser.new_page(viewport={"width": 1366, "height": 768})
    open_signed_in(analyst, url, "/", "analyst")
    assert analyst.locator("#add-by-url").count() == 0
    analyst.close()
