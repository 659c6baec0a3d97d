"""The keys page in Debian's Chromium: a viewer opens it from the top bar, makes a read-only
key (shown once), and a fresh browser context with no cookies (a GIS client) loads a tile and
the WMTS capabilities with `?key=`; once the key is revoked on the page, the same tile is 401.
Screenshot: docs/screenshots/keys.png (1366 x 768). The console stays clean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask
from morecantile import tms as tile_matrix_sets

from annotations.catalogue.images import Provenance
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import catalogued

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
MERCATOR = tile_matrix_sets.get("WebMercatorQuad")


def watch(page: Any, origin: str) -> tuple[list[str], list[str], list[str]]:
    problems: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems, failed, watch_origin(page, origin)


@pytest.mark.browser
def test_a_viewer_makes_a_key_a_gis_client_reads_with_it_and_revoking_stops_it(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    image = catalogued(app, make_geotiff(), Provenance(provider="test"))
    centre = shapely.geometry.shape(image.to_dict()["footprint"]).centroid
    tile = MERCATOR.tile(centre.x, centre.y, 16)
    tile_path = f"/tiles/{image.id}/16/{tile.x}/{tile.y}.png"
    page = browser.new_page(viewport=VIEWPORT)
    problems, failed, outside = watch(page, live_server)
    with screenshot_on_failure(page, "keys-page"):
        open_signed_in(page, live_server, "/", "viewer")
        page.click("#nav-keys")
        page.wait_for_url(f"{live_server}/keys")
        assert page.locator("#no-keys").count() == 1
        page.fill("input[name=name]", "QGIS <on the desk>")
        page.click(".key-form button[type=submit]")
        page.wait_for_selector("#new-key")
        key = page.input_value("#new-key-value")
        assert key.startswith("ank_")
        assert "QGIS <on the desk>" in page.inner_text("#keys")
        assert "read tiles" in page.inner_text("#keys") and "never" in page.inner_text("#keys")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "keys.png"))

        # a GIS client: a context of its own, no cookies, the key in the URL
        client = browser.new_context()
        gis = client.new_page()
        read = gis.goto(f"{live_server}{tile_path}?key={key}")
        assert read is not None and read.status == 200
        assert read.headers["content-type"] == "image/png"
        wmts = gis.goto(f"{live_server}/wmts/1.0.0/WMTSCapabilities.xml?key={key}")
        assert wmts is not None and wmts.status == 200
        assert f"{tile_path.split('/16/')[0]}/{{TileMatrix}}" in wmts.text()
        assert client.cookies() == [], "the key needed no session"

        page.goto(f"{live_server}/keys")
        assert page.locator("#new-key").count() == 0, "a key is shown only once"
        assert key not in page.content()
        row = page.locator("#keys tbody tr").filter(has_text="QGIS <on the desk>")
        assert "never" not in row.inner_text(), "its use was noted"
        row.get_by_role("button", name="Revoke QGIS <on the desk>").click()
        page.wait_for_selector("#no-keys")

        # asked again (not from the browser's cache, which keeps tiles a day)
        refused = client.request.get(f"{live_server}{tile_path}?key={key}")
        assert refused.status == 401, "revoked: refused at once"
        assert refused.json()["error"] == "unauthorized"
        client.close()
        assert problems == [], problems
        assert failed == [], failed
        assert outside == [], outside
    page.close()
