"""Reports and claims over the API, on SQLite and PostGIS: fields, roles, bad input, history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from tests.newsroom import CLAIM, TEXT, Newsroom, newsroom


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    captured = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    return newsroom(app_on_each_backend, make_geotiff(), captured)


def test_an_editor_adds_reads_and_edits_a_report(room: Newsroom) -> None:
    made = room.report(summary="Two An-124s at Hmeimim.")
    assert made["status"] == "draft" and made["version"] == 1
    assert made["url"] == "https://news.example.org/syria"
    assert made["authors"] == ["A. Reporter"]
    assert made["published_at"] == "2026-05-25T00:00:00Z"
    assert made["text"] == TEXT and made["claims"] == [] and made["links"] == []
    shown = room.call("GET", f"/api/v1/reports/{made['id']}", "viewer")
    assert shown.status_code == 404, "a draft is not shown to viewers"
    shown = room.call("GET", f"/api/v1/reports/{made['id']}", "analyst")
    assert shown.get_json()["title"] == made["title"]
    edited = room.call("PATCH", f"/api/v1/reports/{made['id']}", json={"outlet": "Other"})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["outlet"] == "Other" and edited.get_json()["version"] == 2
    assert edited.get_json()["title"] == made["title"], "PATCH keeps what it does not name"
    listed = room.call("GET", "/api/v1/reports", "analyst").get_json()["reports"]
    assert [r["id"] for r in listed] == [made["id"]]
    assert room.call("GET", "/api/v1/reports", "viewer").get_json()["reports"] == []
    history = room.call("GET", f"/api/v1/reports/{made['id']}/history").get_json()["changes"]
    assert [(c["subject"], c["action"]) for c in history] == [("report", "create"),
                                                               ("report", "edit")]  # fmt: skip
    assert history[1]["before"]["outlet"] == "Example News"
    assert history[1]["after"]["outlet"] == "Other"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "/relative/path",
        "relative/story.html",
        "//evil.example.org/x",
        "https://",
        " https://news.example.org/x",
        "ftp://news.example.org/x",
    ],
)
def test_a_url_that_is_not_absolute_http_is_refused(room: Newsroom, url: str) -> None:
    refused = room.call("POST", "/api/v1/reports", json={"title": "t", "url": url})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"] == "invalid"
    assert "url" in refused.get_json()["message"]
    assert room.call("GET", "/api/v1/reports").get_json()["reports"] == [], "nothing written"
    made = room.report()
    edited = room.call("PATCH", f"/api/v1/reports/{made['id']}", json={"url": url})
    assert edited.status_code == 422
    shown = room.call("GET", f"/api/v1/reports/{made['id']}").get_json()
    assert shown["url"] == made["url"] and shown["version"] == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 422, "title"),
        ({"title": "   "}, 422, "title"),
        ({"title": 5}, 400, "text"),
        ({"title": "t", "published_at": "yesterday"}, 422, "ISO 8601"),
        ({"title": "t", "language": "english please"}, 422, "BCP 47"),
        ({"title": "t", "authors": "A, B", "colour": "red"}, 422, "colour"),
        ({"title": "t", "coarsening": {"mode": "round"}}, 422, "metres"),
        ({"title": "t", "coarsening": {"mode": "blur"}}, 422, "mode"),
        ({"title": "x" * 501}, 422, "500"),
    ],
)
def test_bad_report_fields(room: Newsroom, body: dict[str, object], status: int, words: str
                           ) -> None:  # fmt: skip
    refused = room.call("POST", "/api/v1/reports", json=body)
    assert refused.status_code == status, refused.get_json()
    assert words in refused.get_json()["message"]


def test_roles_on_reports(room: Newsroom) -> None:
    body = {"title": "A story"}
    assert room.call("POST", "/api/v1/reports", "analyst", json=body).status_code == 403
    assert room.call("POST", "/api/v1/reports", "viewer", json=body).status_code == 403
    made = room.report()
    path = f"/api/v1/reports/{made['id']}"
    assert room.call("PATCH", path, "analyst", json=body).status_code == 403
    assert room.call("DELETE", path, "analyst").status_code == 403
    assert room.call("POST", f"{path}/claims", "analyst", json={"exact": CLAIM}).status_code == 403
    assert room.client.get(path).status_code == 401
    assert room.call("DELETE", path).status_code == 200
    assert room.call("GET", path).status_code == 404, "a deleted report is gone for everyone"


def test_claims_are_quotes_found_in_the_text(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    assert claim["exact"] == CLAIM
    start = TEXT.index(CLAIM)
    assert claim["start"] == start
    assert claim["prefix"] == TEXT[max(0, start - 32) : start]
    assert claim["suffix"] == TEXT[start + len(CLAIM) : start + len(CLAIM) + 32]
    assert claim["selector"]["type"] == "TextQuoteSelector"
    # a selector with its own context, as the report page sends it
    convoy = "a Russian convoy heading from the south of the capital towards the coast"
    made = room.call("POST", f"/api/v1/reports/{report['id']}/claims",
                     json={"selector": {"type": "TextQuoteSelector", "exact": convoy,
                                        "prefix": "Separately, ", "suffix": " was"}})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.headers["Location"].endswith(f"/claims/{made.get_json()['id']}")
    shown = room.call("GET", f"/api/v1/reports/{report['id']}").get_json()
    assert [c["exact"] for c in shown["claims"]] == [CLAIM, convoy]
    changes = room.call("GET", f"/api/v1/reports/{report['id']}/history").get_json()["changes"]
    assert [c["subject"] for c in changes].count("claim") == 2


@pytest.mark.parametrize(
    "selector",
    [
        {"exact": "three Antonov AN-124 aircraft"},
        {"exact": "two Antonov AN-124 aircraft ... at the Hmeimim base"},  # dots for the ellipsis
        {"exact": CLAIM, "prefix": "Radar images captured "},
        {"exact": CLAIM, "suffix": " in Latakia"},
        {"exact": "   "},
        {"exact": ""},
    ],
)
def test_a_quote_not_in_the_text_is_refused(room: Newsroom, selector: dict[str, str]) -> None:
    report = room.report()
    refused = room.call("POST", f"/api/v1/reports/{report['id']}/claims", json=selector)
    assert refused.status_code == 422, refused.get_json()
    shown = room.call("GET", f"/api/v1/reports/{report['id']}").get_json()
    assert shown["claims"] == [], "nothing written"


def test_a_report_without_text_takes_no_claims(room: Newsroom) -> None:
    report = room.report(text=None)
    refused = room.call("POST", f"/api/v1/reports/{report['id']}/claims", json={"exact": CLAIM})
    assert refused.status_code == 422
    assert "no text" in refused.get_json()["message"]


def test_editing_the_text_keeps_every_claim_findable(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    path = f"/api/v1/reports/{report['id']}"
    refused = room.call("PATCH", path, json={"text": "Something else entirely."})
    assert refused.status_code == 422
    assert refused.get_json()["details"]["claims"][0]["id"] == claim["id"]
    kept = room.call("PATCH", path, json={"text": "Update: " + TEXT})
    assert kept.status_code == 200
    assert kept.get_json()["claims"][0]["start"] == claim["start"] + len("Update: ")


def test_claims_of_missing_reports_and_bad_ids(room: Newsroom) -> None:
    report = room.report()
    assert room.call("POST", "/api/v1/reports/999/claims", json={"exact": CLAIM}).status_code == 404
    assert room.call("GET", "/api/v1/reports/abc").status_code == 404
    assert room.call("GET", f"/api/v1/reports/{report['id']}/claims/77").status_code == 404
    claim = room.claim(report["id"])
    path = f"/api/v1/reports/{report['id']}/claims/{claim['id']}"
    assert room.call("GET", path).get_json()["links"] == []
    assert room.call("DELETE", path).status_code == 200
    assert room.call("GET", path).status_code == 404
