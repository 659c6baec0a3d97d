"""Discussion in a real Chromium, on the demo: the analyst comments on an annotation with an
@mention picked from the completion list, the editor finds it in the inbox (the nav's count),
opens it and replies, marks it read, and the analyst reads the reply; a thread on a report's
claim; the site's and the report's activity feeds. Each step is checked against the API, and
the console stays clean: no errors and no 4xx/5xx answers. Screenshots at 1366 x 768 go to
docs/screenshots (inbox.png, annotation-discussion.png)."""

from __future__ import annotations

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
QUESTION = "is this the second An-124? <img src=x onerror=alert(1)> the span looks short"
REPLY = "Yes, @analyst: the tail is 68 m off the first one."


@dataclass
class Demo:
    app: Flask
    url: str
    image_id: str  # the 2024-12-13 capture

    def api(self, method: str, path: str, user: str = "analyst", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token_for(self.app, user)}"}
        return self.app.test_client().open(path, method=method, headers=headers, **kwargs)

    def draft(self, index: int) -> dict[str, Any]:
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
            },
        }
        answer = self.api("POST", "/api/v1/annotations", json=feature)
        assert answer.status_code == 201, answer.get_json()
        result: dict[str, Any] = answer.get_json()
        return result

    def thread(self, annotation_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/api/v1/annotations/{annotation_id}/comments", "viewer")
        found: list[dict[str, Any]] = answer.get_json()["comments"]
        return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("discussion")
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
def open_as(demo: Demo, browser: Any) -> Iterator[Any]:
    """open_as(user, path): a signed-in page whose console errors, page errors, 4xx/5xx
    answers, dialogs and requests outside the app are collected in `problems`."""
    opened: list[Watched] = []

    def open_page(user: str, path: str) -> Watched:
        page = browser.new_page(viewport=VIEWPORT)
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on(
            "request",
            lambda r: None if r.url.startswith(demo.url) else problems.append(f"left: {r.url}"),
        )
        watched = Watched(page, problems)
        opened.append(watched)
        open_signed_in(page, demo.url, path, user)
        return watched

    yield open_page
    for watched in opened:
        watched.page.close()


def workspace(demo: Demo, annotation_id: str) -> str:
    return f"/images/{demo.image_id}?annotation={annotation_id}"


def opened(page: Any, annotation_id: str) -> None:
    page.wait_for_selector(f"body[data-opened='{annotation_id}']", state="attached", timeout=20000)
    expect(page.locator("#discussion-panel")).to_be_visible()


def unread(page: Any) -> int:
    badge = page.locator("#inbox-unread")
    return int(badge.inner_text()) if badge.count() else 0


def test_a_mention_reaches_the_editors_inbox_and_the_reply_reaches_the_analyst(
    demo: Demo, open_as: Any, request: pytest.FixtureRequest
) -> None:
    item = demo.draft(3)
    analyst = open_as("analyst", workspace(demo, item["id"]))
    page = analyst.page
    with screenshot_on_failure(page, f"discussion-{request.node.name}-analyst"):
        opened(page, item["id"])
        expect(page.locator("#discussion-thread .empty")).to_be_visible()
        box = page.locator("#discussion-thread textarea")
        box.click()
        box.press_sequentially("@edi")
        choice = page.locator(".mention-choice", has_text="editor")
        expect(choice).to_be_visible()
        box.press("Enter")  # picks the first name offered
        expect(box).to_have_value("@editor ")
        box.press_sequentially(QUESTION)
        page.click("#discussion-thread button.post-comment")
        posted = page.locator("#discussion-thread li.comment")
        expect(posted).to_have_count(1)
        expect(posted.locator(".mention")).to_have_text("@editor")
        expect(posted.locator(".comment-body")).to_have_text("@editor " + QUESTION)
        expect(page.locator("#discussion-count")).to_have_text("(1)")
        stored = demo.thread(item["id"])
        assert [c["mentions"] for c in stored] == [["editor"]]
        # typing in the thread never reached the workspace's keys (no tool, no submit)
        assert (
            demo.api("GET", f"/api/v1/annotations/{item['id']}").get_json()["properties"]["status"]
            == "draft"
        )
        assert analyst.problems == []

    editor = open_as("editor", "/inbox")
    page = editor.page
    with screenshot_on_failure(page, f"discussion-{request.node.name}-editor"):
        mention = page.locator("#inbox-list li.kind-mention").first
        expect(mention).to_contain_text("analyst mentioned you on")
        expect(mention.locator(".inbox-comment")).to_have_text("@editor " + QUESTION)
        expect(mention).to_have_class("inbox-item kind-mention unread")
        before = unread(page)
        assert before >= 1
        expect(page.locator("#inbox-count")).to_have_text(f"{before} unread")
        page.wait_for_selector("#waiting-list li")  # the demo leaves annotations in review
        page.screenshot(path=str(SCREENSHOTS / "inbox.png"))
        mention.locator("button.mark-read").click()
        expect(mention).not_to_have_class("inbox-item kind-mention unread")
        expect(page.locator("#inbox-unread")).to_have_text(str(before - 1))
        # open it: the workspace on that annotation, the thread under the panel; reply
        mention.locator("a.open").click()
        page.wait_for_url(f"**{workspace(demo, item['id'])}")
        opened(page, item["id"])
        expect(page.locator("#discussion-thread li.comment")).to_have_count(1)
        box = page.locator("#discussion-thread textarea")
        box.fill(REPLY)
        box.press("Control+Enter")
        expect(page.locator("#discussion-thread li.comment")).to_have_count(2)
        expect(page.locator("#discussion-thread .message")).to_contain_text(
            "analyst will see it in their inbox"
        )
        assert [c["author"] for c in demo.thread(item["id"])] == ["analyst", "editor"]
        assert editor.problems == []

    analyst = open_as("analyst", workspace(demo, item["id"]))
    page = analyst.page
    with screenshot_on_failure(page, f"discussion-{request.node.name}-reply"):
        opened(page, item["id"])
        reply = page.locator("#discussion-thread li.comment").nth(1)
        expect(reply.locator(".author")).to_have_text("editor")
        expect(reply.locator(".comment-body")).to_have_text(REPLY)
        expect(reply.locator(".withdraw-comment")).to_have_count(0)  # not the analyst's
        assert unread(page) >= 1
        page.locator("#discussion-panel").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "annotation-discussion.png"))
        page.goto(f"{demo.url}/inbox")
        news = page.locator("#inbox-list li.kind-mention").first
        expect(news).to_contain_text("editor mentioned you on")
        page.click("#mark-all")
        expect(page.locator("#inbox-count")).to_have_text("all read")
        expect(page.locator("#inbox-unread")).to_have_count(0)
        assert analyst.problems == []


