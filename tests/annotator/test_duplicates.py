"""Possible duplicates: a save, an edit or a copy warns of another annotation on the same image
that is probably the same object (compatible label; IoU or distance over a threshold), on
SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.images import Provenance
from annotations.duplicates import compatible, generic_root
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import token_for

PLACE = "aircraft.transport.an-124"


def bearer(app: Flask, user: str = "analyst") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def capture(app: Flask, make_geotiff: Callable[..., Path], name: str, day: int) -> Any:
    data = np.full((3, 300, 400), day, dtype=np.uint8)
    path = make_geotiff(name, data=data)
    return import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(path, path.name)],
        Provenance(),
        captured=datetime(2024, 12, day, 9, tzinfo=UTC),
        max_pixels=10**9,
    )[0].image


def spot(image: Any, fx: float, fy: float) -> tuple[float, float]:
    west, south, east, north = image.bbox
    return west + (east - west) * fx, south + (north - south) * fy


def box_feature(
    image: Any, x0: float, y0: float, x1: float, y1: float, label: str = PLACE
) -> dict[str, Any]:
    (lon0, lat0), (lon1, lat1) = spot(image, x0, y0), spot(image, x1, y1)
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"label": label, "image_id": image.id, "shape": "box"},
    }


def point_feature(image: Any, lon: float, lat: float, label: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"label": label, "image_id": image.id},
    }


def post(client: FlaskClient, app: Flask, feature: dict[str, Any]) -> dict[str, Any]:
    made = client.post("/api/v1/annotations", json=feature, headers=bearer(app))
    assert made.status_code == 201, made.get_json()
    body: dict[str, Any] = made.get_json()
    return body


@pytest.fixture
def scene(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    app = app_on_each_backend
    first = capture(app, make_geotiff, "first.tif", 10)
    second = capture(app, make_geotiff, "second.tif", 13)
    client = app.test_client()
    original = post(client, app, box_feature(first, 0.2, 0.2, 0.4, 0.5))
    assert original["warnings"] == []
    return {"app": app, "client": client, "first": first, "second": second, "original": original}


def test_a_second_box_on_the_same_object_warns_with_the_iou(scene: dict[str, Any]) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    again = post(client, app, box_feature(first, 0.21, 0.2, 0.41, 0.5))
    [warning] = again["warnings"]
    assert warning["code"] == "possible_duplicate"
    assert warning["annotation"] == scene["original"]["id"]
    assert warning["label"] == PLACE and warning["label_name"] == "Antonov An-124 Ruslan"
    assert 0.85 < warning["iou"] <= 1 and "distance_m" not in warning
    assert "same object" in warning["message"]
    # the save was made all the same
    assert client.get(f"/api/v1/annotations/{again['id']}", headers=bearer(app)).status_code == 200


@pytest.mark.parametrize(
    ("label", "warns"),
    [
        ("aircraft.transport", True),  # the parent
        ("aircraft.unknown.large", True),  # generic of the same branch
        ("aircraft", True),
        ("aircraft.transport.il-76", False),  # another type
        ("vehicle.truck", False),
    ],
)
def test_only_a_compatible_label_warns(scene: dict[str, Any], label: str, warns: bool) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    again = post(client, app, box_feature(first, 0.2, 0.2, 0.4, 0.5, label=label))
    assert bool(again["warnings"]) is warns


def test_the_iou_threshold_is_a_setting(scene: dict[str, Any]) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    # overlapping by half the width: IoU 1/3
    half = post(client, app, box_feature(first, 0.3, 0.2, 0.5, 0.5))
    assert half["warnings"] == []
    app.config["DUPLICATE_IOU_PERCENT"] = 30
    again = post(client, app, box_feature(first, 0.3, 0.2, 0.5, 0.5, label="aircraft"))
    found = {w["annotation"]: w["iou"] for w in again["warnings"]}
    assert found[scene["original"]["id"]] == pytest.approx(1 / 3, abs=0.01)
    app.config["DUPLICATE_CHECK"] = False
    off = post(client, app, box_feature(first, 0.2, 0.2, 0.4, 0.5))
    assert off["warnings"] == []


def test_another_image_does_not_warn(scene: dict[str, Any]) -> None:
    app, client = scene["app"], scene["client"]
    other = post(client, app, box_feature(scene["second"], 0.2, 0.2, 0.4, 0.5))
    assert other["warnings"] == []


def test_points_warn_under_the_distance_in_metres(scene: dict[str, Any]) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    lon, lat = spot(first, 0.7, 0.7)
    vehicle = "vehicle.truck"
    post(client, app, point_feature(first, lon, lat, vehicle))
    metre = 1 / 111_320  # a metre of latitude, near enough
    near = post(client, app, point_feature(first, lon, lat + 6 * metre, vehicle))
    [warning] = near["warnings"]
    assert warning["distance_m"] == pytest.approx(6, abs=0.1) and "iou" not in warning
    far = post(client, app, point_feature(first, lon, lat + 14 * metre, "vehicle"))
    # 14 m from the first, 8 m from the second
    assert [round(w["distance_m"]) for w in far["warnings"]] == [8]
    app.config["DUPLICATE_DISTANCE_M"] = 20
    farther = post(client, app, point_feature(first, lon, lat - 15 * metre, vehicle))
    assert [round(w["distance_m"]) for w in farther["warnings"]] == [15]


def test_an_edit_that_moves_the_geometry_warns_and_one_that_does_not_stays_quiet(
    scene: dict[str, Any],
) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    elsewhere = post(client, app, box_feature(first, 0.6, 0.6, 0.8, 0.9))
    assert elsewhere["warnings"] == []
    moved = client.patch(
        f"/api/v1/annotations/{elsewhere['id']}",
        json={"type": "Feature", "geometry": box_feature(first, 0.2, 0.25, 0.4, 0.5)["geometry"]},
        headers={**bearer(app), "If-Match": f'"{elsewhere["id"]}-v1"'},
    )
    assert moved.status_code == 200, moved.get_json()
    assert [w["annotation"] for w in moved.get_json()["warnings"]] == [scene["original"]["id"]]
    noted = client.patch(
        f"/api/v1/annotations/{elsewhere['id']}",
        json={"type": "Feature", "properties": {"notes": "same place"}},
        headers={**bearer(app), "If-Match": moved.headers["ETag"]},
    )
    assert noted.status_code == 200 and noted.get_json()["warnings"] == []


def test_a_still_there_copy_onto_a_capture_that_has_the_object_warns(
    scene: dict[str, Any],
) -> None:
    app, client = scene["app"], scene["client"]
    there = post(client, app, box_feature(scene["second"], 0.2, 0.21, 0.4, 0.5))
    assert there["warnings"] == []
    copied = client.post(
        f"/api/v1/annotations/{scene['original']['id']}/copy",
        json={"image": scene["second"].id},
        headers=bearer(app),
    )
    assert copied.status_code == 201, copied.get_json()
    assert [w["annotation"] for w in copied.get_json()["warnings"]] == [there["id"]]


def test_a_collection_warns_per_feature_and_deleted_ones_are_left_out(
    scene: dict[str, Any],
) -> None:
    app, client, first = scene["app"], scene["client"], scene["first"]
    original = scene["original"]
    deleted = client.delete(
        f"/api/v1/annotations/{original['id']}",
        headers={**bearer(app), "If-Match": f'"{original["id"]}-v1"'},
    )
    assert deleted.status_code == 200
    both = {
        "type": "FeatureCollection",
        "features": [
            box_feature(first, 0.2, 0.2, 0.4, 0.5),
            box_feature(first, 0.2, 0.2, 0.4, 0.5),
        ],
    }
    made = client.post("/api/v1/annotations", json=both, headers=bearer(app))
    assert made.status_code == 201
    one, two = made.get_json()["features"]
    # the deleted original is not offered; the two new ones are offered to each other
    assert [w["annotation"] for w in one["warnings"]] == [two["id"]]
    assert [w["annotation"] for w in two["warnings"]] == [one["id"]]


def test_the_warning_is_in_the_openapi_document(scene: dict[str, Any]) -> None:
    document = scene["client"].get("/api/v1/openapi.json", headers=bearer(scene["app"])).get_json()
    warning = document["components"]["schemas"]["DuplicateWarning"]
    assert {"code", "annotation", "label", "iou", "distance_m", "message"} <= set(
        warning["properties"]
    )
    annotation = document["components"]["schemas"]["Annotation"]
    assert "warnings" in annotation["properties"]


def test_label_compatibility() -> None:
    assert generic_root("aircraft.unknown.large") == "aircraft"
    assert compatible(PLACE, PLACE)
    assert compatible("aircraft.unknown.small", PLACE)
    assert not compatible("aircraft.transports", "aircraft.transport")
    assert not compatible("aircraft.transport.il-76", PLACE)
