"""The pages hold the discussion's hooks: the nav's inbox with its unread count, /inbox, the
site's and the report's activity feeds and the claims' threads; signed out, none of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from tests.conftest import login
from tests.newsroom import newsroom


def test_the_nav_counts_the_inbox_and_the_pages_carry_the_feeds(
    app: Flask, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    annotation = room.annotation("in_review")
    report = room.report()
    room.claim(report["id"])
    client = app.test_client()
    login(client, "editor")
    home = client.get("/").get_data(as_text=True)
    assert 'id="nav-inbox"' in home and 'id="inbox-unread" aria-label="1 unread">1<' in home
    page = client.get("/inbox")
    assert page.status_code == 200 and 'id="waiting-list"' in page.get_data(as_text=True)
    site = client.get("/sites/hmeimim-apron").get_data(as_text=True)
    assert 'data-api="/api/v1/sites/hmeimim-apron/activity?limit=20"' in site
    shown = client.get(f"/reports/{report['id']}").get_data(as_text=True)
    assert 'id="claim-discussion"' in shown and "report_discussion.js" in shown
    assert f'data-api="/api/v1/reports/{report["id"]}/activity?limit=20"' in shown
    image = client.get(f"/images/{annotation['properties']['image_id']}").get_data(as_text=True)
    assert 'id="discussion-panel"' in image and 'data-can-write="yes"' in image
    viewer = app.test_client()
    login(viewer, "viewer")
    assert 'data-can-write=""' in viewer.get(f"/images/{room.image_id}").get_data(as_text=True)
    assert "nav-inbox" in viewer.get("/").get_data(as_text=True)
    outsider = app.test_client()
    assert outsider.get("/inbox").status_code in (302, 401)
    assert "nav-inbox" not in outsider.get("/login").get_data(as_text=True)
