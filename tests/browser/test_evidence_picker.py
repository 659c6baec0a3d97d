"""The report page's evidence picker in Debian's Chromium: the editor links an annotation to a
claim by picking its chip (image, label, capture date, status, site), found by filtering by
label and by a search, and an event to the report as a whole; no id is typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import HOSTILE, newsroom

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def watch_console(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return problems


@pytest.mark.browser
def test_an_editor_links_evidence_by_picking_chips(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    an124 = room.annotation("approved")
    il76 = room.annotation("approved", offset_m=60, label="aircraft.transport.il-76")
    room.annotation("draft", offset_m=-60)  # not offered: the picker shows approved ones
    report = room.report()
    claim = room.claim(report["id"])
    made = room.call("POST", "/api/v1/events", "analyst",
                     json={"site": "hmeimim-apron", "title": HOSTILE, "start": "2024-12-10",
                           "end": "2024-12-14"})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    event = made.get_json()
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "evidence-picker"):
        open_signed_in(page, live_server, f"/reports/{report['id']}", "editor")
        form = page.locator(f"#claim-{claim['id']} form.link-form")
        form.locator("button.pick-evidence").click()
        page.wait_for_selector("#evidence-picker[open] .picker-chip")
        chips = page.locator("#picker-chips .picker-chip")
        assert chips.count() == 2, "the two approved annotations, not the draft"
        first = page.locator(f".picker-chip[data-id='{an124['id']}']")
        assert "Antonov An-124" in first.inner_text()
        assert "2024-12-13 \u00b7 Hmeimim apron" in first.inner_text()
        assert "approved" in first.inner_text()
        first.locator("img").evaluate("img => img.decode()")  # the chip's image is drawn
        assert first.locator("img").evaluate("img => img.naturalWidth") > 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "evidence-picker.png"))
        page.select_option("#picker-label", "aircraft.transport.il-76")
        page.wait_for_selector(f".picker-chip[data-id='{an124['id']}']", state="detached")
        assert chips.count() == 1 and page.locator(f".picker-chip[data-id='{il76['id']}']").count()
        page.select_option("#picker-label", "")
        page.wait_for_selector(f".picker-chip[data-id='{an124['id']}']")
        page.fill("#picker-search", "ruslan hmeimim")
        assert chips.count() == 1
        page.fill("#picker-search", "nothing like this")
        assert chips.count() == 0 and "Nothing matches" in page.inner_text("#picker-count")
        page.fill("#picker-search", "an-124")
        first.click()
        assert not page.is_visible("#evidence-picker")
        assert form.locator("input[name=target]").input_value() == an124["id"]
        assert "the Antonov An-124 Ruslan on the 2024-12-13" in form.locator(".picked").inner_text()
        form.locator("select[name=stance]").select_option("supports")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
        assert "Antonov An-124" in page.inner_text(f"#claim-{claim['id']} li.link")

        # an event, for the report as a whole
        whole = page.locator("form.link-form[data-claim='']")
        whole.locator("button.pick-evidence").click()
        page.select_option("#picker-kind", "event")
        page.wait_for_selector(f".picker-chip[data-kind='event'][data-id='{event['id']}']")
        chip = page.locator(f".picker-chip[data-id='{event['id']}']")
        assert chip.inner_text().startswith(HOSTILE) and chip.locator("script, img").count() == 0
        chip.click()
        assert whole.locator("select[name=kind]").input_value() == "event"
        with page.expect_navigation():
            whole.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
    assert problems == [] and outside == []
    page.close()
    links = room.call("GET", f"/api/v1/links?report={report['id']}").get_json()["links"]
    assert {(x["annotation_id"], x["event_id"], x["claim_id"]) for x in links} == {
        (an124["id"], None, claim["id"]),
        (None, event["id"], None),
    }
