"""The site page and the compare view in a real browser, on the demo's two Hmeimim dates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.conftest import token_for

VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    """The live server runs on a copy of the demo."""
    return demo_app


def api(app: Flask, user: str = "viewer") -> Callable[[str], Any]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, user)}"}

    def get(path: str) -> Any:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        return response.get_json()

    return get


def hmeimim_dates(app: Flask) -> dict[str, str]:
    """Capture date -> image id of the demo's Hmeimim captures."""
    timeline = api(app)("/api/v1/sites/hmeimim/timeline")
    return {c["captured_at"][:10]: c["image_id"] for c in timeline["captures"]}


def annotation_ids(app: Flask, image_id: str) -> set[str]:
    features = api(app)(f"/api/v1/annotations?image={image_id}&limit=10000")["features"]
    return {feature["id"] for feature in features}


def drawn_ids(page: Any, side: str) -> set[str]:
    return set(
        page.eval_on_selector_all(
            f"path.annotation-{side}", "els => els.map(e => e.getAttribute('data-annotation-id'))"
        )
    )


def test_swipe_compare_shows_each_capture_with_its_own_annotations(
    app: Flask, live_server: str, browser: Any
) -> None:
    dates = hmeimim_dates(app)
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "compare-swipe"):
        # from the site page: pick the two dates and the swipe mode
        open_signed_in(page, live_server, "/sites/hmeimim", "analyst")
        page.select_option("select[name=left]", left)
        page.select_option("select[name=right]", right)
        page.select_option("select[name=mode]", "swipe")
        page.click(".compare-form button[type=submit]")
        page.wait_for_selector("body[data-left-annotations=loaded]", state="attached")
        page.wait_for_selector("body[data-right-annotations=loaded]", state="attached")
        assert f"left={left}" in page.url and f"right={right}" in page.url

        expected_left, expected_right = annotation_ids(app, left), annotation_ids(app, right)
        assert expected_left and expected_right and not expected_left & expected_right
        assert drawn_ids(page, "left") == expected_left
        assert drawn_ids(page, "right") == expected_right
        assert page.get_attribute("#left-count", "data-count") == str(len(expected_left))
        # both sides' tiles come from the app, each from its own capture
        for side, image_id in (("left", left), ("right", right)):
            page.wait_for_selector(
                f".leaflet-{side}Image-pane img.leaflet-tile-loaded", state="attached"
            )
            sources = page.eval_on_selector_all(
                f".leaflet-{side}Image-pane img.leaflet-tile", "els => els.map(e => e.src)"
            )
            prefix = f"{live_server}/tiles/{image_id}/"
            assert sources and all(source.startswith(prefix) for source in sources)

        # the divider clips the panes: the left capture left of it, the right one right of it
        def clip_of(pane: str) -> str:
            return str(page.eval_on_selector(f".leaflet-{pane}-pane", "e => e.style.clipPath"))

        before_left, before_right = clip_of("leftImage"), clip_of("rightImage")
        assert before_left.startswith("polygon(") and before_left != before_right
        page.focus("#swipe-range")
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        page.wait_for_selector("#map-swipe[data-swipe='55']", state="attached")
        assert clip_of("leftImage") != before_left and clip_of("rightImage") != before_right
        assert clip_of("leftVectors") == clip_of("leftImage")
        assert clip_of("rightVectors") == clip_of("rightImage")

        # with the divider at the left edge the right capture shows whole; its annotations
        # open a popup with their label, as text
        page.keyboard.press("Home")
        page.wait_for_selector("#map-swipe[data-swipe='0']", state="attached")
        first = page.locator("path.annotation-right").first
        first_id = first.get_attribute("data-annotation-id")
        first.click(force=True)
        popup = page.wait_for_selector(".annotation-popup strong")
        feature = api(app)(f"/api/v1/annotations/{first_id}")
        assert popup.inner_text() == feature["properties"]["label_name"]
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def centre(page: Any, selector: str) -> tuple[float, float]:
    lat, lon = (float(v) for v in page.get_attribute(selector, "data-center").split(","))
    return lat, lon


def assert_in_step(page: Any) -> None:
    zoom = page.get_attribute("#map-left", "data-zoom")
    assert zoom == page.get_attribute("#map-right", "data-zoom")
    pixel = 360 / (256 * 2 ** int(zoom))  # degrees of longitude per pixel at this zoom
    (lat_a, lon_a), (lat_b, lon_b) = centre(page, "#map-left"), centre(page, "#map-right")
    assert abs(lat_a - lat_b) <= pixel and abs(lon_a - lon_b) <= pixel


def moved(page: Any, selector: str, before: str) -> None:
    page.wait_for_selector(f"{selector}:not([data-center='{before}'])", state="attached")


