"""The review queue in a real browser, on the demo: analysts see it, editors decide."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import screenshot_on_failure, watch_origin
from tests.conftest import token_for

VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    return demo_app


def in_review(app: Flask) -> list[dict[str, Any]]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
    body = client.get("/api/v1/annotations?status=in_review", headers=headers).get_json()
    features: list[dict[str, Any]] = body["features"]
    return features


def feature(app: Flask, annotation_id: str) -> dict[str, Any]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
    response = client.get(f"/api/v1/annotations/{annotation_id}", headers=headers)
    result: dict[str, Any] = response.get_json()
    return result


def history(app: Flask, annotation_id: str) -> list[dict[str, Any]]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
    response = client.get(f"/api/v1/annotations/{annotation_id}/history", headers=headers)
    revisions: list[dict[str, Any]] = response.get_json()["revisions"]
    return revisions


def test_the_analyst_sees_the_queue_but_no_approve_button(
    app: Flask, live_server: str, browser: Any
) -> None:
    waiting = in_review(app)
    assert waiting, "the demo leaves some annotations in review"
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "review-analyst"):
        open_signed_in(page, live_server, "/review", "analyst")
        page.wait_for_selector("tr.item")
        shown = page.eval_on_selector_all("tr.item", "els => els.map(e => e.dataset.id)")
        assert sorted(shown) == sorted(f["id"] for f in waiting)
        assert page.locator("button").filter(has_text="Approve").count() == 0
        assert page.locator("button.approve, button.reject, input.pick").count() == 0
        assert "Only editors approve or reject them." in page.inner_text("main")
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def test_the_editor_approves_one_and_the_api_agrees(
    app: Flask, live_server: str, browser: Any
) -> None:
    target = in_review(app)[0]
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "review-approve"):
        open_signed_in(page, live_server, "/review", "editor")
        row = page.locator(f"tr.item[data-id='{target['id']}']")
        row.locator("button.approve").click()
        page.wait_for_selector(f"tr.item[data-id='{target['id']}']", state="detached")
        assert page.inner_text("#review-message") == "Approved 1 annotation."
        stored = feature(app, target["id"])
        assert stored["properties"]["status"] == "approved"
        assert stored["properties"]["version"] == target["properties"]["version"] + 1
        assert history(app, target["id"])[-1]["actor"] == "editor"
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def test_the_editor_rejects_in_bulk_with_a_comment(
    app: Flask, live_server: str, browser: Any
) -> None:
    waiting = in_review(app)
    assert len(waiting) >= 2
    page = browser.new_page(viewport=VIEWPORT)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "review-bulk-reject"):
        open_signed_in(page, live_server, "/review", "editor")
        # without a comment the page refuses before asking the server
        page.check("#select-all")
        page.click("button.reject-selected")
        assert "needs a comment" in page.inner_text("#review-message")
        assert page.locator("tr.item").count() == len(waiting)
        page.fill("#bulk-comment", "type not clear at this resolution <b>re-check</b>")
        page.click("button.reject-selected")
        page.wait_for_selector("tr.item", state="detached")
        assert page.inner_text("#review-message") == f"Rejected {len(waiting)} annotations."
        # the page was not reloaded: the heading and the empty queue say so on their own
        assert page.inner_text("#review-count") == "0 in review"
        assert "Nothing is waiting for review." in page.inner_text("main")
        for item in waiting:
            assert feature(app, item["id"])["properties"]["status"] == "rejected"
            last = history(app, item["id"])[-1]
            assert last["comment"] == "type not clear at this resolution <b>re-check</b>"
            assert last["actor"] == "editor"
        assert outside == [], f"requests left the app's origin: {outside}"
    page.close()


def test_a_bulk_that_fails_changes_nothing_and_says_why(
    app: Flask, live_server: str, browser: Any
) -> None:
    waiting = in_review(app)
    page = browser.new_page(viewport=VIEWPORT)
    with screenshot_on_failure(page, "review-stale"):
        open_signed_in(page, live_server, "/review", "editor")
        page.wait_for_selector("tr.item")
        # someone else sends one of them back to draft after the page was loaded
        moved = waiting[0]
        client = app.test_client()
        headers = {
            "Authorization": f"Bearer {token_for(app, 'editor')}",
            "If-Match": f'"{moved["id"]}-v{moved["properties"]["version"]}"',
        }
        back = client.post(
            f"/api/v1/annotations/{moved['id']}/status", json={"status": "draft"}, headers=headers
        )
        assert back.status_code == 200
        page.check("#select-all")
        page.click("button.approve-selected")
        page.wait_for_selector("#review-message.error")
        assert page.inner_text("#review-message").startswith("Nothing changed:")
        assert page.locator("tr.item").count() == len(waiting)
        for item in waiting[1:]:
            assert feature(app, item["id"])["properties"]["status"] == "in_review"
    page.close()
