"""The image workspace in a real Chromium, on an app with the demo loaded: draw with real mouse
events over a demo An-124, label it through the search, save, reload, measure, undo and redo,
user text kept as text, a stale edit's conflict dialog, and nothing fetched from elsewhere."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from pyproj import Geod

from annotations.measure import box_polygon
from annotator import services
from annotator.demo.loader import demo_image_ids
from annotator.demo.scene import DemoAircraft, demo_aircraft
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure
from tests.conftest import make_app, token_for

GEOD = Geod(ellps="WGS84")
DEGREE_TOLERANCE = 1e-6
XSS = "<img src=x onerror=alert(1)>"


@dataclass
class Demo:
    app: Flask
    url: str
    image_id: str  # the 2024-12-13 capture, with both An-124s
    outside: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, user: str = "analyst", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token_for(self.app, user)}"}
        headers.update(kwargs.pop("headers", {}))
        return self.app.test_client().open(path, method=method, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    """One copy of the demo for this module's tests; each draws its own annotations."""
    yield from served_demo(tmp_path_factory, demo_template, "workspace")


def served_demo(
    tmp_path_factory: pytest.TempPathFactory, demo_template: Path, name: str
) -> Iterator[Demo]:
    """A copy of the demo served on a free port, its second capture's workspace to open."""
    folder = tmp_path_factory.mktemp(name)
    shutil.copytree(demo_template, folder / "instance")
    app = make_app(folder)
    ids = demo_image_ids(services.database(app), folder / "instance" / "demo")
    with serving(app) as url:
        state = Demo(app, url, ids[1])
        yield state
    services.database(app).dispose()
    assert state.outside == [], f"requests left the app's origin: {state.outside}"


@pytest.fixture
def page(demo: Demo, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(demo.url) else demo.outside.append(r.url))
    page.dialogs = dialogs
    with screenshot_on_failure(page, f"workspace-{request.node.name}"):
        open_signed_in(page, demo.url, f"/images/{demo.image_id}", "analyst")
        wait_for_annotations(page)
        yield page
    assert dialogs == [], f"a JavaScript dialog fired: {dialogs}"
    page.close()


def wait_for_annotations(page: Any) -> None:
    page.wait_for_selector("body[data-annotations-shown]", state="attached", timeout=20000)


def an_124(index: int) -> DemoAircraft:
    return [a for a in demo_aircraft("2024-12-13") if a.kind == "an-124"][index]


def north_up_box(aircraft: DemoAircraft) -> tuple[float, float, float, float]:
    """west, south, east, north of a box of the An-124's length (east-west) and span."""
    lon, lat = aircraft.lon, aircraft.lat
    east = GEOD.fwd(lon, lat, 90, aircraft.length_m / 2)[0]
    west = GEOD.fwd(lon, lat, 270, aircraft.length_m / 2)[0]
    north = GEOD.fwd(lon, lat, 0, aircraft.span_m / 2)[1]
    south = GEOD.fwd(lon, lat, 180, aircraft.span_m / 2)[1]
    return west, south, east, north


def go_to(page: Any, lat: float, lon: float, zoom: int = 19) -> None:
    page.evaluate("([lat, lon, z]) => annotatorMap.setView([lat, lon], z, {animate: false})",
                  [lat, lon, zoom])  # fmt: skip


