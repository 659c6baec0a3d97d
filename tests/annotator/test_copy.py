"""POST /api/v1/annotations/<id>/copy: "still there on this date", on SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from rasterio.transform import from_origin

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import token_for


def bearer(app: Flask, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def capture(
    app: Flask, make_geotiff: Callable[..., Path], name: str, day: int, east_m: float = 0
) -> Any:
    """A 200 x 150 m real GeoTIFF near Hmeimim, `east_m` metres east of the first one."""
    data = np.full((3, 300, 400), day, dtype=np.uint8)
    path = make_geotiff(name, data=data, transform=from_origin(790000 + east_m, 3922000, 0.5, 0.5))
    database = services.database(app)
    return import_images(
        database,
        app.config["IMAGES_DIR"],
        [Upload(path, path.name)],
        Provenance(),
        captured=datetime(2024, 12, day, 8, 21, tzinfo=UTC),
        max_pixels=10**9,
    )[0].image


@pytest.fixture
def scene(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    app = app_on_each_backend
    first = capture(app, make_geotiff, "first.tif", 10)
    second = capture(app, make_geotiff, "second.tif", 13)
    shifted = capture(app, make_geotiff, "shifted.tif", 14, east_m=150)
    west, south, east, north = first.bbox
    # a box in the western half of the first capture: on `second`, not on `shifted`
    lon0, lat0 = west + (east - west) * 0.2, south + (north - south) * 0.4
    lon1, lat1 = west + (east - west) * 0.3, south + (north - south) * 0.6
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "label": "aircraft.transport.il-76",
            "image_id": first.id,
            "shape": "box",
            "confidence": "confirmed",
            "count": 2,
            "notes": "<b>two</b> on the apron",
            "attributes": {"heading_deg": 172, "state": "parked"},
        },
    }
    client = app.test_client()
    made = client.post("/api/v1/annotations", json=feature, headers=bearer(app, "analyst"))
    assert made.status_code == 201, made.get_json()
    return {
        "app": app,
        "first": first,
        "second": second,
        "shifted": shifted,
        "source": made.get_json(),
    }


def count_rows(app: Flask) -> tuple[int, int]:
    from sqlalchemy import func, select

    from annotations.annotation import Annotation
    from annotations.history import Revision

    with services.database(app).read() as session:
        return (
            session.scalar(select(func.count()).select_from(Annotation)) or 0,
            session.scalar(select(func.count()).select_from(Revision)) or 0,
        )


def test_copy_makes_a_new_draft_linked_to_the_original(scene: dict[str, Any]) -> None:
    app, source, second = scene["app"], scene["source"], scene["second"]
    client = app.test_client()
    response = client.post(
        f"/api/v1/annotations/{source['id']}/copy",
        json={"image": second.id},
        headers=bearer(app, "editor"),
    )
    assert response.status_code == 201, response.get_json()
    copy = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/annotations/{copy['id']}")
    assert response.headers["ETag"] == f'"{copy["id"]}-v1"'
    assert copy["id"] != source["id"]
    assert copy["geometry"] == source["geometry"]
    kept = ("label", "shape", "confidence", "count", "attributes", "notes")
    for name in kept:
        assert copy["properties"][name] == source["properties"][name], name
    props = copy["properties"]
    assert props["image_id"] == second.id and props["status"] == "draft"
    assert props["created_by"] == "editor" != source["properties"]["created_by"]
    assert props["derived_from"] == source["id"]
    assert props["observed_at"] == "2024-12-13T08:21:00Z"
    assert props["source"]["captured_at"] == "2024-12-13T08:21:00Z"
    # stored, not only answered: the copy read back, in lists, and in its history
    viewer = bearer(app, "viewer")
    again = client.get(f"/api/v1/annotations/{copy['id']}", headers=viewer).get_json()
    assert again["properties"]["derived_from"] == source["id"]
    listed = client.get(f"/api/v1/annotations?image={second.id}", headers=viewer).get_json()
    assert [f["properties"]["derived_from"] for f in listed["features"]] == [source["id"]]
    history = client.get(f"/api/v1/annotations/{copy['id']}/history", headers=viewer).get_json()
    (created,) = history["revisions"]
    assert created["action"] == "create" and source["id"] in created["comment"]
    # the original is untouched
    original = client.get(f"/api/v1/annotations/{source['id']}", headers=viewer).get_json()
    assert original["properties"]["version"] == 1
    assert original["properties"]["derived_from"] is None


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown annotation", 404, "not_found"),
        ("deleted annotation", 404, "not_found"),
        ("unknown image", 404, "not_found"),
        ("same image", 422, "invalid"),
        ("outside the footprint", 422, "invalid"),
        ("no image", 422, "invalid"),
        ("image not a string", 422, "invalid"),
        ("not JSON", 415, "unsupported_media_type"),
        ("broken JSON", 400, "malformed_json"),
        ("viewer", 403, "forbidden"),
    ],
)
def test_copy_refuses_bad_requests_and_writes_nothing(
    scene: dict[str, Any], case: str, status: int, code: str
) -> None:
    app, source = scene["app"], scene["source"]
    client = app.test_client()
    target = source["id"]
    user = "analyst"
    kwargs: dict[str, Any] = {"json": {"image": scene["second"].id}}
    if case == "unknown annotation":
        target = "0" * 32
    elif case == "deleted annotation":
        headers = {**bearer(app, "analyst"), "If-Match": f'"{target}-v1"'}
        gone = client.delete(f"/api/v1/annotations/{target}", headers=headers)
        assert gone.status_code == 200
    elif case == "unknown image":
        kwargs["json"] = {"image": "f" * 32}
    elif case == "same image":
        kwargs["json"] = {"image": scene["first"].id}
    elif case == "outside the footprint":
        kwargs["json"] = {"image": scene["shifted"].id}
    elif case == "no image":
        kwargs["json"] = {}
    elif case == "image not a string":
        kwargs["json"] = {"image": 7}
    elif case == "not JSON":
        kwargs = {"data": "image=x", "content_type": "application/x-www-form-urlencoded"}
    elif case == "broken JSON":
        kwargs = {"data": '{"image": ', "content_type": "application/json"}
    elif case == "viewer":
        user = "viewer"
    before = count_rows(app)
    response = client.post(
        f"/api/v1/annotations/{target}/copy", headers=bearer(app, user), **kwargs
    )
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == code
    assert count_rows(app) == before, "nothing written"


def test_copy_needs_sign_in_and_csrf(scene: dict[str, Any]) -> None:
    app, source = scene["app"], scene["source"]
    url = f"/api/v1/annotations/{source['id']}/copy"
    assert app.test_client().post(url, json={"image": scene["second"].id}).status_code == 401
    from tests.conftest import login

    browser = app.test_client()
    token = login(browser, "analyst")
    refused = browser.post(url, json={"image": scene["second"].id})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"
    made = browser.post(url, json={"image": scene["second"].id}, headers={"X-CSRF-Token": token})
    assert made.status_code == 201
