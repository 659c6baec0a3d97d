"""The OGC API from the browser: the site page's "Add to QGIS" line copies the address,
its link opens the site's features as HTML (hostile notes shown as text), a feature's page,
and the landing, conformance and collections pages. Screenshot: docs/screenshots/ogcapi.png
(1366 x 768). The console stays clean and no request fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from shapely.geometry import mapping

from annotations.measure import box_polygon
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.conftest import write_geotiff
from tests.newsroom import CENTRE, HOSTILE, newsroom

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_add_to_qgis_and_browse_the_features(
    app: Flask, live_server: str, browser: Any, tmp_path: Path
) -> None:
    room = newsroom(
        app, write_geotiff(tmp_path / "scene.tif"), datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    )
    for index, east in enumerate((-60, 0, 60)):
        box = box_polygon(CENTRE[0] + east / 90_000, CENTRE[1], 30, 30, 172)
        feature = {
            "type": "Feature",
            "geometry": json.loads(json.dumps(mapping(box))),
            "properties": {
                "label": "aircraft.transport.an-124",
                "image_id": room.image_id,
                "shape": "rotated-box",
                "confidence": "confirmed",
                "notes": HOSTILE if index == 0 else f"seen {index}",
            },
        }
        assert room.call("POST", "/api/v1/annotations", "analyst", json=feature).status_code == 201
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    problems: list[str] = []
    failed: list[str] = []
    outside = watch_origin(page, live_server)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    with screenshot_on_failure(page, "ogcapi"):
        open_signed_in(page, live_server, "/sites/hmeimim-apron", "viewer")
        line = page.locator(".ogcapi-link")
        assert line.locator(".ogcapi-url").inner_text() == f"{live_server}/ogcapi/"
        assert "site-hmeimim-apron" in line.inner_text()
        line.locator(".copy-url").click()
        page.wait_for_function("() => document.querySelector('.ogcapi-link .copied').textContent")
        assert line.locator(".copied").inner_text() == "copied"
        assert page.evaluate("navigator.clipboard.readText()") == f"{live_server}/ogcapi/"

        line.locator(".ogcapi-browse").click()
        page.wait_for_selector("table.ogcapi-items")
        assert "/ogcapi/collections/site-hmeimim-apron/items" in page.url
        rows = page.locator("table.ogcapi-items tbody tr")
        assert rows.count() == 3
        assert HOSTILE in rows.first.inner_text()  # shown as text, not run
        page.screenshot(path=str(SCREENSHOTS / "ogcapi.png"))
        rows.first.locator("a").click()
        page.wait_for_url("**/items/*")
        assert page.locator("table.ogcapi-items tbody tr").count() == 1

        page.goto(f"{live_server}/ogcapi")  # a browser's Accept chooses HTML
        assert page.locator("h1").inner_text() == "OGC API - Features"
        page.locator("a[rel=conformance]").click()
        page.wait_for_selector("ul.conformance")
        assert page.locator("ul.conformance li").count() == 5
        page.goto(f"{live_server}/ogcapi/collections")
        names = page.locator("table.ogcapi-collections tbody tr td:first-child").all_inner_texts()
        assert names[:2] == ["All annotations", "Hmeimim apron"]
        page.locator("table.ogcapi-collections a", has_text="Hmeimim apron").click()
        page.wait_for_selector("dl.ogcapi-collection")
        assert "32637" in page.locator("dl.ogcapi-collection").inner_text()  # its UTM zone
    assert problems == [] and failed == [] and outside == []
    context.close()
