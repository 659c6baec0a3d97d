"""Comment threads, @mentions, activity feeds and the inbox over the API, on SQLite and
PostGIS: roles, visibility, bad input, and what reaches whom."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotations.catalogue.users import Role, add_user
from annotator import services
from tests.conftest import PASSWORD
from tests.newsroom import HOSTILE, Newsroom, newsroom

SITE = "/api/v1/sites/hmeimim-apron/activity"


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    captured = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    return newsroom(app_on_each_backend, make_geotiff(), captured)


def comment(room: Newsroom, path: str, body: Any, user: str = "analyst") -> Any:
    return room.call("POST", f"{path}/comments", user, json={"body": body})


def inbox(room: Newsroom, user: str, query: str = "") -> dict[str, Any]:
    answer = room.call("GET", f"/api/v1/inbox{query}", user)
    assert answer.status_code == 200, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    return found


def test_a_thread_on_an_annotation_with_mentions_withdrawal_and_bad_input(room: Newsroom) -> None:
    annotation = room.annotation("draft")
    path = f"/api/v1/annotations/{annotation['id']}"
    made = comment(room, path, "  @Editor is this the second one? @nobody, mail me at x@editor.io ")
    assert made.status_code == 201, made.get_json()
    first = made.get_json()
    assert first["body"] == "@Editor is this the second one? @nobody, mail me at x@editor.io"
    assert first["mentions"] == ["editor"], "a name in any case; no one for @nobody or e-mail"
    assert made.headers["Location"].endswith(f"/api/v1/comments/{first['id']}")
    hostile = comment(room, path, HOSTILE + " @analyst.", "editor")
    assert hostile.status_code == 201 and hostile.get_json()["body"] == HOSTILE + " @analyst."
    assert hostile.get_json()["mentions"] == ["analyst"], "a name ending a sentence"
    # everyone signed in reads it; viewers do not write
    thread = room.call("GET", f"{path}/comments", "viewer").get_json()["comments"]
    assert [c["id"] for c in thread] == [first["id"], hostile.get_json()["id"]]
    assert comment(room, path, "me too", "viewer").status_code == 403
    assert room.app.test_client().get(f"{path}/comments").status_code == 401
    # bad input: 4xx with a message, nothing written
    for body, status in (
        ("", 422),
        ("   ", 422),
        ("x" * 4001, 422),
        (12, 422),
        (None, 422),
        ("bell\x07", 422),
    ):
        answer = comment(room, path, body)
        assert answer.status_code == status, (body, answer.get_json())
        assert answer.get_json()["message"]
    extra = room.call("POST", f"{path}/comments", "analyst", json={"body": "x", "author": "eve"})
    assert extra.status_code == 422
    assert comment(room, "/api/v1/annotations/ffffffff", "hello").status_code == 404
    assert room.call("GET", "/api/v1/annotations/ffffffff/comments").status_code == 404
    assert room.call("GET", "/api/v1/comments/abc").status_code == 404
    assert len(room.call("GET", f"{path}/comments").get_json()["comments"]) == 2
    # only the author withdraws; the thread then shows who and when, not the text
    url = f"/api/v1/comments/{first['id']}"
    assert room.call("DELETE", url, "editor").status_code == 403
    gone = room.call("DELETE", url, "analyst")
    assert gone.status_code == 200 and gone.get_json()["body"] is None
    assert gone.get_json()["withdrawn_by"] == "analyst"
    assert room.call("DELETE", url, "analyst").status_code == 422, "withdrawn already"
    shown = room.call("GET", f"{path}/comments").get_json()["comments"][0]
    assert shown["body"] is None and shown["mentions"] == []
    assert "second one" not in room.call("GET", f"{path}/comments").get_data(as_text=True)
    # the annotation's history lists the thread, the withdrawal included
    history = room.call("GET", f"{path}/history", "viewer").get_json()["comments"]
    assert [(c["author"], c["withdrawn_by"]) for c in history] == [
        ("analyst", "analyst"),
        ("editor", None),
    ]


def test_claim_threads_follow_the_reports_visibility_and_stay_out_of_public_outputs(
    room: Newsroom,
) -> None:
    draft = room.report(title="Tartus (draft)")
    claim = room.claim(draft["id"])
    path = f"/api/v1/claims/{claim['id']}"
    made = comment(room, path, "@viewer the convoy is not on this capture")
    assert made.status_code == 201 and made.get_json()["report_id"] == draft["id"]
    assert room.call("GET", f"{path}/comments", "viewer").status_code == 404
    assert comment(room, path, "hello", "viewer").status_code in (403, 404)
    comment_url = f"/api/v1/comments/{made.get_json()['id']}"
    assert room.call("GET", comment_url, "viewer").status_code == 404
    assert room.call("GET", f"/api/v1/reports/{draft['id']}/activity", "viewer").status_code == 404
    assert inbox(room, "viewer")["items"] == [], "a mention on a draft stays hidden from viewers"
    assert inbox(room, "viewer")["unread"] == 0
    assert comment(room, "/api/v1/claims/999999", "hello").status_code == 404
    # a published report's claim talk is never in the public outputs
    base, publication = room.published(title="Hmeimim airlift")
    report_id = int(base.rsplit("/", 1)[1])
    claims = room.call("GET", f"{base}/claims").get_json()["claims"]
    secret = "SOURCE-NAME-NEVER-PUBLISH"
    assert comment(room, f"/api/v1/claims/{claims[0]['id']}", secret).status_code == 201
    again = room.call("POST", f"{base}/publish")
    assert again.status_code == 201, again.get_json()
    public = room.app.test_client()
    embed = public.get(again.get_json()["embed_url"])
    assert embed.status_code == 200 and secret not in embed.get_data(as_text=True)
    for output in ("map.html", "figure.svg"):
        assert secret not in room.call("GET", f"{base}/{output}").get_data(as_text=True)
    bundle = zipfile.ZipFile(io.BytesIO(room.call("GET", f"{base}/bundle.zip").get_data()))
    assert all(secret.encode() not in bundle.read(name) for name in bundle.namelist())
    assert public.get(f"/api/v1/reports/{report_id}/activity").status_code == 401
    assert public.get(f"/api/v1/claims/{claims[0]['id']}/comments").status_code == 401
    assert publication["number"] == 1
    told = room.call("GET", f"{base}/history", "analyst").get_json()["comments"]
    assert [c["body"] for c in told] == [secret]
    assert room.call("GET", f"/api/v1/reports/{draft['id']}/history", "viewer").status_code == 404


def verbs(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["actor"], e["verb"], e["subject"]["type"]) for e in entries]


def test_the_site_and_report_feeds_newest_first_and_paged(room: Newsroom) -> None:
    approved = room.annotation("approved")
    why_not = "that is an Il-76, not an An-124"
    second = room.annotation("in_review", offset_m=40)
    rejected = room.call(
        "POST",
        "/api/v1/annotations/review",
        json={"ids": [second["id"]], "action": "reject", "comment": why_not},
    )
    assert rejected.status_code == 200, rejected.get_json()
    report = room.report(title="Draft desk story")
    claim = room.claim(report["id"])
    assert room.link(annotation_id=approved["id"], claim_id=claim["id"]).status_code == 201
    assert comment(room, f"/api/v1/annotations/{approved['id']}", "nose open?").status_code == 201
    assert comment(room, f"/api/v1/claims/{claim['id']}", "sourced twice").status_code == 201
    published = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
    assert published.status_code == 201, published.get_json()

    feed = room.call("GET", SITE, "analyst").get_json()
    entries = feed["entries"]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    seen = verbs(entries)
    for expected in (
        ("analyst", "created", "annotation"),
        ("analyst", "submitted", "annotation"),
        ("editor", "approved", "annotation"),
        ("editor", "rejected", "annotation"),
        ("analyst", "linked", "link"),
        ("analyst", "commented", "annotation"),
        ("editor", "published", "publication"),
    ):
        assert expected in seen, (expected, seen)
    why = next(e for e in entries if e["verb"] == "rejected")
    assert why["comment"] == why_not
    assert why["subject"]["text"] == "Antonov An-124 Ruslan", "the label's name"
    assert seen[0] == ("editor", "published", "publication"), "the newest first"

    shown = room.call("GET", f"/api/v1/reports/{report['id']}/activity").get_json()["entries"]
    seen = verbs(shown)
    for expected in (
        ("editor", "created", "report"),
        ("editor", "created", "claim"),
        ("analyst", "linked", "link"),
        ("analyst", "commented", "claim"),
        ("editor", "published", "publication"),
    ):
        assert expected in seen, (expected, seen)

    # paging: two at a time gives the same entries, once each, in the same order
    walked: list[str] = []
    cursor = ""
    while True:
        page = room.call("GET", f"{SITE}?limit=2{cursor}").get_json()
        walked += [e["item"] for e in page["entries"]]
        if page["next"] is None:
            break
        cursor = f"&cursor={page['next']}"
    assert walked == [e["item"] for e in entries]
    for bad in ("?limit=0", "?limit=201", "?cursor=yesterday", "?cursor=1.2"):
        answer = room.call("GET", SITE + bad)
        assert answer.status_code == 422 and answer.get_json()["message"], bad
    assert room.call("GET", "/api/v1/sites/nowhere/activity").status_code == 404


def test_a_viewer_sees_no_link_to_a_draft_in_the_site_feed(room: Newsroom) -> None:
    approved = room.annotation("approved")
    draft = room.report(title="Not yet")
    assert room.link(annotation_id=approved["id"], report_id=draft["id"]).status_code == 201
    assert ("analyst", "linked", "link") in verbs(room.call("GET", SITE).get_json()["entries"])
    seen = verbs(room.call("GET", SITE, "viewer").get_json()["entries"])
    assert ("editor", "approved", "annotation") in seen
    assert all(verb != "linked" for _actor, verb, _kind in seen)


def test_the_inbox_reviews_mentions_waiting_and_marking_read(room: Newsroom) -> None:
    with services.database(room.app).write() as session:
        add_user(session, "second.analyst", Role.analyst, PASSWORD)
    waiting = room.annotation("in_review")
    assert [w["annotation"]["id"] for w in inbox(room, "editor")["waiting"]["items"]] == [
        waiting["id"]
    ]
    assert inbox(room, "analyst")["waiting"] == {"count": 0, "items": []}, "editors only"
    rejected = room.call(
        "POST",
        "/api/v1/annotations/review",
        json={"ids": [waiting["id"]], "action": "reject", "comment": "wrong type"},
    )
    assert rejected.status_code == 200
    path = f"/api/v1/annotations/{waiting['id']}"
    assert comment(room, path, "@editor fixed? it is 68 m long").status_code == 201
    assert comment(room, path, "Yes, @analyst: see the tail", "editor").status_code == 201
    assert comment(room, path, "I agree", "second.analyst").status_code == 201

    mine = inbox(room, "analyst")
    kinds = [(i["kind"], i["actor"]) for i in mine["items"]]
    assert kinds == [
        ("on your annotation", "second.analyst"),
        ("mention", "editor"),
        ("reviewed", "editor"),
    ], kinds
    review = mine["items"][2]
    assert review["verb"] == "rejected" and review["comment"] == "wrong type"
    assert review["annotation"]["label_name"] == "Antonov An-124 Ruslan"
    assert all(i["unread"] for i in mine["items"]) and mine["unread"] == 3
    editor = inbox(room, "editor")
    assert [(i["kind"], i["actor"]) for i in editor["items"]] == [("mention", "analyst")]
    assert editor["waiting"]["count"] == 0

    # marking read: one, then a bad one, then all
    marked = room.call("POST", "/api/v1/inbox/read", "analyst", json={"items": [review["item"]]})
    assert marked.status_code == 200 and marked.get_json() == {"marked": 1, "unread": 2}
    assert not inbox(room, "analyst")["items"][2]["unread"]
    for body, status in (
        ({"items": ["comment:999999"]}, 404),
        ({"items": [editor["items"][0]["item"]]}, 404),  # the editor's, not mine
        ({"items": ["<script>"]}, 422),
        ({"items": []}, 422),
        ({}, 422),
        ({"all": "yes"}, 422),
        ({"all": True, "items": [review["item"]]}, 422),
    ):
        answer = room.call("POST", "/api/v1/inbox/read", "analyst", json=body)
        assert answer.status_code == status, (body, answer.get_json())
    assert inbox(room, "analyst")["unread"] == 2, "nothing marked by a refused request"
    everything = room.call("POST", "/api/v1/inbox/read", "analyst", json={"all": True})
    assert everything.get_json() == {"marked": 2, "unread": 0}
    assert room.app.test_client().get("/api/v1/inbox").status_code == 401

    # a resubmission waits for review again, unread, even if the last one was marked read
    fetched = room.call("GET", path).get_json()
    resubmitted = room.call(
        "POST",
        f"{path}/status",
        "analyst",
        json={"status": "in_review"},
        headers={"If-Match": f'"{waiting["id"]}-v{fetched["properties"]["version"]}"'},
    )
    assert resubmitted.status_code == 200, resubmitted.get_json()
    again = inbox(room, "editor")["waiting"]
    assert again["count"] == 1 and again["items"][0]["unread"]
    people = room.call("GET", "/api/v1/people?q=SEC", "viewer").get_json()["people"]
    assert people == [{"name": "second.analyst", "role": "analyst"}]
    assert room.call("GET", "/api/v1/people?q=%25", "viewer").get_json()["people"] == []


def test_both_ways_of_reading_a_long_history_give_the_same_pages(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past feed.DENSE annotations a site's (or a person's) history is read newest first with
    a check per entry; under it, gathered from the annotations. The pages are the same."""
    from annotations.discussion import feed

    for offset in (0, 20, 40):
        made = room.annotation("rejected", offset_m=offset)
        answer = comment(room, f"/api/v1/annotations/{made['id']}", "@analyst why", "editor")
        assert answer.status_code == 201
    room.annotation("in_review", offset_m=60)

    def pages(path: str, user: str) -> list[list[str]]:
        found, cursor = [], ""
        while True:
            page = room.call("GET", f"{path}?limit=2{cursor}", user).get_json()
            found.append([e["item"] for e in page.get("entries", page.get("items", []))])
            if page["next"] is None:
                return found
            cursor = f"&cursor={page['next']}"

    gathered = (pages(SITE, "viewer"), pages("/api/v1/inbox", "analyst"))
    counted = inbox(room, "analyst")["unread"]
    monkeypatch.setattr(feed, "DENSE", 1)
    assert (pages(SITE, "viewer"), pages("/api/v1/inbox", "analyst")) == gathered
    assert inbox(room, "analyst")["unread"] == counted == 6
    assert sum(len(p) for p in gathered[1]) == 6


def test_a_site_edit_is_in_the_site_feed_under_the_site_s_name(room: Newsroom) -> None:
    slug = SITE.split("/")[4]
    renamed = room.call(
        "PATCH",
        f"/api/v1/sites/{slug}",
        "analyst",
        json={"name": "Hmeimim apron <b>west</b>", "comment": "named as the desk says it"},
    )
    assert renamed.status_code == 200, renamed.get_json()
    newest = room.call("GET", SITE, "viewer").get_json()["entries"][0]
    assert newest["subject"]["type"] == "site"
    assert newest["subject"]["text"] == "Hmeimim apron <b>west</b>", "the name, as plain text"
    assert newest["comment"] == "named as the desk says it"
