"""The demo's press picture in a real Chromium (issue 14 item 5): from the seed report's claim
about the two AN-124s, the analyst follows a link to an An-124 on the placed press picture;
its workspace says how the picture was placed (6 control points, its RMSE), the measure
panel gives about 73 x 69 m with "± RMSE" and ranks the An-124 first. The console stays
clean. Screenshot: docs/screenshots/demo-press-picture.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from annotator.demo.loader import SEED_TITLE
from annotator.demo.press import PRESS_NAME
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure
from tests.browser.test_workspace import Demo, served_demo

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    yield from served_demo(tmp_path_factory, demo_template, "demo-press")


@pytest.mark.browser
def test_from_the_claim_to_the_measured_press_picture(demo: Demo, browser: Any) -> None:
    images = demo.api("GET", "/api/v1/images?limit=100", "viewer").get_json()["images"]
    [press] = [image for image in images if image["original_filename"] == PRESS_NAME]
    placed = demo.api("GET", f"/api/v1/images/{press['id']}/georeference", "viewer").get_json()
    rmse = placed["placement"]["rmse_m"]
    reports = demo.api("GET", "/api/v1/reports", "viewer").get_json()["reports"]
    report_id = next(r["id"] for r in reports if r["title"] == SEED_TITLE)
    report = demo.api("GET", f"/api/v1/reports/{report_id}", "viewer").get_json()
    claim = report["claims"][0]["id"]
    on_press = demo.api("GET", f"/api/v1/annotations?image={press['id']}", "viewer").get_json()
    chosen = on_press["features"][0]["id"]

    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error {e}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )

    def dialog(shown: Any) -> None:
        problems.append(f"dialog {shown.message}")
        shown.dismiss()

    page.on("dialog", dialog)
    page.on("request", lambda r: None if r.url.startswith(demo.url) else demo.outside.append(r.url))
    with screenshot_on_failure(page, "demo-press-picture"):
        open_signed_in(page, demo.url, f"/reports/{report_id}", "analyst")
        links = page.locator(f"#claim-{claim} li.link")
        expect(links).to_have_count(4)  # the capture's two An-124s and the press picture's two
        link = page.locator(f"#claim-{claim} li.link[data-annotation='{chosen}'] a").first
        expect(link).to_contain_text("2024-12-13")
        link.click()
        page.wait_for_url(f"**/images/{press['id']}?annotation={chosen}")
        page.wait_for_selector(f"body[data-opened='{chosen}']", state="attached", timeout=20000)
        expect(page.locator(".georeferencing")).to_contain_text(
            f"placed by 6 control points (affine), RMSE {rmse} m"
        )
        panel = page.locator("#measure-panel[data-measure='current']")
        panel.wait_for(state="attached", timeout=20000)
        shown = page.locator("#measure-values").inner_text()
        plus_minus = f"± {round(rmse, 2):g} m"
        sides = re.search(r"(\d+\.\d) \u00d7 (\d+\.\d) m" + re.escape(f" {plus_minus}"), shown)
        assert sides, shown
        assert sorted(map(float, sides.groups())) == pytest.approx([68.96, 73.3], abs=1.0)
        first = page.locator("#size-candidates li .name").first
        expect(first).to_contain_text("An-124")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "demo-press-picture.png"))
    page.close()
    assert problems == [], problems
