"""The workspace of a scene across the antimeridian, in Chromium: the image in one piece
(tiles east and west of 180 degrees), an annotation stored west of 180 drawn over it, and a
box drawn past 180 on the map saved at its longitude in -180..180; the console stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotator import services
from tests.antimeridian import LAT, blocks, store_point_west_of_180, upload, write_scene
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.browser.test_workspace import draw_box, go_to, page_geometry, pick_label, save
from tests.conftest import _app_with_users, make_app, token_for

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def fiji(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str, str]]:
    folder = tmp_path_factory.mktemp("antimeridian-browser")
    for app in _app_with_users(make_app(folder)):
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        image_id = upload(app, headers, write_scene(folder / "fiji.tif", blocks(8)))["id"]
        store_point_west_of_180(app, headers, image_id)
        with serving(app) as url:
            yield app, url, image_id
        services.database(app).dispose()


def tile_sides(responses: list[Any]) -> set[str]:
    """'east'/'west' of 180 degrees for each image tile answered 200."""
    sides = set()
    for response in responses:
        parts = response.url.split("/tiles/")[-1].split("/")
        if response.status == 200 and len(parts) == 4:
            zoom, column = int(parts[1]), int(parts[2])
            sides.add("east" if column >= (1 << zoom) // 2 else "west")
    return sides


def test_a_scene_across_180_is_one_piece_and_annotated_on_both_sides(
    fiji: tuple[Flask, str, str], browser: Any
) -> None:
    app, url, image_id = fiji
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if "/tiles/" in r.url else None)
    with screenshot_on_failure(page, "antimeridian-workspace"):
        open_signed_in(page, url, f"/images/{image_id}", "analyst")
        page.wait_for_selector("body[data-annotations-shown]", state="attached", timeout=20000)
        page.wait_for_selector("body[data-across180='yes']", state="attached")
        page.wait_for_load_state("networkidle")
        # the stored point at -179.9 is drawn 360 degrees east, over the image
        stored = page.evaluate("() => [...AW.items.keys()].filter(k => !k.startsWith('new-'))")
        assert len(stored) == 1
        assert page_geometry(page, stored[0])["coordinates"][0] == pytest.approx(180.1)
        assert tile_sides(responses) == {"east", "west"}, "tiles on both sides of 180 degrees"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "antimeridian-workspace.png"))
        # a box drawn past 180 on the map is stored at its longitude west of Greenwich
        go_to(page, LAT, 180.2, zoom=15)
        draw_box(page, 180.199, LAT - 0.0008, 180.201, LAT + 0.0008)
        pick_label(page, "124", "aircraft.transport.an-124")
        saved = save(page)
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    feature = app.test_client().get(f"/api/v1/annotations/{saved}", headers=headers).get_json()
    lons = [lon for lon, _ in feature["geometry"]["coordinates"][0]]
    assert min(lons) == pytest.approx(-179.801, abs=5e-4)
    assert max(lons) == pytest.approx(-179.799, abs=5e-4)
    assert problems == [], problems
    page.close()