def test_a_claim_thread_and_the_activity_feeds(
    demo: Demo, open_as: Any, request: pytest.FixtureRequest
) -> None:
    report = demo.api("GET", "/api/v1/reports", "editor").get_json()["reports"][0]
    claims = demo.api("GET", f"/api/v1/reports/{report['id']}/claims", "editor").get_json()
    claim = claims["claims"][0]
    editor = open_as("editor", f"/reports/{report['id']}")
    page = editor.page
    with screenshot_on_failure(page, f"discussion-{request.node.name}"):
        row = page.locator(f"li.claim[data-claim='{claim['id']}']")
        toggle = row.locator("button.discussion-toggle")
        toggle.click()
        thread = row.locator(".claim-thread")
        expect(thread.locator(".empty")).to_be_visible()
        thread.locator("textarea").fill("Both noses are open on the 13 December capture only.")
        thread.locator("button.post-comment").click()
        expect(thread.locator("li.comment")).to_have_count(1)
        expect(toggle).to_have_text("Discussion (1)")
        answer = demo.api("GET", f"/api/v1/claims/{claim['id']}/comments", "analyst")
        assert [c["author"] for c in answer.get_json()["comments"]] == ["editor"]
        # the report's feed, newest first, has the comment at the top after a reload
        page.reload()
        first = page.locator("#activity-list li").first
        expect(first).to_contain_text("editor commented")
        expect(first.locator("q")).to_have_text(
            "Both noses are open on the 13 December capture only."
        )
        expect(page.locator("#activity-list li", has_text="created claim")).not_to_have_count(0)
        assert editor.problems == []

    slug = demo.api("GET", "/api/v1/sites", "viewer").get_json()["sites"][0]["slug"]
    viewer = open_as("viewer", f"/sites/{slug}")
    page = viewer.page
    with screenshot_on_failure(page, f"discussion-{request.node.name}-site"):
        entries = page.locator("#activity-list li")
        expect(entries.first).to_be_visible()
        expected = demo.api("GET", f"/api/v1/sites/{slug}/activity?limit=20", "viewer")
        shown = [e["item"] for e in expected.get_json()["entries"]]
        expect(entries).to_have_count(len(shown))
        assert [entries.nth(i).get_attribute("data-item") for i in range(len(shown))] == shown
        if expected.get_json()["next"]:
            page.click("#activity-more")
            expect(entries).not_to_have_count(len(shown))
        assert viewer.problems == []
