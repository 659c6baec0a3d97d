"""The newsroom's pages in Arabic in Chromium, after their scripts ran (issue 16): the editor's
inbox (a mention and an annotation waiting for review, one marked read), a report's claim
thread opened with its comment and the evidence picker's chips, and the site form drawing an
area (Geoman's buttons in Arabic) leave no English interface word in the text a reader sees
nor in the title, aria-label, placeholder and alt attributes. User text (dir="auto", <bdi>,
the taxonomy's label names, people's names) and figures kept left to right are not interface
words. The console stays clean."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from annotations.catalogue.images import Provenance
from tests.annotator.test_language import KEPT
from tests.browser.arabic import english_left_on
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.newsroom import Newsroom, newsroom

SITE = "مدرج حميميم"


def english_on(page: Any, data: list[str]) -> list[tuple[str, str]]:
    return english_left_on(page, data, KEPT | {"Leaflet"})


def newsroom_in_arabic(app: Flask, geotiff: Path) -> tuple[Newsroom, str, int]:
    """An Arabic-named site and provider, an annotation approved and one waiting for review,
    a comment mentioning the editor, a report in Arabic with a claim and a comment on it;
    returns the room, the site's slug and the report's id."""
    when = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    room = newsroom(app, geotiff, when, provenance=Provenance(provider="مزوّد الصور"))
    slug = room.call("GET", "/api/v1/sites", "viewer").get_json()["sites"][0]["slug"]
    renamed = room.call("PATCH", f"/api/v1/sites/{slug}", "analyst", json={"name": SITE})
    assert renamed.status_code == 200, renamed.get_json()
    approved = room.annotation("approved")
    room.annotation("in_review", offset_m=60)
    said = room.call(
        "POST",
        f"/api/v1/annotations/{approved['id']}/comments",
        "analyst",
        json={"body": "@editor انظر إلى الأنف المفتوح"},
    )
    assert said.status_code == 201, said.get_json()
    report = room.report(
        title="طائرتان في القاعدة",
        text="هبطت طائرتان من طراز An-124 في القاعدة.",
        outlet="صحيفة المثال",
        authors=["ر. خليل"],
        language="ar",
    )
    claim = room.claim(report["id"], exact="هبطت طائرتان من طراز An-124")
    answered = room.call(
        "POST", f"/api/v1/claims/{claim['id']}/comments", "analyst", json={"body": "مؤكَّد."}
    )
    assert answered.status_code == 201, answered.get_json()
    return room, slug, int(report["id"])


def test_the_newsroom_pages_read_in_arabic_after_their_scripts(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room, slug, report = newsroom_in_arabic(app, make_geotiff())
    labels = room.call("GET", "/api/v1/labels", "viewer").get_json()["labels"]
    data = {"analyst", "editor", "admin", "viewer", slug}
    data |= {label["name"] for label in labels} | {label["id"] for label in labels}
    people = sorted(data, key=len, reverse=True)  # a name inside another goes with it
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    left: dict[str, list[tuple[str, str]]] = {}
    with screenshot_on_failure(page, "language-newsroom"):
        open_signed_in(page, live_server, "/inbox", "editor")
        page.click(".language-switch button[value=ar]")
        page.wait_for_selector("html[lang=ar][dir=rtl]")
        page.wait_for_selector("#inbox-list li.kind-mention")
        page.wait_for_selector("#waiting-list li.kind-waiting")
        assert "أشار إليك" in page.inner_text("#inbox-list li.kind-mention .inbox-line")
        assert "غير مقروءة" in page.inner_text("#inbox-count")
        left["inbox"] = english_on(page, people)
        page.locator("#inbox-list button.mark-read").first.click()
        page.wait_for_function(
            "() => document.getElementById('inbox-message').textContent === 'عُلِّم كمقروء.'"
        )
        left["inbox, marked"] = english_on(page, people)

        page.goto(f"{live_server}/reports/{report}")
        page.wait_for_selector("#activity-list li")
        toggle = page.locator("button.discussion-toggle").first
        toggle.click()
        page.wait_for_selector(".claim-thread li.comment")
        assert toggle.inner_text() == "النقاش (1)"
        assert page.locator(".claim-thread button.post-comment").inner_text() == "نشر"
        left["report, thread"] = english_on(page, people)
        page.click("button.pick-evidence")
        page.wait_for_selector("#picker-chips button.picker-chip")
        assert page.inner_text("#picker-count").startswith("نتيجة واحدة")
        left["report, picker"] = english_on(page, people)
        page.click("#picker-close")

        page.goto(f"{live_server}/sites/{slug}/edit")
        page.wait_for_selector("body[data-site-map=ready]")
        page.check("input[name=shape][value=area]")
        page.wait_for_selector(".leaflet-pm-toolbar")
        titles = page.locator(".leaflet-pm-toolbar .button-container").evaluate_all(
            "(buttons) => buttons.map((b) => b.title)"
        )
        assert "رسم مضلّع" in titles, titles
        assert page.inner_text("#site-summary").startswith("منطقة مرسومة على الخريطة")
        left["site form"] = english_on(page, people)
    page.close()
    found = {where: sorted(set(words)) for where, words in left.items() if words}
    assert found == {}, "\n".join(f"{where}: {words}" for where, words in found.items())
    assert problems == [], problems
