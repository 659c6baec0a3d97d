"""Review: POST /api/v1/annotations/review (bulk, all or nothing) and the /review queue page."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from annotations.review import MAX_BATCH
from tests.conftest import login, token_for
from tests.newsroom import catalogued

URL = "/api/v1/annotations/review"


def bearer(app: Flask, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def submitted(
    app: Flask, client: FlaskClient, image: Any, notes: list[str]
) -> list[dict[str, Any]]:
    """Analyst drafts, each sent to review; returns them as they stand (version 2)."""
    west, south, east, north = image.bbox
    made = []
    for index, note in enumerate(notes):
        lon = west + (east - west) * (index + 1) / (len(notes) + 1)
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, (south + north) / 2]},
            "properties": {"label": "vehicle.truck", "image_id": image.id, "notes": note},
        }
        made.append(to_review(client, bearer(app, "analyst"), feature))
    return made


def to_review(client: FlaskClient, analyst: dict[str, str], feature: Any) -> dict[str, Any]:
    """`feature` made by the analyst and sent to review: the annotation as it then stands."""
    response = client.post("/api/v1/annotations", json=feature, headers=analyst)
    assert response.status_code == 201, response.get_json()
    moved = client.post(
        f"/api/v1/annotations/{response.get_json()['id']}/status",
        json={"status": "in_review"},
        headers={**analyst, "If-Match": response.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.get_json()
    result: dict[str, Any] = moved.get_json()
    return result


@pytest.fixture
def queue(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    app = app_on_each_backend
    image = catalogued(app, make_geotiff("depot.tif"))
    client = app.test_client()
    items = submitted(app, client, image, ["first", "second", "<img src=x onerror=alert(1)>"])
    return {"app": app, "client": client, "image": image, "items": items}


def state(queue: dict[str, Any]) -> list[tuple[str, int, int]]:
    """Each item's status, version and number of revisions, as stored."""
    app, client = queue["app"], queue["client"]
    viewer = bearer(app, "viewer")
    result = []
    for item in queue["items"]:
        feature = client.get(f"/api/v1/annotations/{item['id']}", headers=viewer).get_json()
        history = client.get(f"/api/v1/annotations/{item['id']}/history", headers=viewer)
        props = feature["properties"]
        result.append((props["status"], props["version"], len(history.get_json()["revisions"])))
    return result


def test_editor_approves_many_each_with_its_own_revision(queue: dict[str, Any]) -> None:
    app, client, items = queue["app"], queue["client"], queue["items"]
    ids = [item["id"] for item in items[:2]]
    ids.sort(reverse=True)  # answered in the order asked, whatever order rows are locked in
    versions = {item["id"]: item["properties"]["version"] for item in items[:2]}
    body = {"ids": ids, "action": "approve", "comment": "sizes match", "versions": versions}
    response = client.post(URL, json=body, headers=bearer(app, "editor"))
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["action"] == "approve"
    assert [f["id"] for f in answer["annotations"]] == ids
    assert state(queue) == [("approved", 3, 3), ("approved", 3, 3), ("in_review", 2, 2)]
    for annotation_id in ids:
        history = client.get(
            f"/api/v1/annotations/{annotation_id}/history", headers=bearer(app, "viewer")
        ).get_json()["revisions"]
        last = history[-1]
        assert (last["action"], last["actor"], last["comment"]) == (
            "status",
            "editor",
            "sizes match",
        )
        assert last["before"]["properties"]["status"] == "in_review"
        assert last["after"]["properties"]["status"] == "approved"


