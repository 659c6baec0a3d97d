"""The site filter by area in a real Chromium: a wide capture attached to two sites shows, on
each site's page, only the annotations lying in that site's area: in the capture's counts, in
the activity feed and in the page's GeoJSON export. The console stays clean (no errors or
warnings, no 4xx/5xx, no failed request)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests.annotator.test_site_area import build_world
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


def watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # a download ends its navigation as aborted: that is the browser saving it, no failure
    page.on(
        "requestfailed",
        lambda r: (
            None
            if "/api/v1/exports?" in r.url and "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    return problems


def test_each_site_page_shows_only_what_lies_in_its_area(
    app: Flask,
    make_geotiff: Callable[..., Path],
    live_server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    world = build_world(app, make_geotiff)
    ids = world["ids"]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch(page)
    outside = watch_origin(page, live_server)
    own = {"site-a": [ids["inside_a"], ids["straddling_a"]], "site-b": [ids["inside_b"]]}
    with screenshot_on_failure(page, "site-area"):
        open_signed_in(page, live_server, "/sites/site-a", "analyst")
        for slug, expected in own.items():
            if slug != "site-a":
                page.goto(f"{live_server}/sites/{slug}")
            capture = page.locator(f".capture[data-image-id='{world['image']}']")
            expect(capture.locator(".count")).to_have_text(f"{len(expected)} \u00d7 Truck")
            # the site's own creation is listed too; the annotations' entries link to them
            entries = page.locator("#activity-list .activity-entry a[href*='annotation=']")
            expect(entries).to_have_count(len(expected))
            links = entries.evaluate_all("els => els.map(e => e.href)")
            assert sorted(link.rsplit("=", 1)[1] for link in links) == sorted(expected)
            if slug == "site-a":
                page.screenshot(path=str(SCREENSHOTS / "site-area-filter.png"))
            page.select_option("form.export select[name=format]", "geojson")
            with page.expect_download() as event:
                page.click("form.export button[type=submit]")
            target = tmp_path / f"{slug}.geojson"
            event.value.save_as(target)
            features = json.loads(target.read_text())["features"]
            assert sorted(feature["id"] for feature in features) == sorted(expected)
    page.close()
    assert problems == [], problems
    assert outside == [], outside
