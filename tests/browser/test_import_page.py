"""The import page in a real browser, on the demo: from the site page, check a GeoJSON file
(one feature outside every image is listed with its reason), then import it without choosing
it again (the server holds the checked file)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import box, mapping, shape

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.conftest import token_for

VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    return demo_app


def api(app: Flask, path: str) -> Any:
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    return app.test_client().get(path, headers=headers).get_json()


def trucks_file(app: Flask, image: dict[str, Any]) -> bytes:
    """Two trucks inside the capture, and one far away, as a GeoJSON upload."""
    middle = shape(image["footprint"]).centroid
    d = 0.00005

    def truck(number: int, lon: float, lat: float) -> dict[str, Any]:
        return {"type": "Feature", "id": f"truck-{number}",
                "properties": {"label": "vehicle.truck"},
                "geometry": mapping(box(lon, lat, lon + d, lat + d))}  # fmt: skip

    features = [truck(1, middle.x, middle.y), truck(2, middle.x + 3 * d, middle.y),
                truck(3, middle.x + 20, middle.y)]  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def count(app: Flask) -> int:
    return len(api(app, "/api/v1/annotations?limit=10000")["features"])


def test_check_then_import_from_the_site_page(app: Flask, live_server: str, browser: Any) -> None:
    # the demo's two captures cover the same ground: the analyst picks the later one
    image = max(api(app, "/api/v1/images")["images"], key=lambda i: i["captured_at"])
    upload = {"name": "trucks.geojson", "mimeType": "application/geo+json",
              "buffer": trucks_file(app, image)}  # fmt: skip
    before = count(app)
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "import-page"):
        open_signed_in(page, live_server, "/sites/hmeimim", "analyst")
        page.click("a.import-link")
        page.wait_for_url(f"{live_server}/import?site=hmeimim")
        page.set_input_files("input[name=file]", upload)
        page.select_option("select[name=image]", image["id"])
        page.click("button[value=check]")
        page.wait_for_selector(".import-result h2:has-text('Checked: 2 would be made')")
        assert page.inner_text("td.outside") == "1"
        refused = page.locator("table.refused tbody tr")
        assert refused.count() == 1 and "truck-3" in refused.inner_text()
        assert count(app) == before

        # the checked file is held on the server: Import needs no second choice of it
        assert "Checked file: trucks.geojson" in page.inner_text(".held-file")
        assert page.eval_on_selector("input[name=file]", "e => e.files.length") == 0
        assert page.input_value("select[name=image]") == image["id"]  # kept from the check
        page.click("button[value=import]")
        page.wait_for_selector(".import-result h2:has-text('Imported: 2 made')")
        assert page.locator(".held-file").count() == 0  # imported: nothing held any more
        assert count(app) == before + 2
        made = api(app, f"/api/v1/annotations?image={image['id']}&limit=10000")["features"]
        assert sum(f["properties"]["label"] == "vehicle.truck"
                   and f["properties"]["status"] == "draft" for f in made) >= 2  # fmt: skip
        page.set_input_files("input[name=file]", upload)
        page.click("button[value=import]")
        page.wait_for_selector(".import-result h2:has-text('Imported: 0 made')")
        assert page.input_value("select[name=image]") == image["id"]
        assert page.inner_text("td.already") == "2"
        assert count(app) == before + 2
    assert outside == []
    page.close()
