"""The analyst's imagery tools in a real Chromium, on the demo's 2024-12-13 capture: image
display (brightness, contrast, gamma, sharpening; client-side, lasting while the map moves,
Reset), annotations shown or hidden by status and label, the minimap, the ruler (geodesic
distance and bearing, stores nothing, Esc), Go to (decimal, DMS, MGRS; a bad entry in one
line) and the cursor in the chosen notation, remembered. Each test asserts the console stays
clean: no errors or warnings, no 4xx/5xx, no failed request (the one bad Go to entry's 422 is
the designed answer, and that test allows exactly it)."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import expect
from pyproj import Geod

from imagery.coordinates import Point, dms, mgrs_reference, parse
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure
from tests.browser.test_live_measure import Watched
from tests.browser.test_workspace import (
    Demo,
    an_124,
    go_to,
    screen,
    served_demo,
    wait_for_annotations,
)

GEOD = Geod(ellps="WGS84")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "imagery-tools.png"
TILE = re.compile(r"/tiles/[0-9a-f]+/\d+/\d+/\d+\.png$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    yield from served_demo(tmp_path_factory, demo_template, "imagery-tools")


class Tools(Watched):
    """A watched workspace page that also records every request it sends."""

    def __init__(self, page: Any, origin: str) -> None:
        super().__init__(page, origin)
        self.sent: list[tuple[str, str]] = []
        self.asking = 0  # coordinate requests on their way
        self.most_asking = 0
        page.on("request", self._sent)
        page.on("requestfinished", self._answered)
        page.on("requestfailed", self._answered)

    def _sent(self, request: Any) -> None:
        self.sent.append((request.method, request.url))
        if "/images/coordinates" in request.url:
            self.asking += 1
            self.most_asking = max(self.most_asking, self.asking)

    def _answered(self, request: Any) -> None:
        if "/images/coordinates" in request.url:
            self.asking -= 1


@pytest.fixture
def tools(demo: Demo, browser: Any, request: pytest.FixtureRequest) -> Iterator[Tools]:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.on("request", lambda r: None if r.url.startswith(demo.url) else demo.outside.append(r.url))
    state = Tools(page, demo.url)
    with screenshot_on_failure(page, f"imagery-tools-{request.node.name}"):
        open_signed_in(page, demo.url, f"/images/{demo.image_id}", "analyst")
        wait_for_annotations(page)
        state.sent.clear()  # the sign-in's POST is not the tools'
        yield state
    if not page.is_closed():
        page.close()
    assert state.problems == [], state.problems
    assert state.dialogs == []


def settle(page: Any) -> None:
    """Two animation frames: what the last event changed is painted."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def tiles_idle(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('#map .leaflet-tile')].every(t => t.complete)"
    )
    settle(page)


def map_luminance(page: Any) -> float:
    """The mean grey level of the middle of the map as painted."""
    box = page.locator("#map").bounding_box()
    clip = {
        "x": box["x"] + box["width"] * 0.25,
        "y": box["y"] + box["height"] * 0.25,
        "width": box["width"] * 0.5,
        "height": box["height"] * 0.5,
    }
    picture = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("L")
    return float(ImageStat.Stat(picture).mean[0])


def shown_on_map(page: Any) -> int:
    return int(page.evaluate("() => AW.group.getLayers().length"))


def write_writes(tools: Tools) -> list[tuple[str, str]]:
    return [(method, url) for method, url in tools.sent if method != "GET"]


