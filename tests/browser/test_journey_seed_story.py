"""The seed story played end to end in Debian's Chromium by its people, on the demo:

- the analyst opens the 2024-12-13 Hmeimim capture, draws a rotated box on an An-124, labels
  it from the size candidates (an An-124 by its length and span) and submits it;
- the editor rejects it on /review with a comment;
- the analyst sees the comment, fixes the annotation and submits it again;
- the editor approves it, links it to the report's first claim by picking its chip, and
  publishes the report;
- a reader who is not signed in opens the embed and finds it on the map.

Every page's console stays clean (no errors, no 4xx/5xx answers, no dialogs, nothing
fetched from another origin), and each step is checked against the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from annotations.measure import box_polygon
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure
from tests.browser.test_workspace import (
    Demo,
    an_124,
    click_at,
    go_to,
    measured,
    save,
    served_demo,
    wait_for_annotations,
)

VIEWPORT = {"width": 1366, "height": 768}
COMMENT = "Nose visor: is it open? Say so in the notes <i>before</i> I approve"
FIX = "nose visor raised, ramp down (re-checked)"
SEED_TITLE = "The situation of the Russian forces in Syria"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    yield from served_demo(tmp_path_factory, demo_template, "journey")


class People:
    """Pages of the story's people, each watched for console errors, failed requests,
    dialogs and requests leaving the app."""

    def __init__(self, demo: Demo, browser: Any) -> None:
        self.demo, self.browser = demo, browser
        self.problems: list[str] = []
        self.pages: list[Any] = []

    def page(self, user: str | None, path: str) -> Any:
        page = self.browser.new_page(viewport=VIEWPORT)
        self.pages.append(page)
        who = user or "reader"
        page.on(
            "console",
            lambda m: self.problems.append(f"{who}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"{who}: page error {e}"))
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"{who}: {r.status} {r.url}") if r.status >= 400 else None
            ),
        )
        page.on(
            "dialog", lambda d: (self.problems.append(f"{who}: dialog {d.message}"), d.dismiss())
        )
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(self.demo.url)
                else self.problems.append(f"{who}: left the app for {r.url}")
            ),
        )
        if user is None:
            page.goto(f"{self.demo.url}{path}")
        else:
            open_signed_in(page, self.demo.url, path, user)
        return page


def opened(page: Any, annotation_id: str) -> None:
    page.wait_for_selector(f"body[data-opened='{annotation_id}']", state="attached", timeout=20000)


@pytest.mark.browser
def test_the_seed_story_from_drawing_to_the_embed(demo: Demo, browser: Any) -> None:
    people = People(demo, browser)
    reports = demo.api("GET", "/api/v1/reports", "editor").get_json()["reports"]
    report = next(r for r in reports if r["title"] == SEED_TITLE)
    before = demo.api("GET", f"/api/v1/reports/{report['id']}", "editor").get_json()
    claim = before["claims"][0]
    published = len(before["publications"])

    # 1. the analyst draws the An-124 on the 2024-12-13 capture, labels it by size, submits it
    analyst = people.page("analyst", f"/images/{demo.image_id}")
    with screenshot_on_failure(analyst, "journey-1-analyst-draws"):
        wait_for_annotations(analyst)
        assert "2024-12-13" in analyst.inner_text(".infobar .date")
        aircraft = an_124(1)
        go_to(analyst, aircraft.lat, aircraft.lon)
        ring = list(
            box_polygon(
                aircraft.lon, aircraft.lat, aircraft.length_m, aircraft.span_m, aircraft.heading_deg
            ).exterior.coords
        )
        analyst.locator("#map").focus()
        analyst.keyboard.press("r")
        for lon, lat in ring[:3]:
            click_at(analyst, lat, lon)
        analyst.wait_for_selector("#label-search:focus")
        length, span, first = measured(analyst)
        assert first == "Antonov An-124 Ruslan", (length, span)
        analyst.locator("#size-candidates button[data-label='aircraft.transport.an-124']").click()
        annotation_id = save(analyst)
        analyst.click("#submit-review")
        analyst.wait_for_selector("#save-state.saved:has-text('in review')")
    stored = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()["properties"]
    assert stored["label"] == "aircraft.transport.an-124" and stored["status"] == "in_review"

    # 2. the editor rejects it with a comment
    editor = people.page("editor", "/review")
    with screenshot_on_failure(editor, "journey-2-editor-rejects"):
        row = editor.locator(f"tr.item[data-id='{annotation_id}']")
        row.locator("input.comment").fill(COMMENT)
        row.locator("button.reject").click()
        expect(row).to_have_count(0)
    assert (
        demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()["properties"]["status"]
        == "rejected"
    )

    # 3. the analyst reads the comment, fixes the annotation and submits it again
    analyst.goto(f"{demo.url}/images/{demo.image_id}?annotation={annotation_id}")
    with screenshot_on_failure(analyst, "journey-3-analyst-fixes"):
        opened(analyst, annotation_id)
        comment = analyst.locator("#review-comment")
        expect(comment.locator(".text")).to_have_text(COMMENT)  # as text, never markup
        expect(comment.locator(".who")).to_contain_text("Rejected by editor")
        analyst.fill("#field-notes", FIX)
        analyst.locator("#field-notes").press("Tab")
        analyst.wait_for_selector("#save-state.saved:has-text('rejected')")
        analyst.click("#submit-review")
        analyst.wait_for_selector("#save-state.saved:has-text('in review')")
        expect(comment).to_be_hidden()
    stored = demo.api("GET", f"/api/v1/annotations/{annotation_id}").get_json()["properties"]
    assert stored["notes"] == FIX and stored["status"] == "in_review"

    # 4. the editor approves it, links it to the claim from the chips, and publishes
    editor.goto(f"{demo.url}/review")
    with screenshot_on_failure(editor, "journey-4-editor-publishes"):
        row = editor.locator(f"tr.item[data-id='{annotation_id}']")
        row.locator("button.approve").click()
        expect(row).to_have_count(0)
        editor.goto(f"{demo.url}/reports/{report['id']}")
        form = editor.locator(f"#claim-{claim['id']} form.link-form")
        form.locator("button.pick-evidence").click()
        editor.select_option("#picker-site", "hmeimim")
        editor.fill("#picker-from", "2024-12-13")
        editor.fill("#picker-to", "2024-12-13")
        editor.fill("#picker-search", "ruslan")
        chip = editor.locator(f".picker-chip[data-id='{annotation_id}']")
        expect(chip).to_contain_text("Antonov An-124 Ruslan")
        expect(chip).to_contain_text("2024-12-13")
        chip.click()
        form.locator("select[name=stance]").select_option("supports")
        form.locator("input[name=note]").fill(FIX)
        with editor.expect_navigation():
            form.locator("button[type=submit]").click()
        editor.wait_for_load_state("load")
        expect(editor.locator(f"#claim-{claim['id']} li.link")).to_have_count(
            len([x for x in before["links"] if x["claim_id"] == claim["id"]]) + 1
        )
        with editor.expect_navigation():
            editor.click("#publish")
        editor.wait_for_load_state("load")
        embed = editor.get_attribute("#embed-link", "href")
        assert embed and embed.startswith("/embed/")
        expect(editor.locator("table.publications tbody tr")).to_have_count(published + 1)
    after = demo.api("GET", f"/api/v1/reports/{report['id']}", "viewer").get_json()
    number = after["publications"][-1]["number"]
    frozen = demo.api("GET", f"/api/v1/reports/{report['id']}/publications/{number}", "viewer")
    evidence = frozen.get_json()
    assert annotation_id in [a["id"] for a in evidence["annotations"]]

    # 5. a reader who is not signed in opens the embed and finds it on the map
    reader = people.page(None, embed)
    with screenshot_on_failure(reader, "journey-5-reader"):
        reader.wait_for_selector("path.leaflet-interactive")
        drawn = reader.locator("path.leaflet-interactive").count()
        assert drawn == len(evidence["annotations"])
    for page in people.pages:
        page.close()
    assert people.problems == []
