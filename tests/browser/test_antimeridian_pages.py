"""Two captures across the antimeridian on the compare page and on the site form's map, in
Chromium, each in one piece as in the workspace (workspace/antimeridian.js): tiles east and
west of 180 degrees, an annotation stored at -179.9 drawn over the images, and the footprint's
two halves side by side rather than at the two ends of the map. In the workspace, a box
drawn across 180 is saved cut there into a MultiPolygon (RFC 7946 section 3.1.9), a polygon
with a piece on each side. The console stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.affinity import translate
from shapely.geometry import shape
from shapely.ops import unary_union

from annotator import services
from tests.antimeridian import LAT, blocks, store_point_west_of_180, upload, write_scene
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.browser.test_antimeridian_workspace import tile_sides
from tests.browser.test_workspace import draw_box, go_to, page_geometry, pick_label, save
from tests.conftest import _app_with_users, make_app, token_for

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


def _upload(app: Flask, headers: dict[str, str], path: Path, seed: int) -> str:
    tags = {"TIFFTAG_DATETIME": f"2026:0{seed}:01 10:00:00"}
    return str(upload(app, headers, write_scene(path, blocks(seed), tags))["id"])


@pytest.fixture(scope="module")
def fiji(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, Flask]]:
    folder = tmp_path_factory.mktemp("antimeridian-pages")
    for app in _app_with_users(make_app(folder)):
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        older = _upload(app, headers, folder / "fiji-march.tif", 3)
        newer = _upload(app, headers, folder / "fiji-may.tif", 5)
        store_point_west_of_180(app, headers, older)
        with serving(app) as url:
            yield url, older, newer, app
        services.database(app).dispose()


def _box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not drawn"
    return found


def test_compare_and_the_site_map_show_a_scene_across_180_in_one_piece(
    fiji: tuple[str, str, str, Flask], browser: Any
) -> None:
    url, older, newer, _app = fiji
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if "/tiles/" in r.url else None)
    with screenshot_on_failure(page, "antimeridian-pages"):
        open_signed_in(page, url, f"/compare?left={older}&right={newer}&mode=side", "analyst")
        page.wait_for_selector("body[data-left-annotations='loaded']", state="attached")
        page.wait_for_selector("body[data-across180='yes']", state="attached")
        page.wait_for_load_state("networkidle")
        assert tile_sides(responses) == {"east", "west"}, "compare: tiles both sides of 180"
        # the point stored at -179.9 is drawn at 180.1, over the image on the left map
        assert page.locator("#left-count").get_attribute("data-count") == "1"
        point, left = _box(page, "#map-left [data-annotation-id]"), _box(page, "#map-left")
        assert left["x"] < point["x"] < left["x"] + left["width"]
        assert left["y"] < point["y"] < left["y"] + left["height"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "antimeridian-compare.png"))

        responses.clear()
        page.goto(f"{url}/sites/new")
        page.wait_for_selector("body[data-across180='yes']", state="attached")
        page.wait_for_load_state("networkidle")
        assert tile_sides(responses) == {"east", "west"}, "site map: tiles both sides of 180"
        # each footprint is one outline in the middle of the map, not two at its two ends
        outlines = page.locator("#site-map path[stroke-dasharray='4 4']")
        assert outlines.count() == 2
        site_map = _box(page, "#site-map")
        for index in range(2):
            outline = outlines.nth(index).bounding_box()
            assert outline is not None
            assert outline["width"] < site_map["width"] / 2, outline
            assert site_map["x"] < outline["x"] < site_map["x"] + site_map["width"] / 2
        page.screenshot(path=str(SCREENSHOTS / "antimeridian-site-map.png"))
    assert problems == [], problems
    page.close()


def test_a_box_drawn_across_180_in_the_workspace_is_saved_cut_there(
    fiji: tuple[str, str, str, Flask], browser: Any
) -> None:
    url, _older, newer, app = fiji
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "antimeridian-cut-box"):
        open_signed_in(page, url, f"/images/{newer}", "analyst")
        page.wait_for_selector("body[data-annotations-shown]", state="attached", timeout=20000)
        page.wait_for_selector("body[data-across180='yes']", state="attached")
        go_to(page, LAT, 180.0, zoom=15)
        draw_box(page, 179.999, LAT - 0.0008, 180.001, LAT + 0.0008)
        pick_label(page, "124", "aircraft.transport.an-124")
        saved = save(page)
        drawn = page_geometry(page, saved)  # drawn in one piece again, at 179.999..180.001
        lons = [lon for polygon in drawn["coordinates"] for lon, _ in polygon[0]]
        assert min(lons) == pytest.approx(179.999, abs=5e-4)
        assert max(lons) == pytest.approx(180.001, abs=5e-4)
        # a concave shape across 180 (a U opening east, both arms past the line) is cut
        # into its three pieces, each valid, covering the shape exactly
        ring = [(179.9, 0), (180.3, 0), (180.3, 1), (179.95, 1), (179.95, 2), (180.3, 2),
                (180.3, 3), (179.9, 3), (179.9, 0)]  # fmt: skip
        u_shape = {
            "type": "Polygon",
            "coordinates": [[[lon, LAT + lat / 1000] for lon, lat in ring]],
        }
        cut = page.evaluate("g => window.Across180.toServer(g)", u_shape)
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    feature = app.test_client().get(f"/api/v1/annotations/{saved}", headers=headers).get_json()
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["shape"] == "polygon"  # a box cut in two
    sides = sorted(
        sorted(lon for lon, _ in polygon[0]) for polygon in feature["geometry"]["coordinates"]
    )
    assert sides[0][0] == -180 and sides[0][-1] == pytest.approx(-179.999, abs=5e-4)
    assert sides[1][0] == pytest.approx(179.999, abs=5e-4) and sides[1][-1] == 180
    assert cut["type"] == "MultiPolygon" and len(cut["coordinates"]) == 3, cut
    pieces = [shape({"type": "Polygon", "coordinates": piece}) for piece in cut["coordinates"]]
    assert all(piece.is_valid for piece in pieces), cut
    assert all(-180 <= lon <= 180 for piece in pieces for lon, _ in piece.exterior.coords)
    joined = unary_union([translate(p, 360) if p.bounds[0] < 0 else p for p in pieces])
    original = shape(u_shape)
    assert joined.symmetric_difference(original).area < 1e-9 * original.area
    assert problems == [], problems
    page.close()
