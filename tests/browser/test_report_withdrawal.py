"""Withdrawing a report in Debian's Chromium: the editor opens a published report, withdraws it
with a reason (none is refused), and the page says when and why; a reader not signed in
opens the embed and reads the same instead of the map; the editor publishes it again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import newsroom

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REASON = "The aircraft were misidentified: <b>Il-76s</b>, not An-124s."


def clean_console(page: Any) -> list[str]:
    """Console errors, uncaught errors and failed requests of the page's own subresources
    (a withdrawn embed answers its document with 410 on purpose: that is the page)."""
    problems: list[str] = []

    def console(message: Any) -> None:
        gone = "status of 410" in message.text and "/embed/" in message.location.get("url", "")
        if message.type == "error" and not gone:  # Chromium's note of the 410 itself
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    return problems


@pytest.mark.browser
def test_an_editor_withdraws_a_report_and_the_embed_says_why(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    base, first = room.published()
    report_id = base.rsplit("/", 1)[1]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = clean_console(page)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "report-withdraw"):
        open_signed_in(page, live_server, f"/reports/{report_id}", "editor")
        assert page.locator("#withdrawn-notice").count() == 0
        page.click("#withdraw-box summary")
        page.fill("#withdraw-reason", "   ")
        page.click("#withdraw-submit")
        assert "Say why" in page.inner_text("#withdraw-message")
        page.fill("#withdraw-reason", REASON)
        with page.expect_navigation():
            page.click("#withdraw-submit")
        page.wait_for_load_state("load")
        notice = page.inner_text("#withdrawn-notice")
        day = datetime.now(UTC).date().isoformat()
        assert notice.startswith(f"Withdrawn on {day}: {REASON}")
        assert page.inner_text(".byline .badge") == "withdrawn"
        assert page.locator("#embed-link").count() == 0
        assert page.inner_text("#publish") == "Publish again"
        assert page.locator("#withdrawn-notice b").count() == 0, "the reason is text"
        page.locator("#report-status").scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report-withdrawn.png"))
    assert problems == [] and outside == []

    reader = browser.new_page(viewport={"width": 800, "height": 500})  # not signed in
    read_problems = clean_console(reader)
    with screenshot_on_failure(reader, "embed-withdrawn"):
        answer = reader.goto(f"{live_server}{first['embed_url']}")
        assert answer is not None and answer.status == 410
        assert reader.inner_text("#withdrawn-notice") == f"Withdrawn on {day}: {REASON}"
        assert reader.locator(".leaflet-container").count() == 0
        reader.screenshot(path=str(SCREENSHOTS / "embed-withdrawn.png"))
    assert read_problems == []
    reader.close()

    with screenshot_on_failure(page, "report-republish"):
        with page.expect_navigation():
            page.click("#publish")
        page.wait_for_load_state("load")
        page.wait_for_selector("#embed-link")
        assert page.locator("#withdrawn-notice").count() == 0
        assert page.locator("table.publications tbody tr").count() == 2
    assert problems == [] and outside == []
    page.close()
    again = browser.new_page()
    assert again.goto(f"{live_server}{first['embed_url']}").status == 200
    again.close()
