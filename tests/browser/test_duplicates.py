"""Possible duplicates in a real Chromium, on the demo: the analyst draws a second box on an
An-124 that is annotated already; the save's answer warns and the panel shows it with "Same
object as this one", "Different objects" and "Show it"; marking it the same object keeps the
site page's count of An-124s on that capture where it was, with "(1 merged)"; "Different
objects" dismisses it. A "still there" copy on the compare page onto a capture that has the
object warns too, and its link opens the workspace with the warning, to mark it there. The
console stays clean: no errors, no 4xx/5xx answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from shapely.geometry import shape

from annotations.duplicates import compatible, iou, is_area
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure
from tests.browser.test_workspace import (
    Demo,
    an_124,
    draw_box,
    go_to,
    north_up_box,
    pick_label,
    save,
    served_demo,
    wait_for_annotations,
)
from tests.conftest import token_for

AN_124 = "aircraft.transport.an-124"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "duplicate-warning.png"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    yield from served_demo(tmp_path_factory, demo_template, "duplicates")


def watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    return problems


def an_124_count(demo: Demo, image_id: str) -> tuple[str, dict[str, Any]]:
    """The site of the capture and that capture's An-124 count on its timeline."""
    sites = demo.api("GET", "/api/v1/sites", user="viewer").get_json()
    for site in sites["sites"] if isinstance(sites, dict) else sites:
        timeline = demo.api("GET", f"/api/v1/sites/{site['slug']}/timeline", user="viewer")
        for capture in timeline.get_json()["captures"]:
            if capture["image_id"] == image_id:
                count = next(c for c in capture["counts"] if c["label"] == AN_124)
                return str(site["slug"]), count
    raise AssertionError(f"no site shows capture {image_id}")


def existing_an_124(demo: Demo) -> str:
    """The demo's annotation of the first An-124 on the capture."""
    aircraft = an_124(0)
    d = 0.0002
    bbox = f"{aircraft.lon - d},{aircraft.lat - d},{aircraft.lon + d},{aircraft.lat + d}"
    found = demo.api(
        "GET", f"/api/v1/annotations?image={demo.image_id}&label={AN_124}&bbox={bbox}", "viewer"
    ).get_json()["features"]
    assert found, "the demo has the An-124 annotated"
    return str(found[0]["id"])


def test_a_second_box_on_an_annotated_an_124_warns_and_is_marked_the_same_object(
    demo: Demo, browser: Any
) -> None:
    slug, before = an_124_count(demo, demo.image_id)
    original = existing_an_124(demo)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch(page)
    with screenshot_on_failure(page, "duplicates-second-box"):
        open_signed_in(page, demo.url, f"/images/{demo.image_id}", "analyst")
        wait_for_annotations(page)
        aircraft = an_124(0)
        go_to(page, aircraft.lat, aircraft.lon)
        draw_box(page, *north_up_box(aircraft))
        pick_label(page, "124", AN_124)
        second = save(page)

        panel = page.locator("#duplicate-panel")
        expect(panel).to_be_visible()
        warning = panel.locator(f".duplicate-warning[data-annotation='{original}']")
        expect(warning).to_contain_text("Possible duplicate: Antonov An-124 Ruslan on this image")
        expect(warning).to_contain_text("% (IoU)")
        _, doubled = an_124_count(demo, demo.image_id)
        assert doubled["objects"] == before["objects"] + 1  # counted twice until marked
        page.screenshot(path=str(SCREENSHOT))

        # "Show it" selects and zooms the other; back on ours, the warning is still there
        warning.locator(".same-object-show").click()
        expect(page.locator(f".annotation-list button[data-id='{original}']")).to_have_attribute(
            "aria-current", "true"
        )
        page.locator(f".annotation-list button[data-id='{second}']").click()
        expect(warning).to_be_visible()

        warning.locator(".same-object-yes").click()
        expect(page.locator("#same-object")).to_contain_text(
            "The same object as the Antonov An-124 Ruslan"
        )
        expect(page.locator(".duplicate-warning")).to_have_count(0)
        stored = demo.api("GET", f"/api/v1/annotations/{second}", "viewer").get_json()
        assert stored["properties"]["same_as"] == original
        _, after = an_124_count(demo, demo.image_id)
        assert after["objects"] == before["objects"]
        assert after["merged"] == before["merged"] + 1

        site = page.goto(f"{demo.url}/sites/{slug}")
        assert site is not None and site.status == 200
        row = page.locator(
            f".capture[data-image-id='{demo.image_id}'] .count[data-label='{AN_124}']"
        )
        expect(row).to_contain_text(f"{after['objects']} \u00d7 Antonov An-124 Ruslan")
        expect(row.locator(".merged")).to_have_text(f"({after['merged']} merged)")
    assert problems == [], problems
    page.close()


