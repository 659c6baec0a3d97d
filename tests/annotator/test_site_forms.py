"""Sites made and changed in the browser's forms (/sites/new, /sites/<slug>/edit): a circle
or a drawn area, the API's checks and messages, roles, links to the forms, and user text
kept as text."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.images import Provenance
from tests.conftest import login
from tests.newsroom import catalogued


def post(client: FlaskClient, path: str, csrf: str, **form: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf, **form})


def site(client: FlaskClient, slug: str) -> Any:
    return client.get(f"/api/v1/sites/{slug}").get_json()


def square(west: float, south: float, size: float) -> str:
    ring = [[west, south], [west + size, south], [west + size, south + size]]
    ring += [[west, south + size], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_an_analyst_adds_a_site_by_circle_and_by_area(
    app: Flask, make_geotiff: Callable[..., Path]
) -> None:
    image = catalogued(app, make_geotiff(), Provenance(provider="test"))
    centre = shapely.geometry.shape(image.to_dict()["footprint"]).centroid
    client = app.test_client()
    csrf = login(client, "analyst")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/sites/new"' in home
    form = client.get("/sites/new")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    data = json.loads(page.split('id="site-form-data">', 1)[1].split("</script>", 1)[0])
    assert [c["name"] for c in data["captures"]] == [image.original_filename]

    circle = {"name": "Base", "shape": "circle", "lon": str(centre.x), "lat": str(centre.y)}
    saved = post(client, "/sites/new", csrf, radius_m="700", **circle)
    assert saved.status_code == 302, saved.get_data(as_text=True)[-1500:]
    assert saved.headers["Location"].endswith("/sites/base")
    made = site(client, "base")
    assert made["image_ids"] == [image.id] and made["created_by"] == "analyst"
    assert 'href="/sites/base/edit"' in client.get("/sites/base").get_data(as_text=True)

    area = square(10, 50, 0.1)
    drawn = post(client, "/sites/new", csrf, name="Field", slug="field-a", shape="area", area=area)
    assert drawn.status_code == 302
    assert site(client, "field-a")["area"]["coordinates"][0][0] == [10, 50]


def test_an_analyst_edits_name_slug_and_area(app: Flask, make_geotiff: Callable[..., Path]) -> None:
    image = catalogued(app, make_geotiff(), Provenance(provider="test"))
    centre = shapely.geometry.shape(image.to_dict()["footprint"]).centroid
    client = app.test_client()
    csrf = login(client, "analyst")
    post(client, "/sites/new", csrf, name="Far", shape="area", area=square(10, 50, 0.1))
    form = client.get("/sites/far/edit").get_data(as_text=True)
    assert 'value="Far"' in form and "&#34;Polygon&#34;" in form  # the area, as text
    moved = post(
        client,
        "/sites/far/edit",
        csrf,
        name="Near",
        slug="near",
        shape="circle",
        lon=str(centre.x),
        lat=str(centre.y),
        radius_m="900",
        comment="placed on the wrong town",
    )
    assert moved.status_code == 302, moved.get_data(as_text=True)[-1500:]
    assert moved.headers["Location"].endswith("/sites/near")
    assert site(client, "near")["image_ids"] == [image.id]
    changes = client.get("/api/v1/sites/near/history").get_json()["changes"]
    assert changes[-1]["comment"] == "placed on the wrong town"
    assert changes[-1]["before"]["name"] == "Far" and changes[-1]["after"]["name"] == "Near"
    # saved again unchanged: no new change in the history
    area = json.dumps(site(client, "near")["area"])
    same = post(client, "/sites/near/edit", csrf, name="Near", slug="near", shape="area", area=area)
    assert same.status_code == 302
    assert len(client.get("/api/v1/sites/near/history").get_json()["changes"]) == len(changes)


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(app: Flask) -> None:
    client = app.test_client()
    csrf = login(client, "analyst")
    across = json.dumps(
        {"type": "Polygon", "coordinates": [[[179.5, 0], [-179.5, 0], [-179.5, 1], [179.5, 0]]]}
    )
    cases = [
        ({"name": "A", "shape": "area", "area": across}, "antimeridian"),
        ({"name": "A", "shape": "area", "area": "{not json"}, "not GeoJSON"),
        ({"name": "A", "shape": "area", "area": ""}, "place the site"),
        ({"name": "A", "shape": "circle", "lon": "east", "lat": "1"}, "longitude must be a number"),
        ({"name": "A", "shape": "circle", "lon": "200", "lat": "1"}, "outside -180..180"),
        ({"name": "A", "shape": "circle", "lon": "1", "lat": "1", "radius_m": "0"}, "radius"),
        ({"name": "", "shape": "circle", "lon": "1", "lat": "1"}, "name"),
        ({"name": "<b>x</b>", "slug": "---", "shape": "circle", "lon": "1", "lat": "1"}, "slug"),
    ]
    for form, words in cases:
        response = post(client, "/sites/new", csrf, **form)
        text = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422, (form, text[-800:])
        assert words in text, (form, words)
    assert client.get("/api/v1/sites").get_json()["sites"] == []
    # hostile text comes back as text
    hostile = post(client, "/sites/new", csrf, name="<script>x</script>", shape="circle", lon="x")
    assert "<script>x</script>" not in hostile.get_data(as_text=True)

    post(client, "/sites/new", csrf, name="Taken", shape="circle", lon="1", lat="1")
    post(client, "/sites/new", csrf, name="Mine", shape="circle", lon="2", lat="2")
    clash = post(client, "/sites/mine/edit", csrf, name="Mine", slug="taken", shape="area")
    assert clash.status_code == 422 and "exists already" in clash.get_data(as_text=True)
    assert site(client, "mine")["name"] == "Mine"


def test_forms_need_an_analyst_and_a_csrf_token(app: Flask) -> None:
    client = app.test_client()
    csrf = login(client, "analyst")
    post(client, "/sites/new", csrf, name="Base", shape="circle", lon="1", lat="1")
    assert client.post("/sites/new", data={"name": "X", "lon": "1", "lat": "1"}).status_code == 400
    viewer = app.test_client()
    viewer_csrf = login(viewer, "viewer")
    assert viewer.get("/sites/new").status_code == 403
    assert viewer.get("/sites/base/edit").status_code == 403
    refused = post(viewer, "/sites/base/edit", viewer_csrf, name="Mine", shape="area")
    assert refused.status_code == 403
    assert 'href="/sites/new"' not in viewer.get("/").get_data(as_text=True)
    assert "/sites/base/edit" not in viewer.get("/sites/base").get_data(as_text=True)
    assert app.test_client().get("/sites/new").status_code in (302, 401)
    assert client.get("/sites/nowhere/edit").status_code == 404