def test_image_display_is_client_side_lasts_while_moving_and_resets(
    demo: Demo, tools: Tools
) -> None:
    page = tools.page
    aircraft = an_124(0)
    go_to(page, aircraft.lat, aircraft.lon, 18)
    tiles_idle(page)
    before = map_luminance(page)
    page.click("#adjust summary")
    page.focus("#adjust-brightness")
    for _ in range(8):  # +40, by keyboard
        page.keyboard.press("ArrowRight")
    expect(page.locator("#adjust-state")).to_have_text("brightness +40")
    assert page.evaluate("() => AW.imageLayer.getContainer().style.filter") == "brightness(1.4)"
    settle(page)
    brighter = map_luminance(page)
    assert brighter > before + 10, (before, brighter)

    # gamma and sharpening go through the SVG filter; contrast is CSS
    page.fill("#adjust-gamma", "2")
    page.fill("#adjust-sharpen", "2")
    page.fill("#adjust-contrast", "30")
    expect(page.locator("#adjust-state")).to_have_text(
        "brightness +40, contrast +30, gamma 2.0, sharpen 2"
    )
    css = page.evaluate("() => AW.imageLayer.getContainer().style.filter")
    assert css == 'brightness(1.4) contrast(1.3) url("#aw-adjust")', css
    exponent = page.get_attribute("#aw-adjust feFuncR", "exponent")
    assert exponent is not None and abs(float(exponent) - 0.5) < 1e-9
    kernel = page.get_attribute("#aw-adjust feConvolveMatrix", "kernelMatrix")
    assert kernel == "0 -0.5 0 -0.5 3 -0.5 0 -0.5 0"

    # moving the map: the new tiles come in under the same setting
    go_to(page, aircraft.lat + 0.004, aircraft.lon + 0.004, 17)
    tiles_idle(page)
    assert page.evaluate("() => AW.imageLayer.getContainer().style.filter") == css
    go_to(page, aircraft.lat, aircraft.lon, 18)
    tiles_idle(page)

    page.click("#adjust-reset")
    expect(page.locator("#adjust-state")).to_have_text("as captured")
    assert page.evaluate("() => AW.imageLayer.getContainer().style.filter") == ""
    settle(page)
    assert abs(map_luminance(page) - before) < 1.0

    # nothing was asked of the server: the tiles are the same addresses, no parameters
    tiles = [url for _, url in tools.sent if "/tiles/" in url]
    assert tiles and all(TILE.search(url) for url in tiles), tiles[:5]
    assert write_writes(tools) == []


def test_annotations_hidden_by_status_and_label_are_off_the_map_and_the_list(
    demo: Demo, tools: Tools
) -> None:
    page = tools.page
    features = demo.api("GET", f"/api/v1/annotations?image={demo.image_id}&limit=1000")
    features = features.get_json()["features"]
    total = len(features)
    assert total >= 3 and shown_on_map(page) == total
    statuses = {f["properties"]["status"] for f in features}
    status = sorted(statuses)[0]
    with_status = sum(1 for f in features if f["properties"]["status"] == status)

    page.click("#show summary")
    page.uncheck(f"#show-status input[value='{status}']")
    assert shown_on_map(page) == total - with_status
    expect(page.locator("#show-state")).to_have_text(f"{with_status} hidden")
    expect(page.locator("#list-count")).to_have_text(f"({total - with_status})")
    page.click("#show-all")
    assert shown_on_map(page) == total

    # by label: the An-124s go; clicking where one is selects nothing
    an124 = [f for f in features if f["properties"]["label"].endswith(".an-124")]
    assert an124
    target = an124[0]
    centre = page.evaluate(
        "id => { const l = AW.items.get(id).layer;"
        " const c = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();"
        " return [c.lat, c.lng]; }",
        target["id"],
    )
    go_to(page, centre[0], centre[1], 19)
    x, y = screen(page, centre[0], centre[1])
    page.mouse.click(x, y)
    expect(page.locator("#label-panel")).to_be_visible()  # shown: selectable
    assert page.evaluate("() => AW.selectedId") == target["id"]
    page.uncheck("#show-label input[value='aircraft.transport.an-124']")
    assert page.evaluate("() => AW.selectedId") is None  # hiding the selected one lets it go
    assert shown_on_map(page) == total - len(an124)
    page.mouse.click(x, y)
    assert page.evaluate("() => AW.selectedId") is None
    # selected from elsewhere (a link, a warning): shown while selected, hidden again after
    page.evaluate("id => AW.select(id, true)", target["id"])
    assert shown_on_map(page) == total - len(an124) + 1
    page.evaluate("() => AW.select(null)")
    assert shown_on_map(page) == total - len(an124)
    # the list follows on its next redraw: wait for it, then no entry names an An-124
    entries = page.locator(".annotation-list .entry .name")
    expect(entries).to_have_count(total - len(an124))
    expect(entries.filter(has_text="An-124")).to_have_count(0)
    page.check("#show-label input[value='aircraft.transport.an-124']")
    assert shown_on_map(page) == total
    assert page.get_attribute("body", "data-unsaved") == "0"


