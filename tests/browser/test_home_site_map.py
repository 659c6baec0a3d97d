"""The home page's map of the sites in Chromium: a site west of Greenwich is drawn at its own
negative longitudes, one across 180 degrees (a MultiPolygon split at 180, as stored) in one
piece beside 180 rather than across the whole world, one in the east where it is; each is an
outline whose name is text. The console stays clean. Screenshot:
docs/screenshots/home-site-map.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from annotator import services
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import ROOT, _app_with_users, make_app, token_for

pytestmark = pytest.mark.browser
SCREENSHOT = ROOT / "docs" / "screenshots" / "home-site-map.png"
HOSTILE = "<img src=x onerror=alert(1)>"
TAVEUNI = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[179.9, -16.9], [180, -16.9], [180, -16.7], [179.9, -16.7], [179.9, -16.9]]],
        [[[-180, -16.9], [-179.9, -16.9], [-179.9, -16.7], [-180, -16.7], [-180, -16.9]]],
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    for app in _app_with_users(make_app(tmp_path_factory.mktemp("home-site-map"))):
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        for body in (
            {
                "name": f"Bogotá {HOSTILE}",
                "slug": "bogota",
                "lon": -74.08,
                "lat": 4.6,
                "radius_m": 5000,
            },
            {"name": "Taveuni", "slug": "taveuni", "area": TAVEUNI},
            {"name": "Hmeimim", "slug": "hmeimim", "lon": 35.95, "lat": 35.4, "radius_m": 3000},
        ):
            made = app.test_client().post("/api/v1/sites", json=body, headers=headers)
            assert made.status_code == 201, made.get_json()
        with serving(app) as url:
            yield app, url
        services.database(app).dispose()


def test_sites_west_of_greenwich_and_across_180_are_drawn_where_they_are(
    site: tuple[Flask, str], browser: Any
) -> None:
    _, url = site
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    with screenshot_on_failure(page, "home-site-map"):
        open_signed_in(page, url, "/", "analyst")
        page.wait_for_selector("#home-site-map[data-ready='true']", state="attached")
        drawn = {
            item["slug"]: item
            for item in page.eval_on_selector_all(
                "#home-site-map-places li",
                "items => items.map(i => ({slug: i.dataset.slug, name: i.textContent,"
                " west: +i.dataset.west, east: +i.dataset.east, south: +i.dataset.south}))",
            )
        }
        assert set(drawn) == {"bogota", "taveuni", "hmeimim"}
        bogota, taveuni, hmeimim = drawn["bogota"], drawn["taveuni"], drawn["hmeimim"]
        assert -74.2 < bogota["west"] < bogota["east"] < -73.9, bogota  # west of Greenwich
        assert 4.5 < bogota["south"] < 4.6 and bogota["name"] == f"Bogotá {HOSTILE}"
        # across 180: one piece from 179.9 to 180.1 (drawn past 180), not -180..180
        assert taveuni["west"] == pytest.approx(179.9) and taveuni["east"] == pytest.approx(180.1)
        assert 35.9 < hmeimim["west"] < hmeimim["east"] < 36.0, hmeimim
        # three outlines on the map, each a few pixels wide at most a fraction of the map
        box = page.locator("#home-site-map").bounding_box()
        paths = page.locator("#home-site-map path.site-outline")
        assert paths.count() == 3
        for index in range(3):
            shape = paths.nth(index).bounding_box()
            assert shape is not None and shape["width"] < box["width"] / 4, shape
        names = page.locator("#home-site-map .site-name").all_inner_texts()
        assert sorted(names) == sorted(item["name"] for item in drawn.values())
        assert page.locator("#home-site-map img[src='x']").count() == 0
        page.locator("#home-site-map").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT))
    assert problems == [], problems
    page.close()
