"""Withdrawing a published report over the API, on SQLite and PostGIS: editors only, with a
required reason; the embed and the map answer 410 with the reason, the publications stay in
the record and the history, and publishing again makes the next publication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from tests.newsroom import HOSTILE, Newsroom, newsroom

REASON = "The aircraft were misidentified: they are Il-76s, not An-124s."


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    captured = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    return newsroom(app_on_each_backend, make_geotiff(), captured)


def test_an_editor_withdraws_with_a_reason_and_publishes_again(room: Newsroom) -> None:
    base, first = room.published()
    embed = first["embed_url"]
    assert room.client.get(embed).status_code == 200
    path = f"{base}/withdraw"
    assert room.call("POST", path, "analyst", json={"reason": REASON}).status_code == 403
    assert room.call("POST", path, "viewer", json={"reason": REASON}).status_code == 403
    for body in ({}, {"reason": "   "}, {"reason": 5}):
        refused = room.call("POST", path, json=body)
        assert refused.status_code in (400, 422), (body, refused.get_json())
        assert "reason" in refused.get_json()["message"]
    assert room.call("POST", path, json={"reason": "x" * 2001}).status_code == 422
    assert room.call("GET", base).get_json()["status"] == "published", "nothing half-written"

    done = room.call("POST", path, json={"reason": REASON})
    assert done.status_code == 200, done.get_json()
    report = done.get_json()
    assert report["status"] == "withdrawn" and report["embed_url"] is None
    assert report["withdrawn"]["reason"] == REASON and report["withdrawn"]["by"] == "editor"
    day = report["withdrawn"]["at"][:10]

    # the embed, read by anyone, says when and why in place of the map
    gone = room.client.get(embed)
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    page = gone.get_data(as_text=True)
    assert f"Withdrawn on {day}: {REASON}" in page and "leaflet" not in page.lower()
    assert "frame-ancestors *" in gone.headers["Content-Security-Policy"]
    shown = room.call("GET", f"{base}/map.html", "viewer")
    assert shown.status_code == 410 and REASON in shown.get_data(as_text=True)
    for output in ("figure.png", "bundle.zip"):
        answer = room.call("GET", f"{base}/{output}", "viewer")
        assert answer.status_code == 410 and answer.get_json()["error"] == "withdrawn"
        assert f"withdrawn on {day}: {REASON}" in answer.get_json()["message"]

    # the record stays: viewers still read the report, its publication, and why
    seen = room.call("GET", base, "viewer").get_json()
    assert seen["status"] == "withdrawn" and seen["withdrawn"]["reason"] == REASON
    assert [p["number"] for p in seen["publications"]] == [1]
    frozen = room.call("GET", f"{base}/publications/1", "viewer")
    assert frozen.status_code == 200 and frozen.headers["X-Content-SHA256"] == first["sha256"]
    again = room.call("POST", path, json={"reason": REASON})
    assert again.status_code == 409 and "withdrawn already" in again.get_json()["message"]
    history = room.call("GET", f"{base}/history").get_json()["changes"]
    withdrawals = [c for c in history if c["action"] == "withdraw"]
    assert len(withdrawals) == 1 and withdrawals[0]["comment"] == REASON
    assert withdrawals[0]["before"]["status"] == "published"
    assert withdrawals[0]["after"]["status"] == "withdrawn"

    # published again: the next publication, the same embed address shows the map again
    republished = room.call("POST", f"{base}/publish")
    assert republished.status_code == 201, republished.get_json()
    assert republished.get_json()["number"] == 2
    assert room.client.get(embed).status_code == 200
    after = room.call("GET", base).get_json()
    assert after["status"] == "published" and after["withdrawn"] is None
    assert [p["number"] for p in after["publications"]] == [1, 2]


def test_a_draft_cannot_be_withdrawn_and_the_reason_is_text(room: Newsroom) -> None:
    draft = room.report()
    refused = room.call("POST", f"/api/v1/reports/{draft['id']}/withdraw", json={"reason": "x"})
    assert refused.status_code == 409, refused.get_json()
    assert "is a draft: only a published report can be withdrawn" in refused.get_json()["message"]
    base, first = room.published(title="Second")
    done = room.call("POST", f"{base}/withdraw", json={"reason": HOSTILE})
    assert done.status_code == 200
    page = room.client.get(first["embed_url"]).get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert room.call("POST", "/api/v1/reports/999/withdraw", json={"reason": "x"}).status_code == (
        404
    )