def test_the_minimap_follows_the_view_and_moves_it(demo: Demo, tools: Tools) -> None:
    page = tools.page
    expect(page.locator("#minimap .minimap-map")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelectorAll('#minimap .leaflet-tile-loaded').length > 0"
    )
    aircraft = an_124(0)
    go_to(page, aircraft.lat, aircraft.lon, 18)
    contains = page.evaluate(
        "() => AW.minimap.view.getBounds().contains(AW.map.getBounds())"
        " && AW.minimap.mini.getBounds().contains(AW.map.getBounds())"
    )
    assert contains
    # a click on the minimap's upper left quarter moves the main map there
    box = page.locator("#minimap .minimap-map").bounding_box()
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25
    wanted = page.evaluate(
        "([x, y]) => { const c = AW.minimap.mini.containerPointToLatLng([x, y]);"
        " return [c.lat, c.lng]; }",
        [box["width"] * 0.25, box["height"] * 0.25],
    )
    page.mouse.click(x, y)
    centre = page.evaluate("() => { const c = AW.map.getCenter(); return [c.lat, c.lng]; }")
    assert abs(centre[0] - wanted[0]) < 1e-4 and abs(centre[1] - wanted[1]) < 1e-4
    assert page.evaluate("() => AW.selectedId") is None and write_writes(tools) == []
    page.click("#minimap .minimap-toggle")
    expect(page.locator("#minimap .minimap-map")).to_be_hidden()
    page.click("#minimap .minimap-toggle")
    expect(page.locator("#minimap .minimap-map")).to_be_visible()


def test_the_ruler_reads_geodesic_distance_and_bearing_and_stores_nothing(
    demo: Demo, tools: Tools
) -> None:
    page = tools.page
    before = demo.api("GET", f"/api/v1/annotations?image={demo.image_id}&limit=1000")
    count = len(before.get_json()["features"])
    aircraft = an_124(0)
    go_to(page, aircraft.lat, aircraft.lon, 17)
    page.locator("#map").focus()
    page.keyboard.press("d")
    expect(page.locator("#ruler-button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#ruler-readout")).to_contain_text("click a point")
    corners = [
        (aircraft.lat, aircraft.lon),  # on the An-124: measured from, not selected
        (aircraft.lat + 0.002, aircraft.lon + 0.001),
        (aircraft.lat + 0.001, aircraft.lon + 0.004),
    ]
    for lat, lon in corners:
        x, y = screen(page, lat, lon)
        page.mouse.click(x, y)
    points = json.loads(page.get_attribute("#ruler-readout", "data-points") or "[]")
    assert len(points) == 3
    assert page.evaluate("() => AW.selectedId") is None
    legs = []
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        azimuth, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
        legs.append((metres, azimuth % 360))
    total = float(page.get_attribute("#ruler-readout", "data-total-metres") or "0")
    assert abs(total - sum(m for m, _ in legs)) < 0.001  # Vincenty against pyproj, to a mm
    labels = page.eval_on_selector_all(".ruler-label", "e => e.map(n => n.textContent)")
    want = [
        (f"{m:.1f} m" if m < 1000 else f"{m / 1000:.2f} km") + f" · {a:05.1f}°" for m, a in legs
    ]
    assert labels == want
    last_m, last_a = legs[-1]
    shown_total = f"{total / 1000:.2f} km" if total >= 1000 else f"{total:.1f} m"
    expect(page.locator("#ruler-readout")).to_contain_text(f"bearing {last_a:05.1f}°")
    expect(page.locator("#ruler-readout")).to_contain_text(f"total {shown_total} over 2 legs")
    assert last_m > 0

    # stores nothing, and nothing unsaved
    assert page.get_attribute("body", "data-unsaved") == "0"
    assert write_writes(tools) == []
    assert [url for _, url in tools.sent if "/measure" in url] == []

    page.keyboard.press("Escape")
    expect(page.locator("#ruler-readout")).to_be_hidden()
    expect(page.locator(".ruler-label")).to_have_count(0)
    expect(page.locator("#ruler-button")).to_have_attribute("aria-pressed", "false")
    after = demo.api("GET", f"/api/v1/annotations?image={demo.image_id}&limit=1000")
    assert len(after.get_json()["features"]) == count

    # a drawing key puts the ruler away and draws as ever
    page.keyboard.press("d")
    expect(page.locator("#ruler-readout")).to_be_visible()
    page.keyboard.press("b")
    expect(page.locator("#ruler-readout")).to_be_hidden()
    assert page.get_attribute("body", "data-tool") == "box"
    page.keyboard.press("Escape")
    assert page.get_attribute("body", "data-tool") == ""


