"""The Jobs page in Chromium: an analyst starts ingest jobs from the page's form, cancels one
before any worker takes it, and watches the other's progress bar reach done with a link to
the new image; a refused file's job shows its reason. Console clean throughout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure
from tests.conftest import ROOT, token_for, write_geotiff
from tests.jobs import consuming

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOT = ROOT / "docs" / "screenshots" / "jobs.png"
HOSTILE = "<img src=x onerror=alert(1)>.tif"


def scene(folder: Path, name: str, seed: int) -> Path:
    data = np.random.default_rng(seed).integers(1, 255, (3, 300, 400), dtype=np.uint8)
    return write_geotiff(folder / name, data)


def job_row(page: Any, index: int) -> Any:
    """The index-th row from the bottom (the oldest job is last: newest first)."""
    return page.locator("#jobs-list tr.job").nth(-1 - index)


def test_start_cancel_and_watch_jobs(
    app: Flask, live_server: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400
            else None)  # fmt: skip
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(live_server) else problems.append(r.url))
    with screenshot_on_failure(page, "jobs-page"):
        open_signed_in(page, live_server, "/", "analyst")
        page.click("#nav-jobs")
        page.wait_for_url(f"{live_server}/jobs")
        page.wait_for_selector("#jobs[data-loaded]", state="attached")
        expect(page.locator("#jobs-empty")).to_be_visible()

        # no worker yet: the first job waits in the queue, and is cancelled from the page
        page.set_input_files("#ingest-files", str(scene(tmp_path, "cancel-me.tif", 1)))
        page.click("#ingest-form button[type=submit]")
        first = job_row(page, 0)
        expect(first).to_have_attribute("data-status", "queued")
        first.locator("button.job-cancel").click()
        expect(first).to_have_attribute("data-status", "cancelled")
        expect(page.locator("#jobs-message")).to_have_text("Cancelled.")

        with consuming(app):
            # a worker runs: the next upload's bar, under the form, follows its job to done
            page.set_input_files("#ingest-files", [
                {"name": HOSTILE, "mimeType": "image/tiff",
                 "buffer": scene(tmp_path, "scene.tif", 2).read_bytes()},
            ])  # fmt: skip
            page.click("#ingest-form button[type=submit]")
            bar = page.locator("#ingest-progress .job-progress")
            expect(bar).to_have_attribute("data-status", "done", timeout=60000)
            assert page.eval_on_selector("#ingest-progress progress", "el => el.value") == 1
            expect(bar.locator(".job-progress-label")).to_have_text("100% · done")
            second = job_row(page, 1)
            expect(second).to_have_attribute("data-status", "done", timeout=30000)
            link = second.locator("td.job-result a")
            expect(link).to_have_text(HOSTILE)  # a file name is text, never markup

            page.set_input_files("#ingest-files", [
                {"name": "broken.tif", "mimeType": "image/tiff", "buffer": b"II*\x00 truncated"},
            ])  # fmt: skip
            page.click("#ingest-form button[type=submit]")
            third = job_row(page, 2)
            expect(third).to_have_attribute("data-status", "failed", timeout=60000)
            expect(third.locator(".job-progress-label")).to_contain_text("broken.tif")

        assert first.locator("button.job-cancel").count() == 0
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        link.click()
        page.wait_for_url(f"{live_server}/images/*")
    assert problems == [], problems
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    statuses = [j["status"] for j in client.get("/api/v1/jobs", headers=headers).get_json()["jobs"]]
    assert statuses == ["failed", "done", "cancelled"]
    page.close()
