"""Sites in Debian's Chromium: an analyst adds one by a circle (a click on the capture for the
centre) and one by an area drawn with Geoman, edits one (name, place, why), and is told in
words why an area drawn across the antimeridian is refused; the site chart draws look-alike
labels apart. Screenshots: docs/screenshots/site-form.png and site-chart.png (1366 x 768).
The console stays clean and no request but the refused form's own answer fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask

from annotations.catalogue.images import Provenance
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import CENTRE, Newsroom, catalogued, newsroom

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Watched:
    page: Any
    problems: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def clean(self, allowed: tuple[str, ...] = ()) -> None:
        """Nothing amiss but the `allowed` answers (a refused form's designed 422) and the
        browser's one note of each."""
        refused = [f for f in self.failed if allowed and f.startswith(allowed)]
        notes = [p for p in self.problems if refused and "status of 422" in p]
        assert len(notes) <= len(refused)
        assert [p for p in self.problems if p not in notes] == [], self.problems
        assert [f for f in self.failed if f not in refused] == [], self.failed
        assert self.outside == []


@pytest.fixture
def watched(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Watched]:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    state = Watched(page, outside=watch_origin(page, live_server))
    page.on("console", lambda m: state.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: state.problems.append(f"{error} {error.stack}"))
    page.on(
        "response",
        lambda r: (
            state.failed.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    with screenshot_on_failure(page, f"site-form-{request.node.name}"):
        yield state
    page.close()


def site(app: Flask, slug: str) -> Any:
    room = Newsroom(app, app.test_client(), "")
    return room.call("GET", f"/api/v1/sites/{slug}", "viewer")


def map_ready(page: Any, tiles: bool = True) -> None:
    """The map drawn, and (with captures to show) their tiles loaded."""
    page.wait_for_selector("body[data-site-map=ready]")
    if tiles:
        page.wait_for_function(
            "() => { const t = [...document.querySelectorAll('#site-map img.leaflet-tile')];"
            " return t.length > 0 && t.every(i => i.complete); }"
        )


def click_map(page: Any, lon: float, lat: float) -> None:
    """A real mouse click on the map at a place."""
    point = page.evaluate(
        "([lat, lon]) => siteFormMap.latLngToContainerPoint([lat, lon])", [lat, lon]
    )
    box = page.locator("#site-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


@pytest.mark.browser
def test_an_analyst_adds_a_site_by_a_circle_on_the_capture(
    app: Flask, live_server: str, watched: Watched, make_geotiff: Callable[..., Path]
) -> None:
    image = catalogued(app, make_geotiff(), Provenance(provider="test"))
    centre = shapely.geometry.shape(image.to_dict()["footprint"]).centroid
    page = watched.page
    open_signed_in(page, live_server, "/", "analyst")
    page.click("a.new-site")
    map_ready(page)
    page.fill("input[name=name]", "Hmeimim apron")
    click_map(page, centre.x, centre.y)
    assert abs(float(page.input_value("input[name=lon]")) - centre.x) < 1e-3
    assert abs(float(page.input_value("input[name=lat]")) - centre.y) < 1e-3
    page.fill("input[name=radius_m]", "120")
    page.wait_for_selector("#site-summary:has-text('A circle of 120 m')")
    assert page.locator("#site-map path.leaflet-interactive, #site-map path").count() >= 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "site-form.png"))
    page.click("#site-form button[type=submit]")
    page.wait_for_url(f"{live_server}/sites/hmeimim-apron")
    made = site(app, "hmeimim-apron").get_json()
    assert made["image_ids"] == [image.id]
    assert shapely.geometry.shape(made["area"]).contains(centre)
    watched.clean()


@pytest.mark.browser
def test_an_analyst_draws_a_site_area_and_edits_it(
    app: Flask, live_server: str, watched: Watched, make_geotiff: Callable[..., Path]
) -> None:
    image = catalogued(app, make_geotiff(), Provenance(provider="test"))
    footprint = shapely.geometry.shape(image.to_dict()["footprint"])
    west, south, east, north = footprint.bounds
    page = watched.page
    open_signed_in(page, live_server, "/sites/new", "analyst")
    map_ready(page)
    page.fill("input[name=name]", "Drawn apron")
    page.check("input[name=shape][value=area]")
    page.click("#site-map .leaflet-pm-icon-polygon")
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    for lon, lat in corners:
        click_map(page, lon, lat)
    page.wait_for_selector("#site-summary:has-text('An area drawn on the map')")
    drawn = json.loads(page.input_value("textarea[name=area]"))
    assert drawn["type"] == "Polygon"
    page.click("#site-form button[type=submit]")
    page.wait_for_url(f"{live_server}/sites/drawn-apron")
    made = site(app, "drawn-apron").get_json()
    assert made["image_ids"] == [image.id]
    assert shapely.geometry.shape(made["area"]).intersection(footprint).area > 0.9 * footprint.area

    # edit: a new name, and the circle moved off the capture, with the reason
    page.click("a.edit-site")
    map_ready(page)
    assert page.input_value("input[name=name]") == "Drawn apron"
    page.fill("input[name=name]", "Empty field")
    page.check("input[name=shape][value=circle]")
    page.fill("input[name=lon]", str(round(east + 0.05, 6)))
    page.fill("input[name=lat]", str(round(north + 0.05, 6)))
    page.fill("input[name=radius_m]", "500")
    page.fill("input[name=comment]", "the apron is further north-east")
    page.click("#site-form button[type=submit]")
    page.wait_for_url(f"{live_server}/sites/drawn-apron")
    assert page.inner_text("h1").startswith("Empty field")
    changed = site(app, "drawn-apron").get_json()
    assert changed["name"] == "Empty field" and changed["image_ids"] == []
    history = Newsroom(app, app.test_client(), "").call(
        "GET", "/api/v1/sites/drawn-apron/history", "viewer"
    )
    assert history.get_json()["changes"][-1]["comment"] == "the apron is further north-east"
    watched.clean()


@pytest.mark.browser
def test_an_area_drawn_across_the_antimeridian_is_refused_in_words(
    app: Flask, live_server: str, watched: Watched
) -> None:
    page = watched.page
    open_signed_in(page, live_server, "/sites/new", "analyst")
    map_ready(page, tiles=False)
    page.fill("input[name=name]", "Taveuni")
    page.check("input[name=shape][value=area]")
    page.evaluate("() => siteFormMap.setView([-16.8, 180], 7)")
    page.click("#site-map .leaflet-pm-icon-rectangle")
    click_map(page, 179.6, -16.6)
    click_map(page, 180.4, -17.0)
    page.wait_for_selector("#site-summary:has-text('An area drawn on the map')")
    page.click("#site-form button[type=submit]")
    page.wait_for_selector("p.error[role=alert]")
    message = page.inner_text("p.error")
    assert "antimeridian" in message and "MultiPolygon" in message
    assert page.input_value("input[name=name]") == "Taveuni"  # what was typed is kept
    # a centre typed out of range is refused too, the map still drawn
    page.check("input[name=shape][value=circle]")
    page.fill("input[name=lon]", "east")
    page.fill("input[name=lat]", "10")
    page.click("#site-form button[type=submit]")
    page.wait_for_selector("p.error:has-text('longitude must be a number')")
    map_ready(page, tiles=False)
    listed = Newsroom(app, app.test_client(), "").call("GET", "/api/v1/sites", "viewer")
    assert listed.get_json()["sites"] == []
    watched.clean(allowed=(f"422 POST {live_server}/sites/new",))


@pytest.mark.browser
def test_the_site_chart_keeps_look_alike_labels_apart(
    app: Flask, live_server: str, watched: Watched, make_geotiff: Callable[..., Path]
) -> None:
    """Four captures where the An-124 and the An-26 (taxonomy colours 10.8 apart in CIE76)
    have the same counts on three dates: both lines stay visible, in colours told apart."""
    first = datetime(2024, 12, 10, 8, 0, tzinfo=UTC)
    room = newsroom(app, make_geotiff(), first)
    counts = [(2, 2, 1), (2, 2, 2), (3, 1, 2), (1, 1, 1)]  # An-124, An-26, Il-76 per capture
    for index, (an124, an26, il76) in enumerate(counts):
        if index:
            captured = first.replace(day=10 + 2 * index)
            tif = make_geotiff(f"capture{index}.tif", tags={"n": str(index)})
            room = Newsroom(app, room.client, catalogued(app, tif, None, captured).id)
        labels = ["aircraft.transport.an-124"] * an124 + ["aircraft.transport.an-26"] * an26
        labels += ["aircraft.transport.il-76"] * il76
        for n, label in enumerate(labels):
            room.annotation("approved", offset_m=-70 + 20 * n, label=label)
    page = watched.page
    open_signed_in(page, live_server, "/sites/hmeimim-apron", "viewer")
    page.wait_for_selector("figure.chart g.series")
    colours = page.eval_on_selector_all(
        "figure.chart g.series", "gs => gs.map(g => [g.dataset.label, g.dataset.colour])"
    )
    assert len(colours) == 3 and len({c for _, c in colours}) == 3
    lines = page.eval_on_selector_all(
        "figure.chart polyline", "ls => ls.map(l => l.getAttribute('points'))"
    )
    assert len(set(lines)) == 3, "no line is drawn exactly over another"
    page.locator("figure.chart").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "site-chart.png"))
    watched.clean()
    assert CENTRE  # the site was made around the newsroom's centre