def test_go_to_reads_dms_mgrs_and_decimal(demo: Demo, tools: Tools) -> None:
    page = tools.page
    aircraft = an_124(1)
    point = Point(lat=aircraft.lat, lon=aircraft.lon)
    reference = mgrs_reference(point)
    assert reference is not None
    for typed in [dms(point), reference, f"{aircraft.lat:.6f}, {aircraft.lon:.6f}"]:
        page.locator("#map").focus()
        page.keyboard.press("j")
        expect(page.locator("#goto-input")).to_be_focused()
        page.keyboard.type(typed)  # letters typed here are not shortcuts: no ruler, no tool
        page.keyboard.press("Enter")
        page.wait_for_function(
            "typed => document.getElementById('goto-message').textContent.includes('·')", arg=typed
        )
        assert page.get_attribute("body", "data-ruler") in (None, "")
        assert page.get_attribute("body", "data-tool") in (None, "")
        centre = page.evaluate("() => { const c = AW.map.getCenter(); return [c.lat, c.lng]; }")
        want = parse(typed)
        assert abs(centre[0] - want.lat) < 1e-6 and abs(centre[1] - want.lon) < 1e-6
        assert abs(want.lat - point.lat) < 2e-5 and abs(want.lon - point.lon) < 2e-5
        message = page.text_content("#goto-message") or ""
        assert dms(want) in message and "Outside" not in message
        page.fill("#goto-input", "")
    page.keyboard.type("-33.92, 18.42")
    page.keyboard.press("Enter")
    expect(page.locator("#goto-message")).to_contain_text("Outside this image.")
    assert write_writes(tools) == []


def test_a_bad_go_to_entry_says_what_is_wrong_in_one_line(demo: Demo, tools: Tools) -> None:
    page = tools.page
    page.fill("#goto-input", "35°61'N 35°56'54\"E")
    page.press("#goto-input", "Enter")
    message = page.locator("#goto-message")
    expect(message).to_have_text(re.compile(r"^Minutes must be under 60, not 61 in .*35"))
    expect(message).to_have_class(re.compile("problem"))
    assert "\n" not in (message.text_content() or "")
    # the designed 422, and the browser's note of it, are the only things amiss
    assert tools.problems and all("422" in p for p in tools.problems), tools.problems
    assert any(
        p.startswith("422 GET") and "/api/v1/images/coordinates" in p for p in tools.problems
    )
    tools.problems.clear()
    page.fill("#goto-input", "<img src=x onerror=alert(1)>")
    page.press("#goto-input", "Enter")
    expect(message).to_contain_text("has no place in a coordinate")
    assert page.locator("#goto-message img").count() == 0
    assert all("422" in p for p in tools.problems)
    tools.problems.clear()


