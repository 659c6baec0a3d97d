""" "Link to report…" in the workspace, in Debian's Chromium: the analyst selects an annotation,
finds the report by a word of its title, picks a claim, a stance and a note, and links it;
linking it again is refused, and the panel says why in words (no ids)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import CLAIM, HOSTILE, newsroom

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.browser
def test_the_analyst_links_the_selected_annotation_to_a_claim(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    annotation = room.annotation("approved")
    report = room.report()
    claim = room.claim(report["id"])
    room.report(title=f"Another story {HOSTILE}")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems: list[str] = []
    refused: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def console(message: Any) -> None:
        expected = "status of 409" in message.text and message.location.get("url", "").endswith(
            "/api/v1/links"
        )  # Chromium's note of the refused duplicate
        if message.type == "error" and not expected:
            problems.append(message.text)

    page.on("console", console)

    def answered(response: Any) -> None:
        if response.status == 409 and response.url.endswith("/api/v1/links"):
            refused.append(response.url)  # the duplicate below, refused on purpose
        elif response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("response", answered)
    outside = watch_origin(page, live_server)
    path = f"/images/{room.image_id}?annotation={annotation['id']}"
    with screenshot_on_failure(page, "link-to-report"):
        open_signed_in(page, live_server, path, "analyst")
        page.wait_for_selector(f"body[data-opened='{annotation['id']}']", state="attached")
        expect(page.locator("#link-report-panel")).to_be_visible()
        page.click("#link-report-open")
        page.wait_for_selector(".link-report-choice")
        assert page.locator(".link-report-choice").count() == 2
        assert page.locator(".link-report-choice script").count() == 0, "titles are text"
        page.fill("#link-report-search", "russian syria")
        expect(page.locator(".link-report-choice")).to_have_count(1)
        page.click(".link-report-choice")
        expect(page.locator("#link-report-chosen")).to_contain_text(report["title"])
        page.wait_for_selector("#link-report-claim:enabled")
        page.select_option("#link-report-claim", str(claim["id"]))
        page.select_option("#link-report-stance", "supports")
        page.fill("#link-report-note", "both noses open")
        page.click("#link-report-submit")
        expect(page.locator("#link-report-message")).to_have_text(
            f"Linked: it supports \u201c{CLAIM}\u201d."
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "link-to-report.png"))

        page.click("#link-report-submit")  # the same link again
        message = page.locator("#link-report-message.error")
        expect(message).to_contain_text("is linked to the claim")
        text = message.inner_text()
        assert text.startswith("The Antonov An-124 Ruslan on the 2024-12-13 Hmeimim apron")
        assert annotation["id"] not in text
    assert problems == [] and outside == [] and len(refused) == 1
    page.close()
    links = room.call("GET", f"/api/v1/links?annotation={annotation['id']}").get_json()["links"]
    assert [(x["claim_id"], x["stance"], x["note"]) for x in links] == [
        (claim["id"], "supports", "both noses open")
    ]


@pytest.mark.browser
def test_viewers_are_not_offered_linking(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    annotation = room.annotation("approved")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    path = f"/images/{room.image_id}?annotation={annotation['id']}"
    open_signed_in(page, live_server, path, "viewer")
    page.wait_for_selector(f"body[data-opened='{annotation['id']}']", state="attached")
    assert page.locator("#link-report-panel").count() == 0
    assert problems == []
    page.close()
