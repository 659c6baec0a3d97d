"""The report page in Debian's Chromium: an editor selects a quote, makes it a claim, links an
annotation to it, is refused while other evidence is unapproved, unlinks it, publishes; then
the embed page, opened by someone not signed in, shows the map with that annotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.newsroom import CLAIM, newsroom

#: Where the quote's first and last characters are on screen, for a real mouse drag over it.
QUOTE_ENDS = """([quote]) => {
  const node = document.getElementById("report-text").firstChild;
  const start = node.textContent.indexOf(quote);
  const char = (at) => {
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    return range.getClientRects()[0];
  };
  const first = char(start), last = char(start + quote.length - 1);
  return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2];
}"""


@pytest.mark.browser
def test_an_editor_quotes_links_and_publishes(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    approved = room.annotation("approved")
    waiting = room.annotation("in_review", offset_m=40)
    report = room.report()
    room.link(annotation_id=waiting["id"], report_id=report["id"], note="not yet reviewed")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    outside = watch_origin(page, live_server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    path = f"/reports/{report['id']}"
    with screenshot_on_failure(page, "report-page"):
        open_signed_in(page, live_server, path, "editor")
        page.wait_for_selector("#report-text")
        assert page.locator("#make-claim").is_disabled()
        # the editor drags the mouse over the sentence, as over any text
        x0, y0, x1, y1 = page.evaluate(QUOTE_ENDS, [CLAIM])
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        page.mouse.move(x1, y1, steps=5)
        page.mouse.up()
        page.wait_for_selector("#make-claim:enabled")
        page.click("#make-claim")
        page.wait_for_selector("#report-text mark")
        assert page.inner_text("#report-text mark") == CLAIM
        assert page.inner_text(".claim blockquote") == CLAIM

        form = page.locator(".claim form.link-form")
        form.locator("input[name=target]").fill(approved["id"])
        form.locator("select[name=stance]").select_option("supports")
        form.locator("input[name=note]").fill("both noses open")
        form.locator("button[type=submit]").click()
        page.wait_for_selector(".claim li.link")
        assert "supports" in page.inner_text(".claim li.link").lower()
        assert "both noses open" in page.inner_text(".claim li.link")
        row = " ".join(page.inner_text(".claim li.link").split())
        assert "Antonov An-124 Ruslan on the 2024-12-13 capture" in row
        assert approved["id"][:8] not in row, "named, not an id"

        page.click("#publish")
        page.wait_for_selector("#publish-problems li")
        problem = page.locator(f"#publish-problems li[data-annotation='{waiting['id']}']")
        assert problem.inner_text().endswith("capture is in review: approve it")
        assert waiting["id"] not in page.inner_text("#publish-message"), "named, not an id"
        assert "cannot be published" in page.inner_text("#publish-message")
        with page.expect_navigation():  # the page reloads once the link is gone
            page.locator(f"li.link[data-annotation='{waiting['id']}'] button.unlink").click()
        page.wait_for_load_state("load")
        assert page.locator(f"li.link[data-annotation='{waiting['id']}']").count() == 0

        page.click("#publish")
        page.wait_for_selector("#embed-link")
        embed = page.get_attribute("#embed-link", "href")
        assert embed and embed.startswith("/embed/")
        assert page.locator("table.publications tbody tr").count() == 1
    assert outside == [], f"requests left the app's origin: {outside}"
    assert dialogs == []
    page.close()

    evidence = room.call("GET", f"/api/v1/reports/{report['id']}/publications/1").get_json()
    assert [a["id"] for a in evidence["annotations"]] == [approved["id"]]
    assert evidence["claims"][0]["exact"] == CLAIM

    reader = browser.new_page(viewport={"width": 1100, "height": 750})  # not signed in
    outside = watch_origin(reader, live_server)
    with screenshot_on_failure(reader, "report-embed"):
        reader.goto(f"{live_server}{embed}")
        reader.wait_for_selector("path.leaflet-interactive")
        assert reader.locator("path.leaflet-interactive").count() == 1
        reader.locator("path.leaflet-interactive").first.click()
        popup = reader.wait_for_selector(".leaflet-popup-content")
        assert popup is not None and "Antonov An-124" in popup.inner_text()
    assert outside == [], f"requests left the app's origin: {outside}"
    reader.close()


@pytest.mark.browser
def test_an_editor_deletes_a_claim_without_links(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    report = room.report()
    loose = room.claim(report["id"])
    held = room.claim(report["id"], exact="Hmeimim")
    approved = room.annotation("approved")
    assert room.link(annotation_id=approved["id"], claim_id=held["id"]).status_code == 201
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with screenshot_on_failure(page, "report-delete-claim"):
        open_signed_in(page, live_server, f"/reports/{report['id']}", "editor")
        linked = page.locator(f"#claim-{held['id']} button.delete-claim")
        assert linked.is_disabled() and "Unlink" in (linked.get_attribute("title") or "")
        # the page reloads once the server has deleted the claim: wait for that load,
        # not for the claim to vanish (every claim vanishes for a moment mid-reload)
        with page.expect_navigation():
            page.click(f"#claim-{loose['id']} button.delete-claim")
        page.wait_for_load_state("load")
        assert page.locator(f"#claim-{loose['id']}").count() == 0
        assert asked and loose["exact"][:40] in asked[0]
        assert page.locator(f"#claim-{held['id']}").count() == 1
    claims = room.call("GET", f"/api/v1/reports/{report['id']}/claims").get_json()
    assert [c["id"] for c in claims["claims"]] == [held["id"]]
    assert problems == []
    page.close()
