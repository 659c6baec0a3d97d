"""An analyst makes an event in Debian's Chromium, from the events list: the site, the window,
the window's annotations shown and ticked, saved; then edits it to hold the other one. The
event page and the API agree, and the console stays clean."""

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


@pytest.mark.browser
def test_an_analyst_makes_and_edits_an_event(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    first = room.annotation("approved")
    second = room.annotation("draft", offset_m=40)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    outside = watch_origin(page, live_server)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    with screenshot_on_failure(page, "event-form"):
        open_signed_in(page, live_server, "/events", "analyst")
        page.click("a.new-event")
        page.wait_for_selector("form.event-form")
        page.select_option("select[name=site]", index=1)
        page.fill("input[name=title]", "An-124 airlift at Hmeimim")
        page.fill("input[name=start]", "2024-12-10")
        page.fill("input[name=end]", "2024-12-13")
        page.click("button[value=show]")
        page.wait_for_selector(f"input[name=annotation][value='{first['id']}']")
        assert page.input_value("input[name=title]") == "An-124 airlift at Hmeimim"  # kept
        page.check(f"input[name=annotation][value='{first['id']}']")
        page.click("button[value=save]")
        page.wait_for_selector("h1:has-text('An-124 airlift at Hmeimim')")
        assert "1 annotation." in page.inner_text("main")
        event_id = page.url.rstrip("/").rsplit("/", 1)[1]

        page.click("a.edit-event")
        page.wait_for_selector(f"input[name=annotation][value='{first['id']}']:checked")
        page.uncheck(f"input[name=annotation][value='{first['id']}']")
        page.check(f"input[name=annotation][value='{second['id']}']")
        page.click("button[value=save]")
        page.wait_for_url(f"{live_server}/events/{event_id}")
    event = room.call("GET", f"/api/v1/events/{event_id}").get_json()
    assert event["annotation_ids"] == [second["id"]]
    assert problems == [] and outside == []
    page.close()
