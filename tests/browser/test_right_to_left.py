"""Arabic user text in Debian's Chromium (issue 16): a report in Arabic whose sentence mixes
Arabic with "An-124", a number and parentheses shows its parts in right-to-left order (measured
from the boxes of the drawn characters), claims are not in synthetic italics, an editor draws
the figure with an Arabic caption of their own, the workspace's labels and tooltips carry their
own direction, and the story map opened from a file shows an Arabic note in order, in the
vendored font, with no request at all."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotations.newsroom.evidence import EvidenceLink
from annotations.newsroom.story_map import story_map_html
from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.newsroom import CENTRE, newsroom
from tests.story import make_evidence, two_captures

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
#: "The images showed two aircraft of the An-124 type (number 2) at the Hmeimim base."
SENTENCE = "رصدت الصور طائرتين من طراز An-124 (رقم 7) في قاعدة حميميم"
TEXT = f"تقرير تجريبي. {SENTENCE}. انتهى."
TITLE = "وضع القوات الروسية في سوريا (ترجمة)"
NOTE = "الأنف مفتوح (صورة 13 ديسمبر)"
#: the popup's note, in parentheses of the popup's own (no more inside, to find them by text)
MAP_NOTE = "الأنف مفتوح في صورة 13 ديسمبر"
CAPTION = "طائرة An-124 (رقم 7) في حميميم"

#: the left edge of each part's first occurrence inside `selector`'s text, as drawn
LEFT_OF = """([selector, parts]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  return parts.map((part) => {
    for (const node of nodes) {
      const at = node.textContent.indexOf(part);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + part.length);
      const boxes = Array.from(range.getClientRects());
      return Math.min(...boxes.map((box) => box.left));
    }
    return null;
  });
}"""


def assert_right_to_left(page: Any, selector: str, parts: list[str]) -> None:
    """`parts`, in the order they are written, are drawn from right to left."""
    lefts = page.evaluate(LEFT_OF, [selector, parts])
    assert None not in lefts, (parts, lefts)
    assert lefts == sorted(lefts, reverse=True), list(zip(parts, lefts, strict=True))


@pytest.mark.browser
def test_a_report_in_arabic_reads_right_to_left(
    app: Flask, live_server: str, browser: Any, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    report = room.report(title=TITLE, text=TEXT, language="ar", outlet="مثال")
    claim = room.claim(report["id"], exact=SENTENCE)
    approved = room.annotation("approved")
    linked = room.link(annotation_id=approved["id"], claim_id=claim["id"], note=NOTE)
    assert linked.status_code == 201, linked.get_json()
    assert room.call("POST", f"/api/v1/reports/{report['id']}/publish").status_code == 201
    # an English report quoting the Arabic sentence, and an English one
    english = room.report(language="en", text=f"The agency wrote: {SENTENCE}. Two aircraft.")
    room.claim(english["id"], exact=SENTENCE)
    room.claim(english["id"], exact="Two aircraft")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    path = f"/reports/{report['id']}"
    with screenshot_on_failure(page, "report-arabic"):
        open_signed_in(page, live_server, path, "editor")
        quote = page.locator(".claim blockquote.quote")
        assert quote.get_attribute("dir") == "auto" and quote.get_attribute("lang") == "ar"
        assert quote.evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert quote.evaluate("e => getComputedStyle(e).fontStyle") == "normal", "no fake italics"
        title = page.locator("#report-title")
        assert title.evaluate("e => getComputedStyle(e).direction") == "rtl"
        # the clauses, the model name and the parenthesis in the order Arabic reads them
        assert_right_to_left(page, ".claim blockquote.quote", ["رصدت", "An-124", "رقم", "حميميم"])
        assert_right_to_left(page, ".claim blockquote.quote", ["(", "رقم", "7", ")"])
        lefts = page.evaluate(LEFT_OF, [".claim blockquote.quote", ["An", "124"]])
        assert lefts[0] < lefts[1], "a Latin model name stays left to right inside"
        assert_right_to_left(page, "#report-text mark", ["رصدت", "An-124", "حميميم"])
        assert_right_to_left(page, "#report-title", ["وضع", "سوريا", "ترجمة"])
        note = page.locator(".claim li.link .note")
        assert note.get_attribute("dir") == "auto"
        assert_right_to_left(page, ".claim li.link .note", ["الأنف", "(", "13", ")"])
        label = page.locator(".claim li.link .label")
        assert label.evaluate("e => getComputedStyle(e).direction") == "ltr", "Latin label"
        assert page.evaluate("document.fonts.check('16px \"Noto Naskh Arabic\"', 'عربي')")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "report-arabic.png"))

        # in a report in English, an Arabic quote is upright and right-to-left too
        page.goto(f"{live_server}/reports/{english['id']}")
        quotes = page.locator(".claim blockquote.quote")
        styles = quotes.evaluate_all(
            "qs => qs.map(q => [q.textContent, getComputedStyle(q).fontStyle,"
            " getComputedStyle(q).direction])"
        )
        assert [SENTENCE, "normal", "rtl"] in styles and ["Two aircraft", "italic", "ltr"] in styles
        page.goto(f"{live_server}{path}")

        # the editor writes the figure's caption and draws it
        box = page.locator("#figure-caption")
        assert box.get_attribute("dir") == "auto"
        box.fill(CAPTION)
        with page.expect_navigation():
            page.click("#figure-caption-svg")
        caption = page.locator("svg text[direction='rtl']").first
        assert caption.text_content() == CAPTION
        assert_right_to_left(page, "svg text[direction='rtl']", ["طائرة", "An-124", "حميميم"])

        # the workspace: the label in the list and the outline's tooltip carry their direction
        page.goto(f"{live_server}/images/{room.image_id}?annotation={approved['id']}")
        page.wait_for_selector(f"body[data-opened='{approved['id']}']", state="attached")
        assert page.locator(".entry .name[dir='auto']").count() >= 1
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate(
            "([lat, lon]) => { const p = annotatorMap.latLngToContainerPoint([lat, lon]);"
            " return [p.x, p.y]; }",
            [CENTRE[1], CENTRE[0]],
        )
        for step in range(4):  # the canvas reads hovering at most every 32 ms
            page.mouse.move(box["x"] + x + step, box["y"] + y)
            page.wait_for_timeout(40)
        page.wait_for_selector(".leaflet-tooltip span[dir='auto']")
    assert problems == [], problems
    page.close()


@pytest.mark.browser
def test_story_map_from_a_file_shows_arabic_in_order_with_its_font(
    browser: Any, tmp_path: Path
) -> None:
    evidence = make_evidence(two_captures(tmp_path))
    claim = dataclasses.replace(evidence.claims[0], exact=SENTENCE)
    first = evidence.annotations[0]
    note = (EvidenceLink(stance="supports", claim_id=claim.id, note=MAP_NOTE),)
    evidence = dataclasses.replace(
        evidence,
        report=dataclasses.replace(evidence.report, language="ar", title=TITLE),
        claims=(claim,),
        annotations=(dataclasses.replace(first, links=note), *evidence.annotations[1:]),
    )
    path = tmp_path / "story-map.html"
    path.write_text(story_map_html(evidence), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 750})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    problems = watch_console(page)
    with screenshot_on_failure(page, "story-map-arabic"):
        page.goto(path.as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator(".story-title").get_attribute("dir") == "auto"
        assert page.locator(".story-title").evaluate("e => getComputedStyle(e).direction") == "rtl"
        page.locator("path.leaflet-interactive").nth(0).click(force=True)
        page.wait_for_selector(".evidence-quote")
        if not page.locator(".evidence-note").count():  # the other outline holds the note
            page.locator("path.leaflet-interactive").nth(1).click(force=True)
        page.wait_for_selector(".evidence-note")
        quote = page.locator(".evidence-quote").first
        assert quote.get_attribute("lang") == "ar"
        assert quote.evaluate("e => getComputedStyle(e).fontStyle") == "normal"
        assert_right_to_left(page, ".evidence-quote", ["رصدت", "An-124", "رقم", "حميميم"])
        # the parentheses around the Arabic note stay around it, in Arabic order inside
        assert_right_to_left(page, ".evidence-note span", ["الأنف", "13", "ديسمبر"])
        lefts = page.evaluate(LEFT_OF, [".evidence-note", ["(", "الأنف", ")"]])
        # the popup of an Arabic report reads right to left: "(" opens on the right
        assert (
            page.locator(".evidence-popup").evaluate("e => getComputedStyle(e).direction") == "rtl"
        )
        assert lefts[0] > lefts[1] > lefts[2], "the note sits inside its parentheses"
        assert page.evaluate("document.fonts.check('13px \"Noto Naskh Arabic\"', 'عربي')")
        assert page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts].some("
            "f => f.family.includes('Noto Naskh Arabic') && f.status === 'loaded'))"
        )
    assert [url for url in requests if not url.startswith("file://")] == []
    assert [url for url in requests if url.startswith("file://")] == [path.as_uri()]
    assert problems == [], problems
    page.close()
