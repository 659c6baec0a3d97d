"""Sites over HTTP, and the pages a person sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import PASSWORD, login

Header = Callable[[str], dict[str, str]]
ATLANTA = {"lon": -84.479, "lat": 33.6384}


def import_atlanta(app: Flask, shared_data: Path, provenance: Provenance | None = None) -> str:
    result = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(shared_data / "sample_geotiff.tif", "sample_geotiff.tif")],
        provenance or Provenance(provider="SpaceNet"),
        max_pixels=10**9,
    )
    return result[0].image.id


def test_site_by_radius_attaches_images_that_meet_it(
    app: Flask, auth_header: Header, shared_data: Path
) -> None:
    image_id = import_atlanta(app, shared_data)
    client = app.test_client()
    headers = auth_header("analyst")
    response = client.post(
        "/api/v1/sites", json={"name": "Atlanta depot", **ATLANTA, "radius_m": 500}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    site = response.get_json()
    assert site["slug"] == "atlanta-depot"
    assert response.headers["Location"].endswith("/api/v1/sites/atlanta-depot")
    assert site["image_ids"] == [image_id]
    assert site["area"]["type"] == "Polygon" and len(site["area"]["coordinates"][0]) > 60
    far = client.post(
        "/api/v1/sites", json={"name": "Hmeimim", "lon": 35.94861, "lat": 35.40083}, headers=headers
    ).get_json()
    assert far["image_ids"] == []
    image = client.get(f"/api/v1/images/{image_id}", headers=headers).get_json()
    assert image["sites"] == ["atlanta-depot"]
    listed = client.get("/api/v1/sites", headers=headers).get_json()["sites"]
    assert {s["slug"] for s in listed} == {"atlanta-depot", "hmeimim"}


def test_image_imported_after_the_site_is_attached(
    app: Flask, auth_header: Header, shared_data: Path
) -> None:
    ring = [[-84.49, 33.63], [-84.47, 33.63], [-84.47, 33.65], [-84.49, 33.65], [-84.49, 33.63]]
    area = {"type": "Polygon", "coordinates": [ring]}
    client = app.test_client()
    created = client.post(
        "/api/v1/sites", json={"name": "Atlanta", "area": area}, headers=auth_header("analyst")
    )
    assert created.status_code == 201
    import_atlanta(app, shared_data)
    site = client.get("/api/v1/sites/atlanta", headers=auth_header("viewer")).get_json()
    assert len(site["image_ids"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "x", "lon": 200, "lat": 35}, 422, "longitude"),
        ({"name": "x", "lon": 35, "lat": 95}, 422, "latitude"),
        ({"name": "x"}, 422, "lon"),
        ({"lon": 1, "lat": 1}, 422, "name"),
        ({"name": "x", "lon": 1, "lat": 1, "radius_m": -5}, 422, "radius"),
        ({"name": "x", "area": {"type": "Point", "coordinates": [1, 1]}}, 422, "Polygon"),
        (
            {
                "name": "x",
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                },
            },
            422,
            "Self-intersection",
        ),
        ({"name": "x", "area": {"type": "Polygon", "crs": {}, "coordinates": []}}, 422, "crs"),
    ],
)
def test_bad_sites_are_refused(
    app: Flask, auth_header: Header, body: dict[str, object], status: int, words: str
) -> None:
    response = app.test_client().post("/api/v1/sites", json=body, headers=auth_header("analyst"))
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["message"]


def test_malformed_json_duplicates_and_roles(app: Flask, auth_header: Header) -> None:
    client = app.test_client()
    headers = auth_header("analyst")
    for raw in (b"{not json", b'{"name": "x", "lon": NaN, "lat": 1}', b"[1, 2]"):
        response = client.post(
            "/api/v1/sites", data=raw, headers=headers, content_type="application/json"
        )
        assert response.status_code == 400, raw
    ok = client.post("/api/v1/sites", json={"name": "Tartus port", "lon": 35.87, "lat": 34.9},
                     headers=headers)  # fmt: skip
    assert ok.status_code == 201
    again = client.post("/api/v1/sites", json={"name": "Tartus Port", "lon": 35.87, "lat": 34.9},
                        headers=headers)  # fmt: skip
    assert again.status_code == 409
    viewer = client.post("/api/v1/sites", json={"name": "y", "lon": 1, "lat": 1},
                         headers=auth_header("viewer"))  # fmt: skip
    assert viewer.status_code == 403 and viewer.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/sites").status_code == 401


def test_login_page_and_wrong_password(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 302
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    wrong = client.post("/login", data={"name": "analyst", "password": "nope",
                                        "csrf_token": token.group(1)})  # fmt: skip
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.get_data(as_text=True)
    no_csrf = client.post("/login", data={"name": "analyst", "password": PASSWORD})
    assert no_csrf.status_code == 400
    login(client, "analyst")
    cookie = client.get_cookie("annotator_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    evil = client.post("/login?next=https://evil.example/", data={
        "name": "analyst", "password": PASSWORD, "csrf_token": token.group(1)})  # fmt: skip
    assert evil.status_code in (302, 400)
    if evil.status_code == 302:
        assert not evil.headers["Location"].startswith("https://evil")


def test_home_and_image_pages_escape_user_text(app: Flask, shared_data: Path) -> None:
    hostile = "<script>alert(1)</script>"
    image_id = import_atlanta(
        app, shared_data, Provenance(provider=hostile, attribution="<img src=x onerror=alert(1)>")
    )
    client = app.test_client()
    login(client, "viewer")
    home = client.get("/").get_data(as_text=True)
    assert f"/images/{image_id}" in home
    assert "<script>alert(1)</script>" not in home and "&lt;script&gt;" in home
    assert "GSD 0.50 m" in home and "capture date unknown" in home
    page = client.get(f"/images/{image_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "vendor/leaflet/leaflet.js" in html and 'id="map"' in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "no CDN, no outside request"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    thumb = client.get(f"/images/{image_id}/thumbnail.png")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert client.get("/images/nope").status_code == 404
    leaflet = client.get("/static/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and b"Leaflet" in leaflet.data[:400]
    leaflet.close()


def test_every_page_has_an_icon_and_favicon_ico_answers(app: Flask) -> None:
    """Pages link an SVG icon; /favicon.ico (asked for by pages that name none, such as a
    published map) answers with it, signed in or not, so no console shows a 404 for it."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    linked = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page)
    assert linked, "the sign-in page links the icon"
    with client.get(linked.group(1)) as icon, client.get("/favicon.ico") as fallback:
        assert icon.status_code == 200 and icon.get_data().startswith(b"<svg")
        assert fallback.status_code == 200
        assert fallback.mimetype == "image/svg+xml"
        assert fallback.get_data() == icon.get_data()
    login(client, "viewer")
    assert linked.group(0) in client.get("/").get_data(as_text=True)