def test_the_cursor_in_each_notation_remembered(demo: Demo, tools: Tools) -> None:
    page = tools.page
    aircraft = an_124(0)
    go_to(page, aircraft.lat, aircraft.lon, 18)
    box = page.locator("#map").bounding_box()
    x, y = box["width"] * 0.4, box["height"] * 0.6

    # where the map saw the mouse last
    page.evaluate("() => AW.map.on('mousemove', e => { window.seen = e.latlng; })")

    def under_mouse() -> Point:
        lat, lon = page.evaluate("() => [window.seen.lat, window.seen.lng]")
        return Point(lat=lat, lon=lon)

    cursor = page.locator("#cursor")
    for offset in (0, 3):  # two moves, so the readout follows the mouse
        page.mouse.move(box["x"] + x + offset, box["y"] + y, steps=2)
    x += 3
    here = under_mouse()
    expect(cursor).to_have_text(f"lat {here.lat:.6f}°  lon {here.lon:.6f}°")

    page.select_option("#cursor-format", "dms")
    lat_text, lon_text = dms(here).split(" ")
    expect(cursor).to_have_text(f"lat {lat_text}  lon {lon_text}")

    page.select_option("#cursor-format", "mgrs")
    page.mouse.move(box["x"] + x + 1, box["y"] + y, steps=1)
    x += 1
    here = under_mouse()
    expect(cursor).to_have_text(re.compile(r"^MGRS 36S YE \d{5} \d{5}$"))
    shown = parse((cursor.text_content() or "").removeprefix("MGRS "))
    assert abs(shown.lat - here.lat) < 2e-5 and abs(shown.lon - here.lon) < 2e-5
    # a sweep of the mouse: one request at a time, and the readout ends where the mouse did
    for step in range(40):
        page.mouse.move(box["x"] + x + step * 5, box["y"] + y - step * 3, steps=1)
    x, y = x + 39 * 5, y - 39 * 3
    page.wait_for_function("() => !document.getElementById('cursor').dataset.asking")
    here = under_mouse()
    shown = parse((cursor.text_content() or "").removeprefix("MGRS "))
    assert abs(shown.lat - here.lat) < 2e-5 and abs(shown.lon - here.lon) < 2e-5
    assert tools.most_asking == 1
    asked = sum(1 for _, url in tools.sent if "/images/coordinates" in url)
    assert 2 <= asked <= 42, asked

    page.reload()
    wait_for_annotations(page)
    expect(page.locator("#cursor-format")).to_have_value("mgrs")
    page.select_option("#cursor-format", "decimal")
    page.reload()
    wait_for_annotations(page)
    expect(page.locator("#cursor-format")).to_have_value("decimal")


def test_screenshot_of_the_tools(demo: Demo, tools: Tools) -> None:
    page = tools.page
    aircraft = an_124(0)
    go_to(page, aircraft.lat, aircraft.lon, 17)
    page.click("#adjust summary")
    page.fill("#adjust-brightness", "15")
    page.fill("#adjust-contrast", "25")
    page.fill("#adjust-sharpen", "1")
    page.select_option("#cursor-format", "dms")
    page.fill("#goto-input", "35°24'04\"N 35°56'54\"E")
    page.locator("#map").focus()
    page.keyboard.press("d")
    for lat, lon in [
        (aircraft.lat, aircraft.lon - 0.002),
        (aircraft.lat + 0.0015, aircraft.lon + 0.001),
        (aircraft.lat - 0.0005, aircraft.lon + 0.003),
    ]:
        x, y = screen(page, lat, lon)
        page.mouse.click(x, y)
    page.mouse.move(*screen(page, aircraft.lat - 0.001, aircraft.lon))
    tiles_idle(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
