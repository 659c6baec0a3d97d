""" "Same object as": marking an annotation the same object as another on the same capture, by
the API with If-Match and roles as for editing; the site page and its timeline, an event's
summary, the published figure and story map then count the object once and say how many were
merged. On SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import select

from annotations.newsroom.figure import figure_spec
from annotations.newsroom.publishing import Publication, frozen_evidence
from annotations.newsroom.story_map import story_map_html
from annotator import services
from tests.newsroom import Newsroom, catalogued, newsroom

SLUG = "hmeimim-apron"


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    captured = datetime(2024, 12, 13, 8, 19, tzinfo=UTC)
    return newsroom(app_on_each_backend, make_geotiff(), captured)


def etag(feature: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{feature["id"]}-v{feature["properties"]["version"]}"'}


def mark(room: Newsroom, one: dict[str, Any], other: str, user: str = "analyst") -> Any:
    return room.call(
        "POST",
        f"/api/v1/annotations/{one['id']}/same-as",
        user,
        json={"annotation": other},
        headers=etag(one),
    )


def site_counts(room: Newsroom) -> list[dict[str, Any]]:
    answer = room.call("GET", f"/api/v1/sites/{SLUG}/timeline", "viewer")
    assert answer.status_code == 200, answer.get_json()
    counts: list[dict[str, Any]] = answer.get_json()["captures"][0]["counts"]
    return counts


def test_a_second_box_marked_the_same_object_is_counted_once(room: Newsroom) -> None:
    first = room.annotation("draft")
    second = room.annotation("draft", offset_m=1)
    assert [w["annotation"] for w in second["warnings"]] == [first["id"]]
    assert [(c["objects"], c["merged"]) for c in site_counts(room)] == [(2, 0)]

    marked = mark(room, second, first["id"])
    assert marked.status_code == 200, marked.get_json()
    body = marked.get_json()
    assert body["properties"]["same_as"] == first["id"]
    assert body["properties"]["version"] == second["properties"]["version"] + 1
    [count] = site_counts(room)
    assert (count["annotations"], count["objects"], count["merged"]) == (2, 1, 1)
    page = room.call("GET", f"/sites/{SLUG}", "viewer").get_data(as_text=True)
    assert '1 \u00d7 Antonov An-124 Ruslan <span class="merged">(1 merged)</span>' in page

    # in the history, with who and why
    history = room.call("GET", f"/api/v1/annotations/{second['id']}/history", "viewer")
    last = history.get_json()["revisions"][-1]
    assert last["action"] == "edit" and last["actor"] == "analyst"
    assert last["comment"] == f"the same object as annotation {first['id']}"
    assert last["before"]["properties"]["same_as"] is None
    assert last["after"]["properties"]["same_as"] == first["id"]

    # a marked pair warns no more, either way round
    edited = room.call(
        "PATCH",
        f"/api/v1/annotations/{first['id']}",
        "analyst",
        json={"type": "Feature", "geometry": first["geometry"]},
        headers=etag(first),
    )
    assert edited.status_code == 200 and edited.get_json()["warnings"] == []

    # cleared: two objects again
    cleared = room.call(
        "DELETE", f"/api/v1/annotations/{second['id']}/same-as", "analyst", headers=etag(body)
    )
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["properties"]["same_as"] is None
    assert [(c["objects"], c["merged"]) for c in site_counts(room)] == [(2, 0)]


def test_a_deleted_or_rejected_original_leaves_the_duplicate_counted(room: Newsroom) -> None:
    first = room.annotation("draft")
    second = room.annotation("draft", offset_m=1)
    assert mark(room, second, first["id"]).status_code == 200
    gone = room.call("DELETE", f"/api/v1/annotations/{first['id']}", "analyst", headers=etag(first))
    assert gone.status_code == 200
    assert [(c["objects"], c["merged"]) for c in site_counts(room)] == [(1, 0)]


def test_a_link_to_a_marked_annotation_goes_to_the_one_it_stands_for(room: Newsroom) -> None:
    first = room.annotation("draft")
    second = room.annotation("draft", offset_m=1)
    third = room.annotation("draft", offset_m=2)
    assert mark(room, second, first["id"]).status_code == 200
    marked = mark(room, third, second["id"])
    assert marked.status_code == 200 and marked.get_json()["properties"]["same_as"] == first["id"]
    assert [(c["objects"], c["merged"]) for c in site_counts(room)] == [(1, 2)]


def test_bad_links_are_refused(room: Newsroom, make_geotiff: Callable[..., Path]) -> None:
    first = room.annotation("draft")
    second = room.annotation("draft", offset_m=1)
    itself = mark(room, first, first["id"])
    assert itself.status_code == 422 and "itself" in itself.get_json()["message"]
    unknown = mark(room, first, "0" * 32)
    assert unknown.status_code == 404
    path = f"/api/v1/annotations/{first['id']}/same-as"
    missing = room.call("POST", path, "analyst", json={}, headers=etag(first))
    assert missing.status_code == 422 and "annotation" in missing.get_json()["message"]
    not_text = room.call(
        "POST",
        f"/api/v1/annotations/{first['id']}/same-as",
        "analyst",
        json={"annotation": 12},
        headers=etag(first),
    )
    assert not_text.status_code == 422
    unmarked = room.call(
        "DELETE", f"/api/v1/annotations/{first['id']}/same-as", "analyst", headers=etag(first)
    )
    assert unmarked.status_code == 422
    no_version = room.call(
        "POST",
        f"/api/v1/annotations/{first['id']}/same-as",
        "analyst",
        json={"annotation": second["id"]},
    )
    assert no_version.status_code == 428
    # another capture
    other_image = catalogued(
        room.app, make_geotiff("other.tif", data=np.full((3, 300, 400), 7, "uint8"))
    )
    elsewhere = room.call(
        "POST",
        "/api/v1/annotations",
        "analyst",
        json={
            "type": "Feature",
            "geometry": first["geometry"],
            "properties": {"label": first["properties"]["label"], "image_id": other_image.id},
        },
    )
    assert elsewhere.status_code == 201
    across = mark(room, first, elsewhere.get_json()["id"])
    assert across.status_code == 422 and "one capture" in across.get_json()["message"]
    # a loop
    assert mark(room, second, first["id"]).status_code == 200
    loop = mark(room, first, second["id"])
    assert loop.status_code == 422 and "already" in loop.get_json()["message"]
    # roles as for editing: a viewer may not, another analyst's draft is not mine to mark
    assert mark(room, first, second["id"], user="viewer").status_code == 403
    approved = room.annotation("approved", offset_m=3)
    assert mark(room, approved, first["id"]).status_code == 403
    assert mark(room, approved, first["id"], user="editor").status_code == 200
    # nothing was half-written by the refusals
    current = room.call("GET", f"/api/v1/annotations/{first['id']}", "viewer").get_json()
    assert current["properties"]["same_as"] is None
    assert current["properties"]["version"] == first["properties"]["version"]


def test_an_event_summary_counts_the_object_once(room: Newsroom) -> None:
    first = room.annotation("approved")
    second = room.annotation("approved", offset_m=1)
    assert mark(room, second, first["id"], user="editor").status_code == 200
    made = room.call(
        "POST",
        "/api/v1/events",
        "analyst",
        json={
            "site": SLUG,
            "title": "Loading",
            "start": "2024-12-13",
            "end": "2024-12-13",
            "annotation_ids": [first["id"], second["id"]],
        },
    )
    assert made.status_code == 201, made.get_json()
    event = room.call("GET", f"/api/v1/events/{made.get_json()['id']}", "viewer").get_json()
    summary = event["summary"]
    assert summary["annotations"] == 2
    assert summary["counts"] == {"2024-12-13": {"aircraft.transport.an-124": 1}}
    assert summary["merged"] == {"2024-12-13": {"aircraft.transport.an-124": 1}}
    page = room.call("GET", f"/events/{made.get_json()['id']}", "viewer").get_data(as_text=True)
    assert "(1 merged)" in page


def test_the_published_figure_and_story_map_draw_the_object_once(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    first = room.annotation("approved")
    second = room.annotation("approved", offset_m=1)
    other = room.annotation("approved", offset_m=60)
    assert mark(room, second, first["id"], user="editor").status_code == 200
    for annotation in (first, second, other):
        linked = room.link(annotation_id=annotation["id"], claim_id=claim["id"])
        assert linked.status_code == 201, linked.get_json()
    published = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
    assert published.status_code == 201, published.get_json()
    with services.database(room.app).read() as session:
        publication = session.scalars(select(Publication)).one()
        evidence = frozen_evidence(publication, room.app.config["IMAGES_DIR"])
    spec = figure_spec(evidence, width_px=800)
    assert len(spec.overlays) == 2  # the marked second box is not drawn over the first
    assert spec.caption.startswith("3 annotations, 2 objects (1 merged) at Hmeimim apron.")
    html = story_map_html(evidence)
    assert "1 annotation marked the same object as another" in html
    assert second["id"] not in html.split('id="story-data"')[1]
