"""The review cycle in a real Chromium, on the demo: the analyst submits and withdraws (button
and key), the editor rejects on /review with a comment (the heading's count follows, and a row's
chip opens the workspace on its annotation), the analyst reads the comment, fixes and resubmits;
an approved annotation is read-only for its analyst, who is told why. Each step is checked
against the API, and the console stays clean: no errors and no 4xx/5xx answers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from annotator import services
from annotator.demo.loader import demo_image_ids
from annotator.demo.scene import demo_aircraft
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure
from tests.conftest import make_app, token_for

VIEWPORT = {"width": 1366, "height": 768}
#: the map's zoom, the zoom that shows the whole image, and whether the annotation is in view
ZOOMED = """id => {
  const b = AW.data.bounds, layer = AW.items.get(id).layer;
  const centre = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
  return [annotatorMap.getZoom(), annotatorMap.getBoundsZoom([[b[1], b[0]], [b[3], b[2]]]),
          annotatorMap.getBounds().contains(centre)];
}"""
COMMENT = "The span is short for an An-124 <b>check</b> the wing tips"


@dataclass
class Demo:
    app: Flask
    url: str
    image_id: str  # the 2024-12-13 capture

    def api(self, method: str, path: str, user: str = "analyst", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token_for(self.app, user)}"}
        headers.update(kwargs.pop("headers", {}))
        return self.app.test_client().open(path, method=method, headers=headers, **kwargs)

    def feature(self, annotation_id: str) -> dict[str, Any]:
        answer = self.api("GET", f"/api/v1/annotations/{annotation_id}", user="viewer")
        assert answer.status_code == 200, answer.get_json()
        result: dict[str, Any] = answer.get_json()
        return result

    def status(self, annotation_id: str) -> str:
        return str(self.feature(annotation_id)["properties"]["status"])

    def move(self, feature: dict[str, Any], status: str, user: str, **body: Any) -> dict[str, Any]:
        etag = f'"{feature["id"]}-v{feature["properties"]["version"]}"'
        answer = self.api(
            "POST",
            f"/api/v1/annotations/{feature['id']}/status",
            user=user,
            json={"status": status, **body},
            headers={"If-Match": etag},
        )
        assert answer.status_code == 200, answer.get_json()
        result: dict[str, Any] = answer.get_json()
        return result

    def draft(self, index: int, notes: str = "") -> dict[str, Any]:
        """The analyst's own draft: a box around the index-th aircraft of the capture."""
        aircraft = demo_aircraft("2024-12-13")[index]
        d = 0.0003
        west, south, east, north = (
            aircraft.lon - d,
            aircraft.lat - d,
            aircraft.lon + d,
            aircraft.lat + d,
        )
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "label": "aircraft.transport.an-124",
                "image_id": self.image_id,
                "shape": "polygon",
                "notes": notes,
            },
        }
        answer = self.api("POST", "/api/v1/annotations", json=feature)
        assert answer.status_code == 201, answer.get_json()
        result: dict[str, Any] = answer.get_json()
        return result

    def in_review(self) -> list[str]:
        answer = self.api("GET", "/api/v1/annotations?status=in_review&limit=1000", user="viewer")
        return [f["id"] for f in answer.get_json()["features"]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("review-cycle")
    shutil.copytree(demo_template, folder / "instance")
    app = make_app(folder)
    ids = demo_image_ids(services.database(app), folder / "instance" / "demo")
    with serving(app) as url:
        yield Demo(app, url, ids[1])
    services.database(app).dispose()


@dataclass
class Watched:
    page: Any
    problems: list[str]


@pytest.fixture
def open_as(demo: Demo, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """open_as(user, path): a signed-in page whose console errors, page errors, 4xx/5xx
    answers, dialogs and requests outside the app are collected in `problems`."""
    opened: list[Watched] = []

    def watch(page: Any) -> list[str]:
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

        def dialog(d: Any) -> None:
            problems.append(f"dialog: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)
        page.on(
            "request",
            lambda r: None if r.url.startswith(demo.url) else problems.append(f"left: {r.url}"),
        )
        return problems

    def open_page(user: str, path: str) -> Watched:
        page = browser.new_page(viewport=VIEWPORT)
        watched = Watched(page, watch(page))
        opened.append(watched)
        open_signed_in(page, demo.url, path, user)
        return watched

    yield open_page
    for watched in opened:
        watched.page.close()


def screenshot(request: pytest.FixtureRequest, watched: Watched) -> Any:
    return screenshot_on_failure(watched.page, f"review-cycle-{request.node.name}")


def workspace(demo: Demo, annotation_id: str) -> str:
    return f"/images/{demo.image_id}?annotation={annotation_id}"


def opened(page: Any, annotation_id: str) -> None:
    """The workspace has loaded and selected (and zoomed to) the annotation of its address."""
    page.wait_for_selector(f"body[data-opened='{annotation_id}']", state="attached", timeout=20000)
    expect(page.locator(f".annotation-list button[data-id='{annotation_id}']")).to_have_attribute(
        "aria-current", "true"
    )


def test_the_analyst_submits_and_withdraws_by_button_and_by_key(
    demo: Demo, open_as: Any, request: pytest.FixtureRequest
) -> None:
    first, second = demo.draft(0), demo.draft(1)
    analyst = open_as("analyst", workspace(demo, first["id"]))
    page = analyst.page
    with screenshot(request, analyst):
        opened(page, first["id"])
        expect(page.locator("#withdraw-review")).to_be_hidden()
        page.click("#submit-review")
        page.wait_for_selector("#save-state.saved:has-text('version 2 · in review')")
        assert demo.status(first["id"]) == "in_review"
        # in review it is read-only, and says how to change it
        expect(page.locator("#lock-reason")).to_contain_text("withdraw it to draft (W)")
        expect(page.locator("#save")).to_be_disabled()
        expect(page.locator("#field-notes")).to_be_disabled()
        expect(page.locator("#submit-review")).to_be_hidden()
        page.click("#withdraw-review")
        page.wait_for_selector("#save-state.saved:has-text('version 3 · draft')")
        assert demo.status(first["id"]) == "draft"
        expect(page.locator("#lock-reason")).to_be_hidden()
        expect(page.locator("#save")).to_be_enabled()

        # by key, on another one picked in the list
        page.click(f".annotation-list button[data-id='{second['id']}']")
        page.wait_for_selector("#save-state.saved:has-text('version 1 · draft')")
        page.locator("#map").focus()
        page.keyboard.press("s")
        page.wait_for_selector("#save-state.saved:has-text('version 2 · in review')")
        assert demo.status(second["id"]) == "in_review"
        entry = page.locator(f".annotation-list button[data-id='{second['id']}'] .meta")
        expect(entry).to_have_text("in review · analyst")
        page.keyboard.press("w")
        page.wait_for_selector("#save-state.saved:has-text('version 3 · draft')")
        assert demo.status(second["id"]) == "draft"

        # the keys are in the help
        page.keyboard.press("?")
        page.wait_for_selector("#help-dialog[open]")
        help_text = page.inner_text("#help-dialog")
        assert "submit the selected annotation" in help_text and "withdraw" in help_text
        page.keyboard.press("Escape")
        assert analyst.problems == []


def test_rejected_with_a_comment_then_fixed_and_resubmitted(
    demo: Demo, open_as: Any, request: pytest.FixtureRequest
) -> None:
    item = demo.move(demo.draft(2, notes="first look"), "in_review", "analyst")
    waiting = demo.in_review()
    assert len(waiting) >= 2, "the demo leaves other annotations in review"
    other = next(i for i in waiting if i != item["id"])

    editor = open_as("editor", "/review")
    page = editor.page
    with screenshot(request, editor):
        heading = page.locator("#review-count")
        expect(heading).to_have_text(f"{len(waiting)} in review")
        row = page.locator(f"tr.item[data-id='{item['id']}']")
        chip = row.locator("td.chip img")
        chip.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth === 128", arg=chip.element_handle()
        )
        assert row.locator("a.chip-link").get_attribute("href") == workspace(demo, item["id"])
        row.locator("input.comment").fill(COMMENT)
        row.locator("button.reject").click()
        expect(row).to_have_count(0)
        expect(heading).to_have_text(f"{len(waiting) - 1} in review")  # no reload
        stored = demo.feature(item["id"])["properties"]
        assert stored["status"] == "rejected" and stored["version"] == 3
        revisions = demo.api("GET", f"/api/v1/annotations/{item['id']}/history").get_json()
        assert revisions["revisions"][-1]["comment"] == COMMENT

        # another row's chip opens the workspace on that annotation, selected and zoomed to
        page.locator(f"tr.item[data-id='{other}'] a.chip-link").click()
        page.wait_for_url(re.compile(rf"/images/\w+\?annotation={other}$"))
        opened(page, other)
        zoom, whole, inside = page.evaluate(ZOOMED, other)
        assert zoom > whole, f"the map stayed on the whole image (zoom {zoom})"
        assert inside, "the annotation is not in view"
        assert editor.problems == []

    analyst = open_as("analyst", workspace(demo, item["id"]))
    page = analyst.page
    with screenshot(request, analyst):
        opened(page, item["id"])
        comment = page.locator("#review-comment")
        expect(comment).to_be_visible()
        expect(comment.locator(".text")).to_have_text(COMMENT)  # as text, never markup
        expect(comment.locator(".who")).to_contain_text("Rejected by editor on ")
        expect(page.locator("#submit-review")).to_contain_text("Submit again")
        page.fill("#field-notes", "wing tips re-checked: an Il-76")
        page.locator("#field-notes").press("Tab")
        page.wait_for_selector("#save-state.saved:has-text('version 4 · rejected')")
        stored = demo.feature(item["id"])["properties"]
        assert stored["notes"] == "wing tips re-checked: an Il-76"
        assert stored["status"] == "rejected"
        page.click("#submit-review")
        page.wait_for_selector("#save-state.saved:has-text('version 5 · in review')")
        assert demo.status(item["id"]) == "in_review"
        expect(comment).to_be_hidden()
        assert analyst.problems == []


def test_an_approved_annotation_is_read_only_for_its_analyst(
    demo: Demo, open_as: Any, request: pytest.FixtureRequest
) -> None:
    item = demo.move(demo.draft(3), "in_review", "analyst")
    item = demo.move(item, "approved", "editor")
    analyst = open_as("analyst", workspace(demo, item["id"]))
    page = analyst.page
    with screenshot(request, analyst):
        opened(page, item["id"])
        reason = page.locator("#lock-reason")
        expect(reason).to_be_visible()
        expect(reason).to_contain_text("Read-only: approved by editor")
        for control in ("#save", "#delete", "#field-notes", "#field-confidence", "#field-count"):
            expect(page.locator(control)).to_be_disabled()
        for mode in ("vertices", "move", "rotate"):
            expect(page.locator(f"[data-edit='{mode}']")).to_be_disabled()
        expect(page.locator("#submit-review")).to_be_hidden()
        expect(page.locator("#withdraw-review")).to_be_hidden()
        # the keys do nothing to it either, and say why
        page.locator("#map").focus()
        page.keyboard.press("e")
        expect(page.locator("#mode")).to_contain_text("Read-only: approved")
        assert page.evaluate("() => AW.isEditing()") is False
        page.keyboard.press("Delete")
        page.keyboard.press("Enter")
        page.keyboard.press("s")
        expect(page.locator("#save-state")).to_have_class("state saved")
        expect(page.locator("#save-state")).to_have_text("saved · version 3 · approved")
        stored = demo.feature(item["id"])["properties"]
        assert stored["status"] == "approved" and stored["version"] == 3
        assert not stored["deleted"]
        assert analyst.problems == []
