"""GET /compare: the page's choices, refusals and what it hands its script."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask

from tests.conftest import token_for
from tests.newsroom import catalogued


def bearer(app: Flask, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def page_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="compare-data">(.*?)</script>', html, re.S
    )
    assert found, html[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def demo_dates(app: Flask) -> dict[str, str]:
    timeline = (
        app.test_client()
        .get("/api/v1/sites/hmeimim/timeline", headers=bearer(app, "viewer"))
        .get_json()
    )
    return {c["captured_at"][:10]: c["image_id"] for c in timeline["captures"]}


def test_the_page_hands_both_captures_to_its_script(demo_app: Flask) -> None:
    dates = demo_dates(demo_app)
    left, right = dates["2024-12-10"], dates["2024-12-13"]
    client = demo_app.test_client()
    response = client.get(
        f"/compare?left={left}&right={right}&mode=side", headers=bearer(demo_app, "analyst")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    data = page_data(html)
    assert data["mode"] == "side" and data["canCopy"] is True
    assert (data["left"]["id"], data["right"]["id"]) == (left, right)
    assert data["left"]["tiles"] == f"/tiles/{left}/{{z}}/{{x}}/{{y}}.png"
    assert data["right"]["captured_at"] == "2024-12-13T08:21:00Z"
    assert data["colours"]["aircraft.transport.an-124"].startswith("#")
    assert 'id="map-left"' in html and 'id="map-right"' in html and "swipe-range" not in html
    # swipe is the default mode; a viewer may look but not copy
    swipe = client.get(f"/compare?left={left}&right={right}", headers=bearer(demo_app, "viewer"))
    data = page_data(swipe.get_data(as_text=True))
    assert data["mode"] == "swipe" and data["canCopy"] is False
    assert 'id="swipe-range"' in swipe.get_data(as_text=True)


def test_one_capture_is_paired_with_the_previous_one_of_its_site(demo_app: Flask) -> None:
    timeline = (
        demo_app.test_client()
        .get("/api/v1/sites/hmeimim/timeline", headers=bearer(demo_app, "viewer"))
        .get_json()
    )
    # oldest first: 2024-12-10, the press picture stated 2024-12-13 (no time), 2024-12-13 08:21
    first, press, last = (c["image_id"] for c in timeline["captures"])
    client = demo_app.test_client()
    for given, pair in ((f"left={last}", (press, last)), (f"right={first}", (first, press))):
        html = client.get(f"/compare?{given}", headers=bearer(demo_app, "viewer"))
        data = page_data(html.get_data(as_text=True))
        assert (data["left"]["id"], data["right"]["id"]) == pair, given


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("left=0123456789abcdef0123456789abcdef&right=", 404),
        ("left={left}&right=0123456789abcdef0123456789abcdef", 404),
        ("left={left}&right={right}&mode=blink", 400),
        ("left=" + "x" * 100, 404),
    ],
)
def test_bad_requests_get_an_error_page(demo_app: Flask, query: str, status: int) -> None:
    dates = demo_dates(demo_app)
    query = query.format(left=dates["2024-12-10"], right=dates["2024-12-13"])
    response = demo_app.test_client().get(f"/compare?{query}", headers=bearer(demo_app, "viewer"))
    assert response.status_code == status
    assert response.mimetype == "text/html"


def test_a_capture_alone_at_its_site_cannot_be_paired(app: Flask, make_geotiff: Any) -> None:
    image = catalogued(app, make_geotiff("alone.tif"))
    response = app.test_client().get(f"/compare?left={image.id}", headers=bearer(app, "viewer"))
    assert response.status_code == 422
    assert "pick two images" in response.get_data(as_text=True)


def test_the_image_page_links_to_its_site_timeline_and_compare(demo_app: Flask) -> None:
    dates = demo_dates(demo_app)
    image_id = dates["2024-12-13"]
    html = demo_app.test_client().get(f"/images/{image_id}", headers=bearer(demo_app, "viewer"))
    text = html.get_data(as_text=True)
    assert 'href="/sites/hmeimim"' in text
    assert f'href="/compare?left={image_id}"' in text