def screen(page: Any, lat: float, lon: float) -> tuple[float, float]:
    """Where lat/lon is on the screen, in page pixels."""
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(
        "([lat, lon]) => { const p = annotatorMap.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    return box["x"] + x, box["y"] + y


def click_at(page: Any, lat: float, lon: float, steps: int = 4) -> None:
    x, y = screen(page, lat, lon)
    page.mouse.move(x, y, steps=steps)
    page.mouse.down()
    page.mouse.up()


def hover(page: Any, lat: float, lon: float) -> None:
    """Rest the mouse on lat/lon: Leaflet's canvas reads hovering at most every 32 ms, so
    a few small moves spaced past that make sure one of them is seen."""
    x, y = screen(page, lat, lon)
    for step in range(4):
        page.mouse.move(x + step, y)
        page.wait_for_timeout(40)


def draw_box(page: Any, west: float, south: float, east: float, north: float) -> None:
    page.locator("#map").focus()
    page.keyboard.press("b")
    page.wait_for_selector("body[data-tool='box']", state="attached")
    click_at(page, north, west)
    click_at(page, south, east, steps=8)
    page.wait_for_selector("#label-search:focus")


def pick_label(page: Any, typed: str, label_id: str) -> None:
    page.fill("#label-search", "")
    page.type("#label-search", typed)
    page.wait_for_selector(f"#label-results li[data-label='{label_id}'][aria-selected='true']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#label-chosen:has-text('{label_id}')")


def save(page: Any) -> str:
    """Click Save; wait until the server has it; the new annotation's id."""
    page.click("#save")
    page.wait_for_selector("#save-state.saved")
    return selected_id(page)


def selected_id(page: Any) -> str:
    """The id of the list's current entry once the list shows the stored annotation: the list
    redraws on the next animation frame, and until then its entry has the temporary id."""
    selected = page.wait_for_selector(
        ".annotation-list button[aria-current='true']:not([data-id^='new-'])"
    )
    return str(selected.get_attribute("data-id"))


def boxed(page: Any, aircraft: DemoAircraft, typed: str, label_id: str) -> str:
    """Go to the aircraft, box it north-up with the mouse, label it through the search, save."""
    go_to(page, aircraft.lat, aircraft.lon)
    draw_box(page, *north_up_box(aircraft))
    pick_label(page, typed, label_id)
    return save(page)


def page_geometry(page: Any, annotation_id: str) -> Any:
    return page.evaluate("id => AW.items.get(id).layer.toGeoJSON().geometry", annotation_id)


def corners(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    return sorted((round(x, 9), round(y, 9)) for x, y in geometry["coordinates"][0][:-1])


def assert_same_ring(got: dict[str, Any], want: dict[str, Any], tolerance: float) -> None:
    assert got["type"] == want["type"] == "Polygon"
    for (x1, y1), (x2, y2) in zip(corners(got), corners(want), strict=True):
        assert abs(x1 - x2) <= tolerance and abs(y1 - y2) <= tolerance, (got, want)


def measured(page: Any) -> tuple[float, float, str]:
    """(length, span, first candidate) as the measure panel shows them, once they are the
    newest shape's (while drawing, an earlier shape's answer may still be shown)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_selector("#measure-panel[data-measure='current']", state="attached")
    page.wait_for_selector("#size-candidates li")
    text = page.inner_text("#measure-values")
    match = re.search("length \u00d7 span\\s+([\\d.]+) \u00d7 ([\\d.]+) m", text)
    assert match, text
    first = page.locator("#size-candidates li").first.locator(".name").inner_text()
    return float(match[1]), float(match[2]), first


def test_draw_label_save_reload_and_identify(demo: Demo, page: Any) -> None:
    aircraft = an_124(0)
    west, south, east, north = north_up_box(aircraft)
    go_to(page, aircraft.lat, aircraft.lon)
    draw_box(page, west, south, east, north)
    # the live measurement of the shape being drawn already names the type
    pick_label(page, "124", "aircraft.transport.an-124")
    annotation_id = save(page)

    stored = demo.api("GET", f"/api/v1/annotations/{annotation_id}")
    assert stored.status_code == 200
    feature = stored.get_json()
    assert feature["properties"]["label"] == "aircraft.transport.an-124"
    assert feature["properties"]["shape"] == "box"
    assert feature["properties"]["created_by"] == "analyst"
    intended = {"type": "Polygon", "coordinates": [[[west, north], [east, north], [east, south],
                                                    [west, south], [west, north]]]}  # fmt: skip
    # real mouse events land within a pixel (about 2.5e-6 degrees at zoom 19) of the corners
    assert_same_ring(feature["geometry"], intended, 3e-6)
    length, span, first = measured(page)
    assert first == "Antonov An-124 Ruslan"
    assert length == pytest.approx(68.96, abs=0.6) and span == pytest.approx(73.3, abs=0.6)

    page.reload()
    wait_for_annotations(page)
    assert_same_ring(page_geometry(page, annotation_id), feature["geometry"], DEGREE_TOLERANCE)
    page.click(f".annotation-list button[data-id='{annotation_id}']")
    page.wait_for_selector("#label-chosen:has-text('aircraft.transport.an-124')")
    length, span, first = measured(page)
    assert first == "Antonov An-124 Ruslan"
    assert length == pytest.approx(68.96, abs=0.6) and span == pytest.approx(73.3, abs=0.6)


def test_undo_and_redo_are_server_changes(demo: Demo, page: Any) -> None:
    aircraft = an_124(1)
    annotation_id = boxed(page, aircraft, "ruslan", "aircraft.transport.an-124")
    before = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
    page.locator("#map").focus()

    page.keyboard.press("Control+z")
    page.wait_for_selector("body[data-redo='1']", state="attached")
    assert demo.api("GET", f"/api/v1/annotations/{annotation_id}").status_code == 404
    expect(page.locator(f".annotation-list button[data-id='{annotation_id}']")).to_have_count(0)

    page.keyboard.press("Control+Shift+Z")
    page.wait_for_selector("body[data-redo='0']", state="attached")
    page.wait_for_selector(f".annotation-list button[data-id='{annotation_id}']")
    after = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
    assert after["geometry"] == before["geometry"]
    assert after["properties"]["label"] == "aircraft.transport.an-124"
    history = demo.api("GET", f"/api/v1/annotations/{annotation_id}/history").get_json()
    assert [r["action"] for r in history["revisions"]] == ["create", "delete", "restore"]
    assert all(r["actor"] == "analyst" for r in history["revisions"])

    # an edit is undone by restoring the version before it, again as a revision
    page.select_option("#field-confidence", "confirmed")
    page.wait_for_selector("#save-state.saved:has-text('version 4')")
    page.locator("#map").focus()
    page.keyboard.press("Control+z")
    page.wait_for_selector("body[data-redo='1']", state="attached")
    undone = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
    assert undone["properties"]["confidence"] == "probable"
    assert undone["properties"]["version"] == 5


def test_notes_are_text_and_no_dialog_fires(demo: Demo, page: Any) -> None:
    aircraft = next(a for a in demo_aircraft("2024-12-13") if a.kind == "il-76")
    go_to(page, aircraft.lat, aircraft.lon)
    west, south, east, north = north_up_box(aircraft)
    draw_box(page, west, south, east, north)
    pick_label(page, "il", "aircraft.transport.il-76")
    page.fill("#field-notes", XSS)
    annotation_id = save(page)
    assert (
        demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()["properties"]["notes"]
        == XSS
    )

    page.reload()
    wait_for_annotations(page)
    entry = page.locator(f".annotation-list button[data-id='{annotation_id}']")
    assert entry.get_attribute("title") == XSS
    entry.click()
    assert page.input_value("#field-notes") == XSS
    hover(page, (south + north) / 2, (west + east) / 2)
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert XSS in tooltip.inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert page.dialogs == []


def test_a_stale_edit_raises_the_conflict_dialog(demo: Demo, page: Any) -> None:
    aircraft = [a for a in demo_aircraft("2024-12-13") if a.kind == "il-76"][1]
    annotation_id = boxed(page, aircraft, "76", "aircraft.transport.il-76")
    path = f"/api/v1/annotations/{annotation_id}"
    etag = demo.api("GET", path).headers["ETag"]
    change = {"type": "Feature", "properties": {"notes": "editor: wing tips cut"}}
    behind = demo.api("PATCH", path, user="editor", headers={"If-Match": etag}, json=change)
    assert behind.status_code == 200, behind.get_json()

    page.select_option("#field-confidence", "confirmed")
    page.wait_for_selector("#conflict-dialog[open]")
    assert "editor: wing tips cut" in page.inner_text("#conflict-theirs")
    assert "version 2" in page.inner_text("#conflict-dialog")
    assert "conflict" in page.get_attribute("#save-state", "class")
    page.click("#conflict-keep")
    page.wait_for_selector("#save-state.saved:has-text('version 3')")
    kept = demo.api("GET", path).get_json()["properties"]
    assert kept["confidence"] == "confirmed" and kept["version"] == 3 and kept["notes"] == ""

    # the other way round: take theirs
    etag = demo.api("GET", path).headers["ETag"]
    demo.api("PATCH", path, user="editor", headers={"If-Match": etag},
             json={"type": "Feature", "properties": {"count": 2}})  # fmt: skip
    page.select_option("#field-confidence", "possible")
    page.wait_for_selector("#conflict-dialog[open]")
    page.click("#conflict-take")
    page.wait_for_selector("#save-state.saved:has-text('version 4')")
    assert page.input_value("#field-count") == "2"
    assert page.input_value("#field-confidence") == "confirmed"
    assert demo.api("GET", path).get_json()["properties"]["version"] == 4


def test_rotated_box_by_three_clicks_fits_the_aircraft(demo: Demo, page: Any) -> None:
    aircraft = an_124(1)
    go_to(page, aircraft.lat, aircraft.lon)
    ring = list(box_polygon(aircraft.lon, aircraft.lat, aircraft.length_m, aircraft.span_m,
                            aircraft.heading_deg).exterior.coords)  # fmt: skip
    page.locator("#map").focus()
    page.keyboard.press("r")
    for lon, lat in ring[:3]:
        click_at(page, lat, lon)
    page.wait_for_selector("#label-search:focus")
    length, span, first = measured(page)
    assert first == "Antonov An-124 Ruslan"
    assert length == pytest.approx(68.96, abs=0.6) and span == pytest.approx(73.3, abs=0.6)
    page.locator("#size-candidates button[data-label='aircraft.transport.an-124']").click()
    annotation_id = save(page)
    feature = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
    assert feature["properties"]["shape"] == "rotated-box"
    assert feature["properties"]["label"] == "aircraft.transport.an-124"
    drawn = feature["properties"]["measurements"]
    assert drawn["heading_deg"] == pytest.approx(aircraft.heading_deg % 180, abs=1.0) or drawn[
        "heading_deg"
    ] == pytest.approx((aircraft.heading_deg + 90) % 180, abs=1.0)


def test_a_refused_save_stays_unsaved_with_the_reason(demo: Demo, page: Any) -> None:
    aircraft = an_124(0)
    # a box a few hundred metres west of the image: the server refuses it
    lon = aircraft.lon - 0.05
    go_to(page, aircraft.lat, lon, zoom=17)
    draw_box(page, lon - 0.0003, aircraft.lat - 0.0003, lon + 0.0003, aircraft.lat + 0.0003)
    pick_label(page, "convoy", "vehicle.convoy")
    page.click("#save")
    state = page.wait_for_selector("#save-state.unsaved")
    assert "does not meet the footprint" in state.inner_text()
    expect(page.locator(".annotation-list .meta.problem").first).to_contain_text("unsaved")


def test_label_search_help_and_keyboard(demo: Demo, page: Any) -> None:
    page.locator("#map").focus()
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    help_text = page.inner_text("#help-dialog")
    for key in ("P", "B", "R", "G", "L", "Del", "Esc", "Enter", "Ctrl"):
        assert key in help_text
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog", state="hidden")

    # keyboard only: filter the list, step to an annotation, read its label
    page.locator("#filter-label").focus()
    page.keyboard.type("ruslan")
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    page.wait_for_selector("#label-chosen:has-text('aircraft.transport.an-124')")
    page.keyboard.press("/")
    page.keyboard.type("il")
    page.wait_for_selector("#label-results li[data-label='aircraft.transport.il-62']")
    options = page.eval_on_selector_all("#label-results li", "els => els.map(e => e.dataset.label)")
    assert {"aircraft.transport.il-76", "aircraft.transport.il-62"} <= set(options)

    # and draw without a mouse: arrows pan, Space puts a corner at the crosshair, Enter saves
    page.keyboard.press("Escape")
    page.locator("#map").focus()
    page.keyboard.press("b")
    page.keyboard.press(" ")
    for key in ("ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
        # Leaflet ignores an arrow key while the previous pan is still animating (0.25 s)
        page.wait_for_timeout(600)
    page.keyboard.press(" ")
    page.wait_for_selector("#label-search:focus")
    page.keyboard.type("124")
    page.wait_for_selector("#label-results li[data-label='aircraft.transport.an-124']")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_selector("#save-state.saved")
    annotation_id = selected_id(page)
    feature = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
    assert feature["properties"]["shape"] == "box"
    assert feature["properties"]["measurements"]["area_m2"] > 0


def test_a_viewer_gets_no_drawing_tools(demo: Demo, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.on("request", lambda r: None if r.url.startswith(demo.url) else demo.outside.append(r.url))
    with screenshot_on_failure(page, "workspace-viewer"):
        open_signed_in(page, demo.url, f"/images/{demo.image_id}", "viewer")
        wait_for_annotations(page)
        assert page.locator("[data-tool]").count() == 0
        page.locator("#map").focus()
        page.keyboard.press("b")
        assert page.get_attribute("body", "data-tool") in (None, "")
        page.click(".annotation-list button.entry >> nth=0")
        assert page.locator("#save").is_disabled()
    page.close()


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start, steps=2)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def test_point_polygon_and_line_by_keyboard_and_clicks(demo: Demo, page: Any) -> None:
    fighter = next(a for a in demo_aircraft("2024-12-13") if a.kind == "fighter")
    go_to(page, fighter.lat, fighter.lon, zoom=18)
    x, y = screen(page, fighter.lat, fighter.lon)
    made = {}
    page.locator("#map").focus()
    page.keyboard.press("g")  # a polygon: four clicks, Enter closes it
    for dx, dy in ((-30, -20), (30, -25), (35, 20), (-25, 25)):
        page.mouse.click(x + dx, y + dy)
    page.keyboard.press("Enter")
    page.wait_for_selector("#label-search:focus")
    pick_label(page, "su-30", "aircraft.combat.su-30sm")
    made["polygon"] = save(page)
    page.locator("#map").focus()
    page.keyboard.press("l")  # a convoy's route
    for dx, dy in ((-200, 150), (-100, 180), (0, 160), (120, 200)):
        page.mouse.click(x + dx, y + dy)
    page.keyboard.press("Enter")
    page.wait_for_selector("#label-search:focus")
    pick_label(page, "convoy", "vehicle.convoy")
    page.wait_for_selector("#measure-values dt:text-is('length')")
    made["line"] = save(page)
    page.locator("#map").focus()
    page.keyboard.press("p")
    page.mouse.click(x - 150, y - 120)
    page.wait_for_selector("#label-search:focus")
    pick_label(page, "truck", "vehicle.truck")
    made["point"] = save(page)
    kinds = {"polygon": "Polygon", "line": "LineString", "point": "Point"}
    for shape, annotation_id in made.items():
        feature = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()
        assert feature["properties"]["shape"] == shape
        assert feature["geometry"]["type"] == kinds[shape]
    polygon = demo.api("GET", f"/api/v1/annotations/{made['polygon']}").get_json()
    assert len(polygon["geometry"]["coordinates"][0]) == 5
    line = demo.api("GET", f"/api/v1/annotations/{made['line']}").get_json()
    assert len(line["geometry"]["coordinates"]) == 4
    assert line["properties"]["measurements"]["length_m"] > 0


def test_move_edit_vertices_rotate_delete_each_saved_and_undone(demo: Demo, page: Any) -> None:
    aircraft = [a for a in demo_aircraft("2024-12-13") if a.kind == "il-76"][2]
    go_to(page, aircraft.lat, aircraft.lon)
    west, south, east, north = north_up_box(aircraft)
    draw_box(page, west, south, east, north)
    pick_label(page, "il-76", "aircraft.transport.il-76")
    annotation_id = save(page)
    path = f"/api/v1/annotations/{annotation_id}"
    original = demo.api("GET", path).get_json()["geometry"]

    page.locator("#map").focus()
    page.keyboard.press("m")  # move: drag the shape 40 px to the right
    x, y = screen(page, (south + north) / 2, (west + east) / 2)
    page.wait_for_selector("[data-edit='move'][aria-pressed='true']")
    drag(page, (x, y), (x + 40, y))
    page.wait_for_selector("#save-state.saved:has-text('version 2')")
    moved = demo.api("GET", path).get_json()
    shift = moved["geometry"]["coordinates"][0][0][0] - original["coordinates"][0][0][0]
    assert shift > 1e-5, "moved east"
    assert moved["properties"]["measurements"]["width_m"] == pytest.approx(
        demo.api("GET", f"{path}/history").get_json()["revisions"][0]["after"]["properties"][
            "measurements"
        ]["width_m"],
        abs=0.05,
    ), "a move keeps the size"

    page.keyboard.press("e")  # vertices: drag one corner outwards
    page.wait_for_selector(".leaflet-marker-pane .marker-icon")
    corner = page.locator(".leaflet-marker-pane .marker-icon:not(.marker-icon-middle)").first
    box = corner.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    drag(page, (cx, cy), (cx - 25, cy - 25))
    page.wait_for_selector("#save-state.saved:has-text('version 3')")
    assert demo.api("GET", path).get_json()["geometry"] != moved["geometry"]

    page.keyboard.press("Escape")  # end editing, keep the selection
    page.keyboard.press("t")  # rotate: drag a corner handle around the centre
    page.wait_for_selector(".leaflet-marker-pane .marker-icon")
    handle = page.locator(".leaflet-marker-pane .marker-icon").first.bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    drag(page, (hx, hy), (hx + 60, hy - 40))
    page.wait_for_selector("#save-state.saved:has-text('version 4')")
    rotated = demo.api("GET", path).get_json()
    assert rotated["properties"]["shape"] == "rotated-box"
    page.keyboard.press("Escape")

    page.locator("#map").focus()
    page.keyboard.press("Control+z")  # back to version 3's content, as version 5
    page.wait_for_selector("body[data-redo='1']", state="attached")
    undone = demo.api("GET", path).get_json()
    assert undone["properties"]["version"] == 5 and undone["properties"]["shape"] == "box"

    page.click(f".annotation-list button[data-id='{annotation_id}']")
    page.locator("#map").focus()
    page.keyboard.press("Delete")
    page.wait_for_selector(f".annotation-list button[data-id='{annotation_id}']", state="detached")
    assert demo.api("GET", path).status_code == 404
    page.keyboard.press("Control+z")
    page.wait_for_selector(f".annotation-list button[data-id='{annotation_id}']")
    assert demo.api("GET", path).get_json()["geometry"] == undone["geometry"]
    actions = [r["action"] for r in demo.api("GET", f"{path}/history").get_json()["revisions"]]
    assert actions == ["create", "edit", "edit", "edit", "restore", "delete", "restore"]


def test_attributes_and_filters(demo: Demo, page: Any) -> None:
    aircraft = an_124(0)
    annotation_id = boxed(page, aircraft, "condor", "aircraft.transport.an-124")
    page.select_option("[data-attribute='state']", "nose door open")
    page.wait_for_selector("#save-state.saved:has-text('version 2')")
    page.fill("[data-attribute='heading_deg']", "262")
    page.locator("[data-attribute='heading_deg']").press("Tab")
    page.wait_for_selector("#save-state.saved:has-text('version 3')")
    page.fill("[data-attribute='heading_deg']", "400")  # above the schema's maximum
    page.locator("[data-attribute='heading_deg']").press("Tab")
    refused = page.wait_for_selector("#save-state.unsaved")
    assert "heading_deg" in refused.inner_text() and "maximum" in refused.inner_text()
    stored = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()["properties"]
    assert stored["attributes"] == {"state": "nose door open", "heading_deg": 262}
    assert stored["version"] == 3

    page.select_option("#filter-status", "approved")
    page.wait_for_selector(f".annotation-list button[data-id='{annotation_id}']", state="detached")
    statuses = page.eval_on_selector_all(
        ".annotation-list .meta", "els => els.map(e => e.textContent)"
    )
    assert statuses and all(s.startswith("approved") for s in statuses)
    page.select_option("#filter-status", "unsaved")
    page.wait_for_selector(f".annotation-list button[data-id='{annotation_id}']")
    page.select_option("#filter-status", "")
    page.select_option("#filter-author", "analyst")
    # the list redraws on the next animation frame: wait for the analyst's own entries
    page.wait_for_function(
        "() => document.querySelectorAll('.annotation-list button.entry').length >= 9"
    )
    authors = page.eval_on_selector_all(
        ".annotation-list .meta", "els => els.map(e => e.textContent)"
    )
    assert all(a.endswith("· analyst") for a in authors), authors