def test_side_by_side_keeps_zoom_and_pan_in_step(
    app: Flask, live_server: str, browser: Any
) -> None:
    dates = hmeimim_dates(app)
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "compare-side-by-side"):
        open_signed_in(page, live_server, f"/compare?left={left}&right={right}&mode=side", "viewer")
        page.wait_for_selector("#map-right[data-zoom]", state="attached")
        page.wait_for_selector("body[data-right-annotations=loaded]", state="attached")
        assert drawn_ids(page, "left") == annotation_ids(app, left)
        assert drawn_ids(page, "right") == annotation_ids(app, right)
        assert_in_step(page)
        # zoom in on the left map: the right one follows
        zoom = int(page.get_attribute("#map-left", "data-zoom"))
        page.click("#map-left .leaflet-control-zoom-in")
        page.wait_for_selector(f"#map-left[data-zoom='{zoom + 1}']", state="attached")
        page.wait_for_selector(f"#map-right[data-zoom='{zoom + 1}']", state="attached")
        assert_in_step(page)
        # drag the right map with the mouse: the left one follows
        before = page.get_attribute("#map-right", "data-center")
        box = page.locator("#map-right").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 150, y + 90, steps=12)
        page.mouse.up()
        moved(page, "#map-right", before)
        assert_in_step(page)
        # pan the left map from the keyboard: the right one follows
        before = page.get_attribute("#map-left", "data-center")
        page.focus("#map-left")
        page.keyboard.press("ArrowDown")
        moved(page, "#map-left", before)
        assert_in_step(page)
        # zoom out on the right map with the keyboard
        zoom = int(page.get_attribute("#map-right", "data-zoom"))
        page.focus("#map-right")
        page.keyboard.press("Minus")
        page.wait_for_selector(f"#map-left[data-zoom='{zoom - 1}']", state="attached")
        assert_in_step(page)
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def test_still_there_copies_an_annotation_to_the_other_date(
    app: Flask, live_server: str, browser: Any
) -> None:
    dates = hmeimim_dates(app)
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "compare-still-there"):
        open_signed_in(
            page, live_server, f"/compare?left={left}&right={right}&mode=side", "analyst"
        )
        page.wait_for_selector("body[data-left-annotations=loaded]", state="attached")
        page.wait_for_selector("body[data-right-annotations=loaded]", state="attached")
        count = int(page.get_attribute("#right-count", "data-count"))
        source = page.locator("path.annotation-left").first
        source_id = source.get_attribute("data-annotation-id")
        source.click(force=True)
        button = page.wait_for_selector(".annotation-popup button.copy-to-other")
        assert button.inner_text() == "Still there on 2024-12-13"
        button.click()
        page.wait_for_selector("body[data-last-copy]", state="attached")
        copy_id = page.get_attribute("body", "data-last-copy")
        page.wait_for_selector(f"#right-count[data-count='{count + 1}']", state="attached")
        assert copy_id in drawn_ids(page, "right")
        assert "linked to the original" in page.inner_text("#message")

        original = api(app)(f"/api/v1/annotations/{source_id}")
        copy = api(app)(f"/api/v1/annotations/{copy_id}")
        assert copy["properties"]["derived_from"] == source_id
        assert copy["properties"]["image_id"] == right
        assert copy["properties"]["status"] == "draft"
        assert copy["properties"]["created_by"] == "analyst"
        assert copy["properties"]["label"] == original["properties"]["label"]
        assert copy["geometry"] == original["geometry"]
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def test_viewers_get_no_copy_button(app: Flask, live_server: str, browser: Any) -> None:
    dates = hmeimim_dates(app)
    page = browser.new_page(viewport=VIEWPORT)
    with screenshot_on_failure(page, "compare-viewer"):
        path = f"/compare?left={dates['2024-12-10']}&right={dates['2024-12-13']}&mode=side"
        open_signed_in(page, live_server, path, "viewer")
        page.wait_for_selector("body[data-left-annotations=loaded]", state="attached")
        page.locator("path.annotation-left").first.click(force=True)
        page.wait_for_selector(".annotation-popup strong")
        assert page.locator(".annotation-popup button").count() == 0
    page.close()


def test_keyboard_alone_reaches_an_annotation_and_copies_it(
    app: Flask, live_server: str, browser: Any
) -> None:
    dates = hmeimim_dates(app)
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "compare-keyboard"):
        open_signed_in(page, live_server, f"/compare?left={left}&right={right}", "analyst")
        page.wait_for_selector("body[data-right-annotations=loaded]", state="attached")
        page.focus(".compare-list summary")
        page.keyboard.press("Enter")
        first = page.locator("#right-list button").first
        source_id = first.get_attribute("data-annotation-id")
        first.focus()
        page.keyboard.press("Enter")
        # the divider moves so the right capture shows, and the popup's button has the focus
        page.wait_for_selector("#map-swipe[data-swipe='0']", state="attached")
        page.wait_for_selector(".annotation-popup button.copy-to-other:focus")
        assert page.inner_text(".annotation-popup button:focus") == "Still there on 2024-12-10"
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-last-copy]", state="attached")
        copy = api(app)(f"/api/v1/annotations/{page.get_attribute('body', 'data-last-copy')}")
        assert copy["properties"]["derived_from"] == source_id
        assert copy["properties"]["image_id"] == left
        page.wait_for_selector(f"#left-list button[data-annotation-id='{copy['id']}']")
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()