def test_bulk_reject_needs_and_keeps_a_comment(queue: dict[str, Any]) -> None:
    app, client, items = queue["app"], queue["client"], queue["items"]
    ids = [item["id"] for item in items]
    before = state(queue)
    silent = client.post(URL, json={"ids": ids, "action": "reject"}, headers=bearer(app, "editor"))
    assert silent.status_code == 422 and "comment" in silent.get_json()["message"]
    blank = client.post(
        URL, json={"ids": ids, "action": "reject", "comment": "  "}, headers=bearer(app, "editor")
    )
    assert blank.status_code == 422
    assert state(queue) == before
    # without versions: reviewed as they stand
    done = client.post(
        URL,
        json={"ids": ids, "action": "reject", "comment": "not trucks"},
        headers=bearer(app, "editor"),
    )
    assert done.status_code == 200, done.get_json()
    assert state(queue) == [("rejected", 3, 3)] * 3
    history = client.get(f"/api/v1/annotations/{ids[2]}/history", headers=bearer(app, "viewer"))
    assert history.get_json()["revisions"][-1]["comment"] == "not trucks"


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown id in the batch", 404, "not_found"),
        ("stale version in the batch", 412, "precondition_failed"),
        ("draft in the batch", 422, "invalid"),
        ("same id twice", 422, "invalid"),
        ("no ids", 422, "invalid"),
        ("ids not a list", 422, "invalid"),
        ("id not a string", 422, "invalid"),
        ("unknown action", 422, "invalid"),
        ("no action", 422, "invalid"),
        ("version not a number", 422, "invalid"),
        ("version of an id not in ids", 422, "invalid"),
        ("comment not text", 422, "invalid"),
        ("too many", 422, "invalid"),
        ("not JSON", 415, "unsupported_media_type"),
        ("broken JSON", 400, "malformed_json"),
        ("analyst", 403, "forbidden"),
        ("viewer", 403, "forbidden"),
    ],
)
def test_bad_batches_change_nothing(
    queue: dict[str, Any], case: str, status: int, code: str
) -> None:
    app, client, items = queue["app"], queue["client"], queue["items"]
    ids = [item["id"] for item in items]
    body: dict[str, Any] = {"ids": ids, "action": "approve"}
    user = "editor"
    kwargs: dict[str, Any] = {}
    if case == "unknown id in the batch":
        body["ids"] = [ids[0], "0" * 32, ids[2]]
    elif case == "stale version in the batch":
        body["versions"] = {ids[0]: 2, ids[1]: 1}
    elif case == "draft in the batch":
        back = client.post(
            f"/api/v1/annotations/{ids[1]}/status",
            json={"status": "draft"},
            headers={**bearer(app, "analyst"), "If-Match": f'"{ids[1]}-v2"'},
        )
        assert back.status_code == 200
    elif case == "same id twice":
        body["ids"] = [ids[0], ids[1], ids[0]]
    elif case == "no ids":
        body["ids"] = []
    elif case == "ids not a list":
        body["ids"] = ids[0]
    elif case == "id not a string":
        body["ids"] = [ids[0], 7]
    elif case == "unknown action":
        body["action"] = "publish"
    elif case == "no action":
        del body["action"]
    elif case == "version not a number":
        body["versions"] = {ids[0]: "2"}
    elif case == "version of an id not in ids":
        body["versions"] = {"f" * 32: 2}
    elif case == "comment not text":
        body["comment"] = ["fine"]
    elif case == "too many":
        body["ids"] = [f"{n:032x}" for n in range(MAX_BATCH + 1)]
    elif case == "not JSON":
        kwargs = {"data": "ids=1", "content_type": "application/x-www-form-urlencoded"}
    elif case == "broken JSON":
        kwargs = {"data": '{"ids": [', "content_type": "application/json"}
    elif case in ("analyst", "viewer"):
        user = case
    before = state(queue)
    request_kwargs = kwargs or {"json": body}
    response = client.post(URL, headers=bearer(app, user), **request_kwargs)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == code
    assert state(queue) == before, "nothing half-written"
    if case.endswith("in the batch"):
        assert "nothing in this batch was changed" in response.get_json()["message"]


def test_review_needs_sign_in_and_csrf(queue: dict[str, Any]) -> None:
    app = queue["app"]
    body = {"ids": [queue["items"][0]["id"]], "action": "approve"}
    assert app.test_client().post(URL, json=body).status_code == 401
    browser = app.test_client()
    token = login(browser, "editor")
    assert browser.post(URL, json=body).status_code == 400
    assert browser.post(URL, json=body, headers={"X-CSRF-Token": token}).status_code == 200


def test_queue_page_controls_only_for_editors(queue: dict[str, Any]) -> None:
    app, client = queue["app"], queue["client"]
    analyst = client.get("/review", headers=bearer(app, "analyst"))
    assert analyst.status_code == 200
    html = analyst.get_data(as_text=True)
    for item in queue["items"]:
        assert f'data-id="{item["id"]}"' in html
    assert "Approve" not in html and "Reject" not in html and "review.js" not in html
    assert 'type="checkbox"' not in html and "data-csrf" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    editor = client.get("/review", headers=bearer(app, "editor")).get_data(as_text=True)
    assert editor.count('class="approve"') == 3 and editor.count('class="reject"') == 3
    assert "review.js" in editor and 'data-api="/api/v1/annotations/review"' in editor
    assert "Approve selected" in editor and "Reject selected" in editor
    # decided items leave the queue
    ids = [item["id"] for item in queue["items"]]
    client.post(URL, json={"ids": ids, "action": "approve"}, headers=bearer(app, "editor"))
    empty = client.get("/review", headers=bearer(app, "editor")).get_data(as_text=True)
    assert "Nothing is waiting for review." in empty and "Approve selected" not in empty