def test_different_objects_dismisses_the_warning(demo: Demo, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch(page)
    with screenshot_on_failure(page, "duplicates-dismiss"):
        open_signed_in(page, demo.url, f"/images/{demo.image_id}", "analyst")
        wait_for_annotations(page)
        aircraft = an_124(1)
        go_to(page, aircraft.lat, aircraft.lon)
        draw_box(page, *north_up_box(aircraft))
        pick_label(page, "124", AN_124)
        second = save(page)
        expect(page.locator(".duplicate-warning")).not_to_have_count(0)
        page.locator(".duplicate-warning .same-object-no").first.click()
        expect(page.locator("#duplicate-panel")).to_be_hidden()
        stored = demo.api("GET", f"/api/v1/annotations/{second}", "viewer").get_json()
        assert stored["properties"]["same_as"] is None
    assert problems == [], problems
    page.close()


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    """The live server of the compare test runs on a fresh copy of the demo."""
    return demo_app


def warns_on_copy(app: Flask, left: str, right: str) -> tuple[str, str]:
    """A left annotation whose copy onto the right capture meets one there: (it, that one)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}

    def features(image_id: str) -> list[dict[str, Any]]:
        url = f"/api/v1/annotations?image={image_id}&limit=1000"
        found: list[dict[str, Any]] = client.get(url, headers=headers).get_json()["features"]
        return found

    there = features(right)
    for feature in features(left):
        mine = shape(feature["geometry"])
        for other in there:
            theirs = shape(other["geometry"])
            if (
                compatible(feature["properties"]["label"], other["properties"]["label"])
                and is_area(mine)
                and is_area(theirs)
                and iou(mine, theirs) >= 0.5
            ):
                return str(feature["id"]), str(other["id"])
    raise AssertionError("the demo's two Hmeimim captures share no annotated object")


def test_a_still_there_copy_onto_a_capture_with_the_object_warns_and_links_to_marking_it(
    app: Flask, live_server: str, browser: Any
) -> None:
    timeline = app.test_client().get(
        "/api/v1/sites/hmeimim/timeline",
        headers={"Authorization": f"Bearer {token_for(app, 'viewer')}"},
    )
    dates = {c["captured_at"][:10]: c["image_id"] for c in timeline.get_json()["captures"]}
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    source, existing = warns_on_copy(app, left, right)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch(page)
    with screenshot_on_failure(page, "duplicates-copy"):
        open_signed_in(
            page, live_server, f"/compare?left={left}&right={right}&mode=side", "analyst"
        )
        page.wait_for_selector("body[data-left-annotations=loaded]", state="attached")
        page.locator(f"path.annotation-left[data-annotation-id='{source}']").click(force=True)
        page.wait_for_selector(".annotation-popup button.copy-to-other").click()
        page.wait_for_selector("body[data-last-copy]", state="attached")
        copied = str(page.get_attribute("body", "data-last-copy"))
        expect(page.locator("#message")).to_contain_text("Possible duplicate: that capture has")
        page.locator("#message a.duplicate-link").click()
        page.wait_for_selector(f"body[data-opened='{copied}']", state="attached", timeout=20000)
        warning = page.locator(f".duplicate-warning[data-annotation='{existing}']")
        expect(warning).to_be_visible()
        warning.locator(".same-object-yes").click()
        expect(page.locator("#same-object")).to_contain_text("The same object as the")
    assert problems == [], problems
    stored = app.test_client().get(
        f"/api/v1/annotations/{copied}",
        headers={"Authorization": f"Bearer {token_for(app, 'viewer')}"},
    )
    assert stored.get_json()["properties"]["same_as"] == existing
    page.close()
