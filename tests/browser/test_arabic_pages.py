"""The whole interface in Arabic, in Chromium, after the pages' scripts have run (issue 16):
the home page, the demo site, the workspace (an annotation selected and measured, the ruler
used, a shape being drawn, the shortcuts help open), the review queue, the demo's Arabic
report and its embed leave no English interface word in the text a reader sees, nor in the
title, aria-label, placeholder and alt attributes. Figures kept left to right (dir="ltr",
except the map's own container, whose controls are interface) and user text (dir="auto",
<bdi>, and the demo's own data: label names, notes, people, providers, site names) are not
interface words; the names in test_language's KEPT list are allowed. The console stays clean.
Screenshot: docs/screenshots/ar/embed.png (1366 x 768)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.annotator.test_language import KEPT
from tests.browser.arabic import english_left_on
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.browser.test_workspace import Demo, served_demo, wait_for_annotations

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "ar"
#: names an Arabic page may show besides test_language's: the map library and its language,
#: the error measures, formats (HTML, zip) and the hash (sha256)
ALLOWED = KEPT | {"Leaflet", "JavaScript", "RMSE", "IoU", "HTML", "zip", "sha"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    yield from served_demo(tmp_path_factory, demo_template, "arabic-pages")


def user_text(demo: Demo) -> list[str]:
    """What the demo's people wrote or named (shown as data, in its own language): longest
    first, so that a name inside another is taken out with it."""
    found: set[str] = {"analyst", "editor", "admin", "viewer"}
    for label in demo.api("GET", "/api/v1/labels").get_json()["labels"]:
        found |= {label["name"], label["id"]}
        for name, spec in (label.get("attributes") or {}).items():
            found |= {name, str(spec.get("description") or ""), str(spec.get("unit") or "")}
            found |= {str(value) for value in spec.get("values") or ()}
    features = demo.api("GET", f"/api/v1/annotations?image={demo.image_id}&limit=1000")
    for feature in features.get_json()["features"]:
        found |= {str(v) for v in feature["properties"].values() if isinstance(v, str)}
        found |= {str(v) for v in (feature["properties"].get("attributes") or {}).values()}
    for image in demo.api("GET", "/api/v1/images").get_json()["images"]:
        keys = ("provider", "licence", "attribution", "original_filename", "description")
        found |= {str(image.get(key) or "") for key in keys}
        found |= {str(image.get("sensor") or "")}
    for report in demo.api("GET", "/api/v1/reports", "editor").get_json()["reports"]:
        found |= {report["title"], str(report.get("text") or "")}
        claims = demo.api("GET", f"/api/v1/reports/{report['id']}/claims", "editor")
        found |= {claim["exact"] for claim in claims.get_json()["claims"]}
    for site in demo.api("GET", "/api/v1/sites").get_json()["sites"]:
        found |= {site["name"], site["slug"]}
    return sorted((text for text in found if text.strip()), key=len, reverse=True)


def english_on(page: Any, data: list[str]) -> list[tuple[str, str]]:
    return english_left_on(page, data, ALLOWED)


@pytest.mark.browser
def test_every_page_reads_in_arabic_after_its_scripts(demo: Demo, browser: Any) -> None:
    data = user_text(demo)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems = watch_console(page)
    left: dict[str, list[tuple[str, str]]] = {}
    with screenshot_on_failure(page, "arabic-pages"):
        open_signed_in(page, demo.url, "/", "editor")
        page.click(".language-switch button[value=ar]")
        page.wait_for_selector("html[lang=ar][dir=rtl]")
        # the Arabic page's deferred scripts run (none of them left to be cut short by the
        # next click): its text is read as they leave it
        page.wait_for_load_state("load")
        left["home"] = english_on(page, data)

        page.click("h2 a[href^='/sites/']")
        page.wait_for_selector("li.capture")
        page.wait_for_load_state("load")
        # its activity fetched and written (and no request of it left to be cut short)
        page.wait_for_selector("#activity-list li, #activity-empty:not([hidden])")
        left["site"] = english_on(page, data)

        # the workspace: an annotation selected (its panel and measurements), the ruler used
        page.goto(f"{demo.url}/images/{demo.image_id}")
        wait_for_annotations(page)
        page.locator("#annotation-list button").first.click()
        page.wait_for_selector("#measure-panel[data-measure=current]")
        page.wait_for_selector("#measure-values dd")
        # the sizes' figures stay left to right (an isolate), their unit is Arabic
        sizes = page.locator("#measure-values dd").all_text_contents()
        assert any("\u2066" in size and size.endswith(" م") for size in sizes), sizes
        map_box = page.locator("#map").bounding_box()
        assert map_box is not None
        page.keyboard.press("Escape")
        page.click("#ruler-button")
        for dx in (0.3, 0.5, 0.6):
            page.mouse.click(map_box["x"] + map_box["width"] * dx, map_box["y"] + 300)
        page.wait_for_selector(".ruler-label")
        assert "م" in page.inner_text("#ruler-readout")
        left["workspace, ruler"] = english_on(page, data)
        page.keyboard.press("Escape")
        page.locator("#annotation-list button").first.click()
        page.wait_for_selector("#measure-panel[data-measure=current]")
        left["workspace, selected"] = english_on(page, data)
        page.keyboard.press("Escape")
        page.click("button[data-tool=polygon]")  # Geoman's own tooltip follows the mouse
        page.mouse.move(map_box["x"] + 500, map_box["y"] + 300)
        page.mouse.move(map_box["x"] + 520, map_box["y"] + 310)
        expect(page.locator(".leaflet-tooltip", has_text="انقر")).to_have_count(1)  # Geoman's
        left["workspace, drawing"] = english_on(page, data)
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        page.wait_for_selector("#help-dialog[open]")
        left["workspace, shortcuts"] = english_on(page, data)
        page.keyboard.press("Escape")

        page.goto(f"{demo.url}/review")
        page.wait_for_selector("#review")
        left["review"] = english_on(page, data)

        page.goto(f"{demo.url}/reports")
        page.click("a[href^='/reports/'][dir=auto]:has-text('ترجمة')")
        page.wait_for_selector("#report-text")
        page.wait_for_load_state("load")
        left["report"] = english_on(page, data)
        embed = page.get_attribute("#embed-link", "href")
        assert embed and embed.startswith("/embed/")
    context.close()

    # the embed, as a reader who is not signed in opens it
    reader = browser.new_page(viewport={"width": 1366, "height": 768})
    problems += watch_console(reader)
    with screenshot_on_failure(reader, "arabic-embed"):
        reader.goto(f"{demo.url}{embed}")
        reader.wait_for_selector("path.leaflet-interactive")
        assert reader.locator(".story-panel").get_attribute("dir") == "rtl"
        assert reader.get_attribute(".leaflet-control-zoom-in", "title") == "تكبير"
        assert reader.inner_text(".leaflet-control-scale-line >> nth=0").endswith("م\u2069")
        reader.locator("path.leaflet-interactive").first.click(force=True)
        reader.wait_for_selector(".evidence-popup")
        expect(reader.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
        left["embed"] = english_on(reader, data)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        reader.screenshot(path=str(SCREENSHOTS / "embed.png"))
    reader.close()
    found = {page: sorted(set(words)) for page, words in left.items() if words}
    assert found == {}, "\n".join(f"{page}: {words}" for page, words in found.items())
    assert problems == [], problems
