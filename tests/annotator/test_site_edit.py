"""Changing a site over HTTP (PATCH /api/v1/sites/<slug>), on SQLite and PostGIS: the name,
the slug and the area; images re-placed by footprint; history; roles; bad geometry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.images import Provenance
from annotations.catalogue.sites import get_site
from annotations.catalogue.tables import SiteImage
from annotator import services
from tests.conftest import token_for
from tests.newsroom import catalogued


class Client:
    """A test client sending each request as the named user."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.tokens: dict[str, str] = {}

    def __call__(self, method: str, path: str, user: str = "analyst", **kwargs: Any) -> Any:
        if user not in self.tokens:
            self.tokens[user] = token_for(self.app, user)
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.client.open(path, method=method, headers=headers, **kwargs)


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def call(app_on_each_backend: Flask) -> Client:
    return Client(app_on_each_backend)


def test_name_slug_and_area_change_with_images_replaced_and_history(
    call: Client, make_geotiff: Callable[..., Path]
) -> None:
    image = catalogued(call.app, make_geotiff(), Provenance(provider="test"))
    centre = shapely.geometry.shape(image.to_dict()["footprint"]).centroid
    far = call("POST", "/api/v1/sites", json={"name": "Far away", "lon": 10.0, "lat": 50.0})
    assert far.status_code == 201 and far.get_json()["image_ids"] == []

    moved = call(
        "PATCH",
        "/api/v1/sites/far-away",
        json={"lon": centre.x, "lat": centre.y, "radius_m": 800, "comment": "wrong town"},
    )
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["image_ids"] == [image.id]
    assert body["images_added"] == [image.id] and body["images_removed"] == []
    assert shapely.geometry.shape(body["area"]).contains(centre)

    renamed = call("PATCH", "/api/v1/sites/far-away", json={"name": "Near", "slug": "near"})
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["slug"] == "near" and renamed.get_json()["name"] == "Near"
    assert call("GET", "/api/v1/sites/far-away", "viewer").status_code == 404
    assert call("GET", f"/api/v1/images/{image.id}", "viewer").get_json()["sites"] == ["near"]

    away = call("PATCH", "/api/v1/sites/near", json={"area": box(10, 50, 10.1, 50.1)})
    assert away.status_code == 200, away.get_json()
    assert away.get_json()["images_removed"] == [image.id]
    assert away.get_json()["image_ids"] == []

    history = call("GET", "/api/v1/sites/near/history", "viewer").get_json()
    actions = [(c["action"], c["actor"], c["comment"]) for c in history["changes"]]
    assert actions == [
        ("create", "analyst", None),
        ("edit", "analyst", "wrong town"),
        ("edit", "analyst", None),
        ("edit", "analyst", None),
    ]
    second = history["changes"][2]
    assert second["before"]["name"] == "Far away" and second["after"]["slug"] == "near"


def test_images_attached_by_hand_stay_when_the_area_moves(
    call: Client, make_geotiff: Callable[..., Path]
) -> None:
    call("POST", "/api/v1/sites", json={"name": "Hand", "lon": 10.0, "lat": 50.0})
    image = catalogued(call.app, make_geotiff(), Provenance(provider="test"))
    with services.database(call.app).write() as session:
        site = get_site(session, "hand")
        session.add(SiteImage(site_id=site.id, image_id=image.id, reason="explicit"))
    moved = call("PATCH", "/api/v1/sites/hand", json={"lon": 11.0, "lat": 51.0, "radius_m": 900})
    assert moved.status_code == 200
    assert moved.get_json()["image_ids"] == [image.id]
    assert moved.get_json()["images_removed"] == []


def test_roles_as_for_creating(call: Client) -> None:
    call("POST", "/api/v1/sites", json={"name": "Roles", "lon": 1.0, "lat": 1.0})
    refused = call("PATCH", "/api/v1/sites/roles", "viewer", json={"name": "Mine"})
    assert refused.status_code == 403
    anonymous = call.client.patch("/api/v1/sites/roles", json={"name": "Mine"})
    assert anonymous.status_code == 401
    assert call("PATCH", "/api/v1/sites/roles", "editor", json={"name": "Ours"}).status_code == 200
    assert call("GET", "/api/v1/sites/roles", "viewer").get_json()["name"] == "Ours"


ACROSS = {
    "type": "Polygon",
    "coordinates": [[[179.5, 0], [-179.5, 0], [-179.5, 1], [179.5, 1], [179.5, 0]]],
}
PAST_180 = box(179.5, 0, 180.5, 1)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"area": ACROSS}, 422, "antimeridian"),
        ({"area": PAST_180}, 422, "antimeridian"),
        ({"lon": 179.99, "lat": 10, "radius_m": 5000}, 422, "antimeridian"),
        ({"lon": 0, "lat": 89.99, "radius_m": 5000}, 422, "pole"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                }
            },
            422,
            "Self-intersection",
        ),
        ({"area": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, 422, "Polygon"),
        ({"area": box(0, 0, 0, 0)}, 422, "area"),
        ({"lon": 5}, 422, "both"),
        ({"area": box(0, 0, 1, 1), "radius_m": 5}, 422, "not both"),
        ({"name": ""}, 422, "name"),
        ({"slug": "taken"}, 409, "exists already"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    call: Client, body: dict[str, Any], status: int, words: str
) -> None:
    call("POST", "/api/v1/sites", json={"name": "Taken", "lon": 2.0, "lat": 2.0})
    created = call("POST", "/api/v1/sites", json={"name": "Kept", "lon": 1.0, "lat": 1.0})
    response = call("PATCH", "/api/v1/sites/kept", json=body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()
    assert words.lower() in (error["message"] + str(error.get("details"))).lower()
    assert call("GET", "/api/v1/sites/kept").get_json() == created.get_json()
    history = call("GET", "/api/v1/sites/kept/history").get_json()["changes"]
    assert [c["action"] for c in history] == ["create"]


def test_an_unknown_site_is_404(call: Client) -> None:
    response = call("PATCH", "/api/v1/sites/nowhere", json={"name": "x"})
    assert response.status_code == 404
    assert "nowhere" in response.get_json()["message"]


def test_create_refuses_an_area_across_the_antimeridian(call: Client) -> None:
    response = call("POST", "/api/v1/sites", json={"name": "Fiji", "area": ACROSS})
    assert response.status_code == 422
    assert "antimeridian" in response.get_json()["message"]
    split = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[179.5, 0], [180, 0], [180, 1], [179.5, 1], [179.5, 0]]],
            [[[-180, 0], [-179.5, 0], [-179.5, 1], [-180, 1], [-180, 0]]],
        ],
    }
    fine = call("POST", "/api/v1/sites", json={"name": "Fiji", "area": split})
    assert fine.status_code == 201, fine.get_json()


def test_the_change_and_the_history_are_in_openapi(call: Client) -> None:
    document = call("GET", "/api/v1/openapi.json", "viewer").get_json()
    change = document["paths"]["/api/v1/sites/{slug}"]["patch"]
    assert change["operationId"] == "changeSite"
    assert {"404", "409", "422"} <= set(change["responses"])
    body = change["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/SiteEdit")
    edit = document["components"]["schemas"]["SiteEdit"]
    assert set(edit["properties"]) == {"name", "slug", "lon", "lat", "radius_m", "area", "comment"}
    history = document["paths"]["/api/v1/sites/{slug}/history"]["get"]
    assert history["operationId"] == "siteHistory"
