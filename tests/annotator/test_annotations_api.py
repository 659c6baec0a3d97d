"""The annotations API end to end on SQLite: validation, versions, roles, history, search."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import mapping, shape

from annotations.catalogue.images import Provenance
from annotations.measure import box_polygon
from annotator import services
from annotator.intake import Upload, import_images

Header = Callable[[str], dict[str, str]]
CENTRE = (-84.4789, 33.6384)  # inside sample_geotiff.tif (Atlanta, 0.5 m)


@pytest.fixture
def app(app_on_each_backend: Flask) -> Flask:
    """Every test here runs on SQLite and on a real PostGIS server."""
    return app_on_each_backend


@pytest.fixture
def image_id(app: Flask, shared_data: Path) -> str:
    result = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(shared_data / "sample_geotiff.tif", "sample_geotiff.tif")],
        Provenance(provider="SpaceNet", licence="CC BY-SA 4.0"),
        max_pixels=10**9,
    )
    return result[0].image.id


def an_124(image_id: str, **properties: Any) -> dict[str, Any]:
    box = box_polygon(*CENTRE, length_m=68.96, width_m=73.3, heading_deg=172)
    geometry = json.loads(json.dumps(mapping(box)))
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": image_id,
            "shape": "rotated-box",
            "confidence": "confirmed",
            **properties,
        },
    }


def post(client: FlaskClient, headers: dict[str, str], body: Any) -> Any:
    return client.post("/api/v1/annotations", json=body, headers=headers)


def test_create_read_and_measure(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    analyst = auth_header("analyst")
    created = post(client, analyst, an_124(image_id, notes="nose door open"))
    assert created.status_code == 201, created.get_json()
    feature = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/annotations/{feature['id']}")
    assert created.headers["ETag"] == f'"{feature["id"]}-v1"'
    props = feature["properties"]
    assert props["label_name"] == "Antonov An-124 Ruslan"
    assert props["status"] == "draft" and props["version"] == 1 and props["created_by"] == "analyst"
    assert props["measurements"]["length_m"] == pytest.approx(73.3, abs=0.1)
    assert props["measurements"]["width_m"] == pytest.approx(68.96, abs=0.1)
    assert props["source"]["provider"] == "SpaceNet" and props["source"]["gsd_m"] == 0.5
    assert props["observed_at"] is None  # the image's capture time is unknown
    fetched = client.get(f"/api/v1/annotations/{feature['id']}", headers=analyst).get_json()
    assert shape(fetched["geometry"]).equals_exact(shape(feature["geometry"]), 1e-7)
    assert shapely.Polygon(fetched["geometry"]["coordinates"][0]).exterior.is_ccw


def test_clockwise_is_accepted_and_returned_counter_clockwise(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    body = an_124(image_id)
    body["geometry"]["coordinates"][0].reverse()
    created = post(app.test_client(), auth_header("analyst"), body)
    assert created.status_code == 201
    ring = created.get_json()["geometry"]["coordinates"][0]
    assert shapely.Polygon(ring).exterior.is_ccw


@pytest.mark.parametrize(
    ("mutate", "status", "words"),
    [
        (lambda f: "not json", 400, "object"),
        (lambda f: {**f, "type": "Thing"}, 400, "Feature"),
        (lambda f: {**f, "geometry": {"type": "Circle", "coordinates": [0, 0]}}, 400, "Circle"),
        (
            lambda f: {**f, "geometry": {"type": "Point", "coordinates": [200, 33]}},
            422,
            "longitude 200",
        ),
        (
            lambda f: {
                **f,
                "geometry": {"type": "Point", "coordinates": [33.6, -84.4]},
                "properties": {**f["properties"], "shape": "point"},
            },
            422,
            "footprint",
        ),
        (lambda f: {**f, "crs": {"type": "name"}}, 422, "crs"),
        (
            lambda f: {**f, "properties": {**f["properties"], "label": "aircraft.transport.an124"}},
            422,
            "aircraft.transport.an-124",
        ),
        (
            lambda f: {**f, "properties": {**f["properties"], "attributes": {"wingspan": 3}}},
            422,
            "wingspan",
        ),
        (
            lambda f: {**f, "properties": {**f["properties"], "confidence": "sure"}},
            422,
            "confidence",
        ),
    ],
)
def test_validation(
    app: Flask, image_id: str, auth_header: Header, mutate: Any, status: int, words: str
) -> None:
    response = post(app.test_client(), auth_header("analyst"), mutate(an_124(image_id)))
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["message"]


def test_nan_and_open_rings(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    for constant in ("Infinity", "-Infinity", "1e309"):
        raw = re.sub(r"33\.6[0-9]*", constant, json.dumps(an_124(image_id)), count=1)
        json.loads(raw)  # Python's own parser takes all three as floats; the API must not
        refused = client.post(
            "/api/v1/annotations",
            data=raw,
            headers=auth_header("analyst"),
            content_type="application/json",
        )
        assert refused.status_code == 400, constant
        assert "finite" in refused.get_json()["message"], constant
    raw = json.dumps(an_124(image_id)).replace("33.6", "NaN", 1)
    nan = client.post(
        "/api/v1/annotations",
        data=raw,
        headers=auth_header("analyst"),
        content_type="application/json",
    )
    assert nan.status_code == 400
    body = an_124(image_id)
    body["geometry"]["coordinates"][0].pop()
    open_ring = post(client, auth_header("analyst"), body)
    assert open_ring.status_code == 422 and "not closed" in open_ring.get_json()["message"]


def test_hostile_text_is_stored_verbatim(app: Flask, image_id: str, auth_header: Header) -> None:
    text = "<img src=x onerror=alert(1)> '); DROP TABLE annotations;--"
    created = post(app.test_client(), auth_header("analyst"), an_124(image_id, notes=text))
    assert created.get_json()["properties"]["notes"] == text


def test_if_match_versions_and_a_lost_race(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    analyst = auth_header("analyst")
    created = post(client, analyst, an_124(image_id))
    url = created.headers["Location"]
    etag = created.headers["ETag"]
    patch = {"type": "Feature", "properties": {"count": 2}}
    missing = client.patch(url, json=patch, headers=analyst)
    assert missing.status_code == 428
    first = client.patch(url, json=patch, headers={**analyst, "If-Match": etag})
    assert first.status_code == 200 and first.get_json()["properties"]["version"] == 2
    second = client.patch(
        url,
        json={"type": "Feature", "properties": {"count": 3}},
        headers={**analyst, "If-Match": etag},
    )
    assert second.status_code == 412
    current = second.get_json()["details"]["current"]
    assert current["properties"]["count"] == 2 and current["properties"]["version"] == 2


def test_roles_review_and_history(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    analyst, editor, viewer = auth_header("analyst"), auth_header("editor"), auth_header("viewer")
    assert post(client, viewer, an_124(image_id)).status_code == 403
    created = post(client, analyst, an_124(image_id))
    url = created.headers["Location"]
    approve = client.post(
        f"{url}/status",
        json={"status": "approved"},
        headers={**analyst, "If-Match": created.headers["ETag"]},
    )
    assert approve.status_code == 422  # a draft goes to review first
    submitted = client.post(
        f"{url}/status",
        json={"status": "in_review"},
        headers={**analyst, "If-Match": created.headers["ETag"]},
    )
    assert submitted.status_code == 200
    by_analyst = client.post(
        f"{url}/status",
        json={"status": "approved"},
        headers={**analyst, "If-Match": submitted.headers["ETag"]},
    )
    assert by_analyst.status_code == 403
    no_reason = client.post(
        f"{url}/status",
        json={"status": "rejected"},
        headers={**editor, "If-Match": submitted.headers["ETag"]},
    )
    assert no_reason.status_code == 422
    approved = client.post(
        f"{url}/status",
        json={"status": "approved", "comment": "clear"},
        headers={**editor, "If-Match": submitted.headers["ETag"]},
    )
    assert approved.status_code == 200
    edit = client.patch(
        url,
        json={"type": "Feature", "properties": {"count": 2}},
        headers={**analyst, "If-Match": approved.headers["ETag"]},
    )
    assert edit.status_code == 403, "analysts edit only their drafts"
    history = client.get(f"{url}/history", headers=viewer).get_json()["revisions"]
    assert [r["action"] for r in history] == ["create", "status", "status"]
    assert history[-1]["actor"] == "editor" and history[-1]["comment"] == "clear"
    assert history[-1]["before"]["properties"]["status"] == "in_review"


def test_soft_delete_and_restore(app: Flask, image_id: str, auth_header: Header) -> None:
    client = app.test_client()
    analyst = auth_header("analyst")
    created = post(client, analyst, an_124(image_id))
    url = created.headers["Location"]
    changed = client.patch(
        url,
        json={"type": "Feature", "properties": {"count": 5}},
        headers={**analyst, "If-Match": created.headers["ETag"]},
    )
    deleted = client.delete(url, headers={**analyst, "If-Match": changed.headers["ETag"]})
    assert deleted.status_code == 200
    assert client.get(url, headers=analyst).status_code == 404
    listed = client.get("/api/v1/annotations", headers=analyst).get_json()
    assert listed["features"] == []
    restored = client.post(
        f"{url}/restore",
        json={"version": 1},
        headers={**analyst, "If-Match": deleted.headers["ETag"]},
    )
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["properties"]["count"] == 1
    actions = [
        r["action"] for r in client.get(f"{url}/history", headers=analyst).get_json()["revisions"]
    ]
    assert actions == ["create", "edit", "delete", "restore"]


def test_collection_is_all_or_nothing_and_search(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    client = app.test_client()
    analyst = auth_header("analyst")
    good = an_124(image_id)
    bad = an_124(image_id, label="aircraft.nope")
    refused = post(client, analyst, {"type": "FeatureCollection", "features": [good, bad]})
    assert refused.status_code == 422 and "features[1]" in refused.get_json()["message"]
    assert client.get("/api/v1/annotations", headers=analyst).get_json()["features"] == []
    il_76 = an_124(image_id, label="aircraft.transport.il-76")
    truck = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-84.4795, 33.6390]},
        "properties": {"label": "vehicle.truck", "image_id": image_id},
    }
    made = post(client, analyst, {"type": "FeatureCollection", "features": [good, il_76, truck]})
    assert made.status_code == 201 and len(made.get_json()["features"]) == 3

    def ids(query: str) -> list[str]:
        body = client.get(f"/api/v1/annotations?{query}", headers=analyst).get_json()
        return [f["properties"]["label"] for f in body["features"]]

    assert sorted(ids("label=aircraft.transport")) == [
        "aircraft.transport.an-124",
        "aircraft.transport.il-76",
    ]
    assert ids("label=aircraft.trans") == []
    assert ids("bbox=-84.4797,33.6388,-84.4793,33.6392") == ["vehicle.truck"]
    assert len(ids(f"image={image_id}&status=draft&author=analyst")) == 3
    assert ids("status=approved") == []
    page = client.get("/api/v1/annotations?limit=2", headers=analyst).get_json()
    assert len(page["features"]) == 2 and page["links"][0]["rel"] == "next"
    rest = client.get(page["links"][0]["href"], headers=analyst).get_json()
    assert len(rest["features"]) == 1 and rest["links"] == []
    for query in ("bbox=1,2,3", "limit=0", "cursor=zzz", "status=maybe", "datetime=yesterday"):
        response = client.get(f"/api/v1/annotations?{query}", headers=analyst)
        assert 400 <= response.status_code < 500, query


def test_labels_endpoint(app: Flask, auth_header: Header) -> None:
    body = app.test_client().get("/api/v1/labels", headers=auth_header("viewer")).get_json()
    ids = {label["id"] for label in body["labels"]}
    assert {"aircraft.transport.an-124", "vehicle.convoy", "activity.crater"} <= ids


def test_huge_bodies_fail_fast_and_the_worker_survives(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    client = app.test_client()
    analyst = auth_header("analyst")
    ring = [[-84.479 + i * 1e-7, 33.638 + (i % 2) * 1e-7] for i in range(20_001)]
    line = an_124(image_id, shape="line")
    line["geometry"] = {"type": "LineString", "coordinates": ring}
    response = post(client, analyst, line)
    assert response.status_code == 422 and "10,000 vertices" in response.get_json()["message"]
    app.config["MAX_JSON_MB"] = 1
    big = json.dumps({"type": "FeatureCollection", "features": [an_124(image_id)] * 4000})
    assert len(big) > 1024 * 1024
    too_big = client.post(
        "/api/v1/annotations", data=big, headers=analyst, content_type="application/json"
    )
    assert too_big.status_code == 413
    assert post(client, analyst, an_124(image_id)).status_code == 201, "still serving"


def race(app: Flask, url: str, etag: str, headers: dict[str, str]) -> list[int]:
    """Two PATCHes against the same version, released at the same instant."""
    import threading

    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def edit(count: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.patch(
            url,
            json={"type": "Feature", "properties": {"count": count}},
            headers={**headers, "If-Match": etag},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_two_simultaneous_edits_exactly_one_wins(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    """Both edits start from version 1 at the same moment; one must get 412."""
    analyst = auth_header("analyst")
    for round_ in range(5):
        created = post(app.test_client(), analyst, an_124(image_id))
        url, etag = created.headers["Location"], created.headers["ETag"]
        statuses = race(app, url, etag, analyst)
        assert sorted(statuses) == [200, 412], (round_, statuses)
        final = app.test_client().get(url, headers=analyst).get_json()["properties"]
        assert final["version"] == 2
        history = app.test_client().get(f"{url}/history", headers=analyst).get_json()
        assert [r["action"] for r in history["revisions"]] == ["create", "edit"]


def test_list_features_equal_single_features(
    app: Flask, image_id: str, auth_header: Header
) -> None:
    """The list splices stored JSON; it must say exactly what GET of one Feature says."""
    client = app.test_client()
    analyst = auth_header("analyst")
    text = "«Руслан» في المطار <b>"
    made = post(client, analyst, an_124(image_id, notes=text, attributes={"state": "parked"}))
    url = made.headers["Location"]
    client.post(
        f"{url}/status",
        json={"status": "in_review"},
        headers={**analyst, "If-Match": made.headers["ETag"]},
    )
    listed = client.get("/api/v1/annotations", headers=analyst)
    assert listed.mimetype == "application/geo+json"
    features = listed.get_json()["features"]
    assert len(features) == 1
    assert features[0] == client.get(url, headers=analyst).get_json()
    assert features[0]["properties"]["notes"] == text
