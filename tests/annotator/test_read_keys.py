"""Read-only keys (issue 15): where a key counts, where it is no credential, that it never
writes, that revoking it works at once, the keys page, TileJSON and WMTS carrying the key,
and that neither the app's log nor a redirect repeats it."""

from __future__ import annotations

import base64
import io
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from flask import Flask
from morecantile import tms as tile_matrix_sets
from PIL import Image

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import READ_TILES, create_token, get_user
from annotator import services
from annotator.access.redact import redact
from annotator.cli import main
from annotator.intake import Upload, import_images
from tests.conftest import _app_with_users, _csrf_from, login, make_app, token_for, write_geotiff

MERCATOR = tile_matrix_sets.get("WebMercatorQuad")
WMTS = "{http://www.opengis.net/wmts/1.0}"
OWS = "{http://www.opengis.net/ows/1.1}"
HOSTILE = 'Apron <script>alert(1)</script> & "quotes" \x07bell'


@dataclass
class World:
    app: Flask
    image_id: str
    tile: str  # z/x/y of a tile inside the capture
    centre: tuple[float, float]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("read-keys")
    for app in _app_with_users(make_app(folder)):
        scene = write_geotiff(folder / f"{HOSTILE[:8]}.tif")
        image = import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(scene, "hangar <b> & x.tif")],
            Provenance(),
            max_pixels=10**9,
        )[0].image
        west, south, east, north = image.bbox
        client = app.test_client()
        made = client.post(
            "/api/v1/sites",
            json={
                "name": HOSTILE,
                "slug": "apron",
                "lon": (west + east) / 2,
                "lat": (south + north) / 2,
            },
            headers={"Authorization": f"Bearer {token_for(app, 'analyst')}"},
        )
        assert made.status_code == 201, made.get_json()
        tile = MERCATOR.tile((west + east) / 2, (south + north) / 2, 16)
        centre = ((west + east) / 2, (south + north) / 2)
        yield World(app, image.id, f"16/{tile.x}/{tile.y}", centre)


def key_for(app: Flask, user: str = "viewer", scope: str = READ_TILES) -> str:
    with services.database(app).write() as session:
        return create_token(session, get_user(session, user), "tests", scope)


def basic(key: str, user: str = "qgis") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}


def test_the_command_line_makes_a_key(world: World) -> None:
    env = {"ANNOTATOR_DATA_DIR": str(world.app.config["DATA_DIR"]), "ANNOTATOR_SECRET_KEY": "x"}
    made = CliRunner().invoke(
        main, ["tokens", "create", "viewer", "--scope", "read-tiles"], env=env
    )
    assert made.exit_code == 0, made.output
    key = made.output.strip()
    assert key.startswith("ank_")
    client = world.app.test_client()
    assert client.get(f"/tiles/{world.image_id}/{world.tile}.png?key={key}").status_code == 200
    wrong = CliRunner().invoke(
        main, ["tokens", "create", "viewer", "--scope", "write-all"], env=env
    )
    assert wrong.exit_code != 0 and "write-all" in wrong.output


def test_a_key_reads_tiles_tilejson_and_the_cog_as_query_basic_or_bearer(world: World) -> None:
    key = key_for(world.app)
    client = world.app.test_client()
    tile = f"/tiles/{world.image_id}/{world.tile}.png"
    for how in (
        {"query_string": {"key": key}},
        {"headers": basic(key)},
        {"headers": {"Authorization": f"Bearer {key}"}},
    ):
        response = client.get(tile, **how)
        assert response.status_code == 200, (how, response.get_data(as_text=True))
        assert Image.open(io.BytesIO(response.data)).size == (256, 256)
        cog = client.get(f"/api/v1/images/{world.image_id}/cog", **how)
        assert cog.status_code == 200 and cog.data[:2] in (b"II", b"MM")
        cog.close()
    with_key = client.get(f"/tiles/{world.image_id}/tilejson.json?key={key}")
    assert with_key.status_code == 200
    template = with_key.get_json()["tiles"][0]
    assert template.endswith(f"/tiles/{world.image_id}/{{z}}/{{x}}/{{y}}.png?key={key}")
    assert with_key.headers["Cache-Control"] == "private, no-store"
    assert with_key.headers["Referrer-Policy"] == "no-referrer"
    by_basic = client.get(f"/tiles/{world.image_id}/tilejson.json", headers=basic(key))
    assert "key=" not in by_basic.get_json()["tiles"][0], "only a key in the URL is carried"


def test_anywhere_else_a_key_is_no_credential(world: World) -> None:
    key = key_for(world.app)
    client = world.app.test_client()
    for path in (
        "/api/v1/images",
        f"/api/v1/images/{world.image_id}",
        "/api/v1/sites",
        "/api/v1/annotations",
    ):
        for how in (
            {"query_string": {"key": key}},
            {"headers": basic(key)},
            {"headers": {"Authorization": f"Bearer {key}"}},
        ):
            response = client.get(path, **how)
            assert response.status_code == 401, (path, how)
            assert response.get_json()["error"] == "unauthorized"
            assert key not in response.get_data(as_text=True)
    page = client.get(f"/sites/apron?key={key}&tab=1")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"] and key not in page.headers["Location"]
    assert "tab" in page.headers["Location"], "the rest of the address is kept"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/keys", query_string={"key": key}).status_code == 302


