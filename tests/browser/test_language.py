"""The language switcher in Chromium (issue 16): signed out, the top bar's "العربية" turns
the sign-in page to Arabic, right to left; signed in, the home and site pages follow, mirrored
(the brand on the right), the Copy button's script speaks Arabic through i18n.js, and
the workspace mirrors its panels but not its map, the review queue and a report read in
Arabic, and "English" turns it all back. Screenshots at 1366 x 768 in docs/screenshots/ar/:
home.png, site.png, workspace.png, review.png and report.png. The console stays clean and no
request fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import PASSWORD, _csrf_from, login, write_geotiff

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "ar"
WIDTH = 1366


def hmeimim(app: Flask, folder: Path) -> int:
    """A site named in Arabic with two small captures of a provider named in Arabic, and a
    report in Arabic with a claim; returns the report's id."""
    client = app.test_client()
    login(client, "admin")
    token = _csrf_from(client.get("/").get_data(as_text=True))
    made = client.post(
        "/api/v1/sites",
        json={"name": "قاعدة حميميم الجوية", "slug": "hmeimim", "lon": 35.94, "lat": 35.41},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.get_json()
    for seed in (3, 4):
        data = np.random.default_rng(seed).integers(1, 255, (3, 64, 64), dtype=np.uint8)
        tiff = write_geotiff(folder / f"capture-{seed}.tif", data)
        import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(tiff, f"capture-{seed}.tif")],
            Provenance(provider="مزوّد الصور"),
            sites=("hmeimim",),
            max_pixels=10**9,
        )
    report = client.post(
        "/api/v1/reports",
        json={"title": "طائرة An-124 في القاعدة", "text": "هبطت طائرة نقل ثقيلة صباحًا."},
        headers={"X-CSRF-Token": token},
    )
    assert report.status_code == 201, report.get_json()
    claim = client.post(
        f"/api/v1/reports/{report.get_json()['id']}/claims",
        json={"exact": "هبطت طائرة نقل ثقيلة"},
        headers={"X-CSRF-Token": token},
    )
    assert claim.status_code == 201, claim.get_json()
    return int(report.get_json()["id"])


def brand_x(page: Any) -> float:
    box = page.locator(".topbar .brand").bounding_box()
    assert box is not None
    return float(box["x"])


def test_the_switcher_turns_the_pages_to_arabic_and_back(
    app: Flask, live_server: str, browser: Any, tmp_path: Path
) -> None:
    report = hmeimim(app, tmp_path)
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 768},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    problems = watch_console(page)
    with screenshot_on_failure(page, "language"):
        page.goto(f"{live_server}/login")
        assert page.locator("html").get_attribute("lang") == "en"
        assert brand_x(page) < WIDTH / 2
        page.click(".language-switch button[value=ar]")
        page.wait_for_selector("html[lang=ar][dir=rtl]")
        page.wait_for_load_state("load")  # its scripts loaded, none cut short by the sign-in
        assert page.url == f"{live_server}/login"
        assert page.locator("h1").inner_text() == "تسجيل الدخول"
        page.fill("input[name=name]", "analyst")
        page.fill("input[name=password]", PASSWORD)
        page.click("form:has(input[name=password]) button[type=submit]")
        page.wait_for_url(f"{live_server}/")

        # home, mirrored: the brand on the right, the switcher (and the rest) on the left
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("h1").inner_text() == "المواقع"
        assert brand_x(page) > WIDTH / 2
        switcher = page.locator(".language-switch button").bounding_box()
        assert switcher is not None and switcher["x"] < WIDTH / 2
        assert page.locator("#site-hmeimim h2 small").inner_text() == "لقطتان"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "home.png"))

        # the site page: its list mirrored, its script's words in Arabic
        page.click("#site-hmeimim h2 a")
        page.wait_for_url(f"{live_server}/sites/hmeimim")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("p.crumbs a").inner_text() == "المواقع"
        crumbs = page.locator("p.crumbs").bounding_box()
        link = page.locator("p.crumbs a").bounding_box()
        assert crumbs is not None and link is not None
        assert link["x"] + link["width"] > crumbs["x"] + crumbs["width"] - 5  # starts right
        capture = page.locator("li.capture").first
        image = capture.locator("img").bounding_box()
        meta = capture.locator(".meta").bounding_box()
        assert image is not None and meta is not None and image["x"] > meta["x"]
        assert page.locator(".ogcapi-url").get_attribute("dir") == "ltr"
        page.locator(".copy-url").click()
        page.wait_for_function("() => document.querySelector('.ogcapi-link .copied').textContent")
        assert page.locator(".ogcapi-link .copied").inner_text() == "نُسخ"
        page.screenshot(path=str(SCREENSHOTS / "site.png"))

        # the workspace: its panels mirrored (the list on the right), the map not
        page.click("li.capture .date >> nth=0")
        page.wait_for_selector("#map.leaflet-container")
        assert page.locator("#map").get_attribute("dir") == "ltr"
        listed = page.locator(".ws-list").bounding_box()
        panel = page.locator(".ws-panel").bounding_box()
        assert listed is not None and panel is not None and listed["x"] > panel["x"]
        zoom = page.locator("#map .leaflet-control-zoom").bounding_box()
        mapped = page.locator("#map").bounding_box()
        assert zoom is not None and mapped is not None
        assert zoom["x"] < mapped["x"] + mapped["width"] / 2  # Leaflet's corner, unmirrored
        assert page.locator(".ws-list h2").inner_text().startswith("التعليقات التوضيحية")
        # the classic scripts speak Arabic too (Annotator.t, the page's JSON block)
        assert page.locator("#show-state").inner_text() == "الكل"
        page.click("button[data-tool=point]")
        assert page.locator("#mode").inner_text().startswith("رسم نقطة. Esc يلغي.")
        page.keyboard.press("Escape")
        page.screenshot(path=str(SCREENSHOTS / "workspace.png"))

        # the review queue and the report, in Arabic
        page.goto(f"{live_server}/review")
        assert page.locator("h1").inner_text().startswith("قائمة المراجعة")
        page.screenshot(path=str(SCREENSHOTS / "review.png"))
        page.goto(f"{live_server}/reports/{report}")
        assert page.locator(".evidence-column h2").first.inner_text() == "الادّعاءات والأدلة"
        text = page.locator(".text-column").bounding_box()
        evidence = page.locator(".evidence-column").bounding_box()
        assert text is not None and evidence is not None and text["x"] > evidence["x"]
        page.screenshot(path=str(SCREENSHOTS / "report.png"))
        page.goto(f"{live_server}/sites/hmeimim")

        # English again, kept for the user: the brand back on the left
        page.click(".language-switch button[value=en]")
        page.wait_for_selector("html[lang=en][dir=ltr]")
        page.wait_for_load_state("load")
        assert page.url == f"{live_server}/sites/hmeimim"
        assert page.locator("p.crumbs a").inner_text() == "Sites"
        assert brand_x(page) < WIDTH / 2
    context.close()
    assert problems == [], problems