def test_two_editors_reviewing_the_same_items_at_once(queue: dict[str, Any]) -> None:
    """Opposite orders, same rows: one batch wins whole, the other is refused whole."""
    import threading

    app, items = queue["app"], queue["items"]
    ids = [item["id"] for item in items]
    editor = bearer(app, "editor")
    answers: list[Any] = []

    def send(order: list[str], action: str) -> None:
        body = {"ids": order, "action": action, "comment": "checked"}
        answers.append(app.test_client().post(URL, json=body, headers=editor))

    threads = [
        threading.Thread(target=send, args=(ids, "approve")),
        threading.Thread(target=send, args=(ids[::-1], "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200, 422], [a.get_json() for a in answers]
    winner = next(a for a in answers if a.status_code == 200).get_json()
    final = "approved" if winner["action"] == "approve" else "rejected"
    assert state(queue) == [(final, 3, 3)] * 3


def test_the_queue_shows_every_shape_in_review(queue: dict[str, Any]) -> None:
    """A convoy drawn as a line has a length and no width, a point neither: the queue lists
    them with what they have (a line in review made /review answer 500 for everyone)."""
    app, client, image = queue["app"], queue["client"], queue["image"]
    west, south, east, north = image.bbox
    middle = (south + north) / 2
    analyst = bearer(app, "analyst")
    convoy = {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [
                [west + (east - west) * 0.2, middle],
                [west + (east - west) * 0.6, middle],
            ],
        },
        "properties": {"label": "vehicle.convoy", "image_id": image.id, "notes": "convoy east"},
    }
    length = to_review(client, analyst, convoy)["properties"]["measurements"]["length_m"]
    for user in ("editor", "analyst"):
        with app.test_client() as browser:
            login(browser, user)
            page = browser.get("/review")
            assert page.status_code == 200, page.get_data(as_text=True)[:300]
            html = page.get_data(as_text=True)
            assert "convoy east" in html
            assert f"{length:.1f} m long" in html


def test_the_queue_gives_an_aircraft_length_by_span_in_that_type_s_order(
    queue: dict[str, Any],
) -> None:
    """One box, about 73 m east-west by 69 m north-south: an An-124 (wider than long) reads
    "69 x 73 m (length x span)", a Tu-154 (longer than wide) "73 x 69 m": the order the
    workspace and the size references use, never the box's longer side first regardless."""
    app, client, image = queue["app"], queue["client"], queue["image"]
    west, south, east, north = image.bbox
    lon, lat = (west + east) / 2, (south + north) / 2
    half_x = 36.5 / (111_320 * math.cos(math.radians(lat)))
    half_y = 34.5 / 110_574
    ring = [
        [lon - half_x, lat - half_y],
        [lon + half_x, lat - half_y],
        [lon + half_x, lat + half_y],
        [lon - half_x, lat + half_y],
        [lon - half_x, lat - half_y],
    ]
    analyst = bearer(app, "analyst")
    sides = {}
    for label in ("aircraft.transport.an-124", "aircraft.transport.tu-154"):
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"label": label, "image_id": image.id},
        }
        sides[label] = to_review(client, analyst, feature)["properties"]["measurements"]
    m = sides["aircraft.transport.an-124"]
    long_side, short_side = max(m["length_m"], m["width_m"]), min(m["length_m"], m["width_m"])
    assert long_side - short_side > 2  # a box whose two orders differ on the page
    with app.test_client() as browser:
        login(browser, "editor")
        html = browser.get("/review").get_data(as_text=True)
    by = " \N{MULTIPLICATION SIGN} "
    assert f"{short_side:.1f}{by}{long_side:.1f} m (length{by}span)" in html  # the An-124
    assert f"{long_side:.1f}{by}{short_side:.1f} m (length{by}span)" in html  # the Tu-154