def test_a_full_token_is_no_key(world: World) -> None:
    token = token_for(world.app, "viewer")
    client = world.app.test_client()
    tile = f"/tiles/{world.image_id}/{world.tile}.png"
    assert client.get(tile, query_string={"key": token}).status_code == 401
    assert client.get(tile, headers=basic(token)).status_code == 401
    assert client.get(tile, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_write_with_a_key_is_403(world: World) -> None:
    key = key_for(world.app, "admin")
    client = world.app.test_client()
    body = {"name": "from a key", "lon": 36.0, "lat": 35.0}
    for how in (
        {"query_string": {"key": key}},
        {"headers": basic(key)},
        {"headers": {"Authorization": f"Bearer {key}"}},
    ):
        for method, path in (
            ("POST", "/api/v1/sites"),
            ("PATCH", "/api/v1/sites/apron"),
            ("DELETE", f"/tiles/{world.image_id}/{world.tile}.png"),
        ):
            refused = client.open(path, method=method, json=body, **how)  # type: ignore[arg-type]
            assert refused.status_code == 403, (method, path, how)
            envelope = refused.get_json()
            assert envelope["error"] == "forbidden" and "read-only" in envelope["message"]
            assert set(envelope) == {"error", "message", "details"}
    # a signed-in browser writing with a key in the URL is refused as well
    csrf = login(client, "admin")
    refused = client.post("/keys?key=" + key, data={"name": "x", "csrf_token": csrf})
    assert refused.status_code == 403
    with services.database(world.app).read() as session:
        assert get_user(session, "admin").tokens[-1].name == "tests", "nothing was made"


def test_a_viewer_key_sees_what_a_viewer_sees(world: World) -> None:
    """The key acts as its user: a switched-off user's key stops; a viewer's reads tiles."""
    client = world.app.test_client()
    key = key_for(world.app, "viewer")
    assert client.get(f"/wmts/1.0.0/WMTSCapabilities.xml?key={key}").status_code == 200
    admin = {"Authorization": f"Bearer {token_for(world.app, 'admin')}"}
    with services.database(world.app).write() as session:
        from annotations.catalogue.users import Role, add_user

        add_user(session, "leaver", Role.viewer, "a long password")
    leaver = key_for(world.app, "leaver")
    tile = f"/tiles/{world.image_id}/{world.tile}.png"
    assert client.get(tile, query_string={"key": leaver}).status_code == 200
    off = client.patch("/api/v1/users/leaver", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.get_json()
    assert client.get(tile, query_string={"key": leaver}).status_code == 401


def test_the_keys_page_makes_shows_once_lists_and_revokes(world: World) -> None:
    client = world.app.test_client()
    csrf = login(client, "viewer")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/keys"' in home, "the top bar links the page"
    made = client.post("/keys", data={"name": "QGIS <desk>", "csrf_token": csrf})
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    assert made.headers["Cache-Control"] == "no-store"
    start = html.index('id="new-key-value"')
    key = html[html.index('value="', start) + 7 :].split('"', 1)[0]
    assert key.startswith("ank_") and "QGIS &lt;desk&gt;" in html
    assert "/wmts/1.0.0/WMTSCapabilities.xml?key=" + key in html
    listed = client.get("/keys").get_data(as_text=True)
    assert key not in listed, "shown once"
    assert "QGIS &lt;desk&gt;" in listed and "read tiles" in listed and "never" in listed
    tile = f"/tiles/{world.image_id}/{world.tile}.png?key={key}"
    other = world.app.test_client()  # no cookies: a GIS client
    assert other.get(tile).status_code == 200
    assert other.get(tile).status_code == 200, "now remembered for a few seconds"
    assert "never" not in client.get("/keys").get_data(as_text=True).split("QGIS")[1][:300]
    key_id = int(listed.split('data-key-id="')[1].split('"')[0])
    no_csrf = client.post(f"/keys/{key_id}/revoke")
    assert no_csrf.status_code == 400
    someone = world.app.test_client()
    other_csrf = login(someone, "analyst")
    assert (
        someone.post(f"/keys/{key_id}/revoke", data={"csrf_token": other_csrf}).status_code == 404
    )
    assert other.get(tile).status_code == 200, "still live"
    gone = client.post(f"/keys/{key_id}/revoke", data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert other.get(tile).status_code == 401, "revoked at once in this process"
    assert "QGIS &lt;desk&gt;" not in client.get("/keys").get_data(as_text=True)
    unnamed = client.post("/keys", data={"name": " ", "csrf_token": csrf})
    assert unnamed.status_code == 400 and "ank_" not in unnamed.get_data(as_text=True)
    assert "Name the key" in unnamed.get_data(as_text=True)


def test_the_keys_page_needs_a_sign_in(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/keys").status_code == 302
    page = client.get("/login").get_data(as_text=True)
    refused = client.post("/keys", data={"name": "x", "csrf_token": _csrf_from(page)})
    assert refused.status_code == 302


def _layers(xml: bytes) -> list[ET.Element]:
    root = ET.fromstring(xml)  # noqa: S314  (our own answer)
    return root.findall(f"{WMTS}Contents/{WMTS}Layer")


def test_wmts_capabilities(world: World) -> None:
    client = world.app.test_client()
    key = key_for(world.app)
    refused = client.get("/wmts/1.0.0/WMTSCapabilities.xml")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    response = client.get(
        "/wmts/1.0.0/WMTSCapabilities.xml", query_string={"key": key, "site": "apron"}
    )
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Cache-Control"] == "private, no-store"
    root = ET.fromstring(response.data)  # noqa: S314
    title = root.find(f"{OWS}ServiceIdentification/{OWS}Title")
    assert title is not None and title.text == "annotator: " + HOSTILE.replace("\x07", "")
    (layer,) = _layers(response.data)
    assert layer.findtext(f"{OWS}Identifier") == world.image_id
    assert (layer.findtext(f"{OWS}Title") or "").startswith("hangar <b> & x.tif (")
    resource = layer.find(f"{WMTS}ResourceURL")
    assert resource is not None
    assert resource.get("template", "").endswith(
        f"/tiles/{world.image_id}/{{TileMatrix}}/{{TileCol}}/{{TileRow}}.png?key={key}"
    )
    path = f"{WMTS}TileMatrixSetLink/{WMTS}TileMatrixSetLimits/{WMTS}TileMatrixLimits"
    limits = {int(m.findtext(f"{WMTS}TileMatrix") or -1): m for m in layer.findall(path)}
    top = max(limits)
    assert 16 <= top <= 20, "the capture's finest zoom (0.5 m pixels) is listed"
    rows, cols = (
        [int(limits[top].findtext(f"{WMTS}{edge}") or -1) for edge in (f"Min{n}", f"Max{n}")]
        for n in ("TileRow", "TileCol")
    )
    centre = MERCATOR.tile(*world.centre, top)
    assert cols[0] < centre.x < cols[1] and rows[0] < centre.y < rows[1]
    every = client.get("/wmts/1.0.0/WMTSCapabilities.xml", headers=basic(key))
    assert every.status_code == 200 and b"?key=" not in every.data, "Basic: nothing carried"
    assert len(_layers(every.data)) == 1
    unknown = client.get("/wmts/1.0.0/WMTSCapabilities.xml?site=nowhere", headers=basic(key))
    assert unknown.status_code == 404


def test_log_lines_never_hold_a_key(world: World, caplog: pytest.LogCaptureFixture) -> None:
    key = key_for(world.app)
    client = world.app.test_client()
    with caplog.at_level(logging.DEBUG):
        client.get(f"/tiles/{world.image_id}/{world.tile}.png?key={key}")
        client.get(f"/tiles/{world.image_id}/99/0/0.png?key={key}")
        client.post(f"/api/v1/sites?key={key}", json={})
        client.get(f"/sites/apron?key={key}")
    assert key not in caplog.text
    assert (
        redact(f'"GET /tiles/a/1/2/3.png?key={key}&x=1 HTTP/1.1"')
        == '"GET /tiles/a/1/2/3.png?key=[redacted]&x=1 HTTP/1.1"'
    )
    assert key not in redact(f"/login?next=%2Fsites%2Fa%3Fkey%3D{key}")
    assert key not in redact(f"Referer: https://x/y?tab=2&KEY={key}")
    assert key not in redact(f"Authorization: Bearer {key}")
    assert redact("GET /api/v1/sites/apron 200") == "GET /api/v1/sites/apron 200"


def test_a_key_reads_the_ogc_api_and_its_links_carry_it(world: World) -> None:
    key = key_for(world.app)
    client = world.app.test_client()
    assert client.get("/ogcapi/collections").status_code == 401
    listed = client.get("/ogcapi/collections", query_string={"key": key, "f": "json"})
    assert listed.status_code == 200, listed.get_data(as_text=True)[:300]
    assert listed.headers["Referrer-Policy"] == "no-referrer"
    items = client.get("/ogcapi/collections/annotations/items", headers=basic(key))
    assert items.status_code == 200 and items.get_json()["type"] == "FeatureCollection"
    assert client.post("/ogcapi/collections", query_string={"key": key}).status_code == 403


def test_the_api_document_says_where_a_key_counts(world: World) -> None:
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {token_for(world.app, 'viewer')}"}
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["readKey"]["in"] == "query" and schemes["readKey"]["name"] == "key"
    assert schemes["readKeyBasic"]["scheme"] == "basic"
    keyed = {
        path
        for path, item in document["paths"].items()
        if {"readKey": []} in item.get("get", {}).get("security", [])
    }
    assert keyed == {
        "/tiles/{image_id}/{z}/{x}/{y}.{fmt}",
        "/tiles/{image_id}/tilejson.json",
        "/api/v1/images/{image_id}/cog",
    }
