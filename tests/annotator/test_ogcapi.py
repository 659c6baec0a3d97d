"""OGC API - Features at /ogcapi: the documents, the collections by role, item queries
(bbox, datetime, limit and paging, CRS, property filters), the bad inputs, HTML escaping,
and GDAL's OAPIF driver (through pyogrio) reading it from a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from openapi_spec_validator import validate
from pyproj import Transformer
from shapely.geometry import mapping, shape

from annotations.catalogue.users import READ_TILES, create_token, get_user
from annotations.measure import box_polygon
from annotations.newsroom.reports import Report
from annotator import services
from tests.conftest import _app_with_users, login, make_app, require, write_geotiff
from tests.newsroom import CENTRE, HOSTILE, Newsroom, newsroom
from tests.servers import in_thread, wsgi_server

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UTM_37N = "http://www.opengis.net/def/crs/EPSG/0/32637"  # the site's centre is at 36.2 E
DRAFT_ID = 8_765_432
#: (confidence, status, observation day, metres east of the centre)
#: a box around the first two (80 and 40 m west of the centre), not the third (at it)
WEST, EAST = CENTRE[0] - 0.0012, CENTRE[0] - 20 / 90_000
MADE = [
    ("confirmed", "approved", "2024-12-10", -80),
    ("probable", "in_review", "2024-12-11", -40),
    ("possible", "draft", "2024-12-12", 0),
    ("probable", "approved", "2024-12-13", 40),
    ("confirmed", "draft", "2024-12-14", 80),
]
SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_SCRIPT = Path(__file__).with_name("qgis_ogcapi.py")


class World:
    def __init__(self, room: Newsroom, ids: list[str], published: int) -> None:
        self.room = room
        self.ids = ids
        self.published = published

    def get(self, path: str, user: str = "viewer", **headers: str) -> Any:
        return self.room.call("GET", path, user, headers=headers)


def _post(room: Newsroom, confidence: str, day: str, east_m: float, notes: str = "") -> str:
    lon = CENTRE[0] + east_m / 90_000
    box = box_polygon(lon, CENTRE[1], length_m=20, width_m=20, heading_deg=10)
    feature = {
        "type": "Feature",
        "geometry": json.loads(json.dumps(mapping(box))),
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": room.image_id,
            "shape": "rotated-box",
            "confidence": confidence,
            "notes": notes,
            "observed_at": f"{day}T08:00:00Z",
        },
    }
    made = room.call("POST", "/api/v1/annotations", "analyst", json=feature)
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["id"])


def _move(room: Newsroom, annotation_id: str, status: str) -> None:
    steps = {
        "draft": [],
        "in_review": [("analyst", "in_review")],
        "approved": [("analyst", "in_review"), ("editor", "approved")],
    }[status]
    for user, target in steps:
        current = room.call("GET", f"/api/v1/annotations/{annotation_id}", user)
        moved = room.call(
            "POST",
            f"/api/v1/annotations/{annotation_id}/status",
            user,
            json={"status": target},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert moved.status_code == 200, moved.get_json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("ogcapi")
    for app in _app_with_users(make_app(tmp)):
        room = newsroom(
            app,
            write_geotiff(tmp / "scene.tif"),
            datetime(2024, 12, 13, 8, 21, tzinfo=UTC),
            site="Hmeimim <apron>",
        )
        ids = []
        for index, (confidence, status, day, east) in enumerate(MADE):
            notes = HOSTILE if index == 0 else f"note {index}"
            ids.append(_post(room, confidence, day, east, notes))
            _move(room, ids[-1], status)
        report = room.report(title="Public <b>report</b>")
        claim = room.claim(report["id"])
        assert room.link(annotation_id=ids[0], claim_id=claim["id"]).status_code == 201
        published = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
        assert published.status_code == 201, published.get_json()
        with services.database(app).write() as session:
            session.add(
                Report(
                    id=DRAFT_ID,
                    title="Secret draft",
                    status="draft",
                    created_by="editor",
                    updated_by="editor",
                )
            )
        assert (
            room.link(annotation_id=ids[3], report_id=DRAFT_ID, stance="context").status_code == 201
        )
        yield World(room, ids, report["id"])


def _ids(body: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in body["features"]]


def test_landing_page_conformance_and_openapi(world: World) -> None:
    assert world.get("/ogcapi").headers["Location"].endswith("/ogcapi/")  # one landing page
    landing = world.get("/ogcapi/")
    assert landing.status_code == 200 and landing.mimetype == "application/json"
    rels = {link["rel"] for link in landing.get_json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    classes = world.get("/ogcapi/conformance").get_json()["conformsTo"]
    for name in (
        "features-1/1.0/conf/core",
        "features-1/1.0/conf/geojson",
        "features-1/1.0/conf/html",
        "features-1/1.0/conf/oas30",
        "features-2/1.0/conf/crs",
    ):
        assert f"http://www.opengis.net/spec/ogcapi-{name}" in classes
    api = world.get("/ogcapi/api")
    assert api.status_code == 200 and api.mimetype == "application/vnd.oai.openapi+json"
    document = api.get_json(force=True)
    assert document["openapi"].startswith("3.0")
    validate(document)  # openapi-spec-validator: a valid OpenAPI 3.0 document
    assert "/collections/{collectionId}/items" in document["paths"]


def test_anonymous_is_refused_as_by_the_rest_api(world: World) -> None:
    for path in ("/ogcapi/", "/ogcapi/collections", "/ogcapi/collections/annotations/items"):
        answer = world.room.client.get(path)
        assert answer.status_code == 401, path
        assert answer.get_json()["code"] == "unauthorized"
    page = world.room.client.get("/ogcapi/collections?f=html")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    # a key that no longer works is not carried into the sign-in page's address
    page = world.room.client.get("/ogcapi/collections?f=html&key=ank_revoked-secret")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert "ank_revoked-secret" not in page.headers["Location"]
    assert "f%3Dhtml" in page.headers["Location"] or "f=html" in page.headers["Location"]


def test_collections_follow_the_reports_rule(world: World) -> None:
    site, public, draft = "site-hmeimim-apron", f"report-{world.published}", f"report-{DRAFT_ID}"
    seen = {c["id"] for c in world.get("/ogcapi/collections").get_json()["collections"]}
    assert {"annotations", site, public} <= seen and draft not in seen
    analyst = {
        c["id"] for c in world.get("/ogcapi/collections", "analyst").get_json()["collections"]
    }
    assert draft in analyst
    hidden = world.get(f"/ogcapi/collections/{draft}")
    unknown = world.get("/ogcapi/collections/report-8765499")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_data(as_text=True).replace(str(DRAFT_ID), "<id>") == unknown.get_data(
        as_text=True
    ).replace("8765499", "<id>")
    assert world.get(f"/ogcapi/collections/{draft}/items").status_code == 404
    assert (
        world.get(f"/ogcapi/collections/{draft}/items", "analyst").get_json()["numberReturned"] == 1
    )
    body = world.get(f"/ogcapi/collections/{site}").get_json()
    assert body["crs"] == [CRS84, EPSG_4326, UTM_37N] and body["storageCrs"] == CRS84
    assert _ids(world.get(f"/ogcapi/collections/{public}/items").get_json()) == [world.ids[0]]


def test_items_page_by_next_links_and_clamp_the_limit(world: World) -> None:
    url, seen = "/ogcapi/collections/site-hmeimim-apron/items?limit=2", []
    while url:
        answer = world.get(url)
        assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
        assert answer.headers["Content-Crs"] == f"<{CRS84}>"
        body = answer.get_json()
        assert body["numberReturned"] == len(body["features"]) <= 2
        seen += _ids(body)
        after = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = urlsplit(after[0])._replace(scheme="", netloc="").geturl() if after else ""
    assert seen == world.ids
    clamped = world.get("/ogcapi/collections/annotations/items?limit=20000")
    assert clamped.status_code == 200
    assert "10000" in clamped.headers["OGC-Limit-Clamped"]
    self_link = next(link for link in clamped.get_json()["links"] if link["rel"] == "self")
    assert parse_qs(urlsplit(self_link["href"]).query)["limit"] == ["10000"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("datetime=2024-12-11", [1]),
        ("datetime=2024-12-11T08:00:00Z", [1]),
        ("datetime=2024-12-11/2024-12-12", [1, 2]),
        ("datetime=../2024-12-11", [0, 1]),
        ("datetime=2024-12-13/..", [3, 4]),
        ("status=approved", [0, 3]),
        ("status=draft,in_review", [1, 2, 4]),
        ("confidence=probable", [1, 3]),
        ("confidence=probable,confirmed", [0, 1, 3, 4]),
        ("label=aircraft.transport", [0, 1, 2, 3, 4]),
        ("label=vehicle", []),
    ],
)
def test_items_filter_by_time_and_property(world: World, query: str, expected: list[int]) -> None:
    body = world.get(f"/ogcapi/collections/annotations/items?limit=100&{query}").get_json()
    assert _ids(body) == [world.ids[i] for i in expected]


def test_bbox_in_each_crs_and_answers_in_each_crs(world: World) -> None:
    west, east = WEST, EAST
    box = f"{west},{CENTRE[1] - 0.0003},{east},{CENTRE[1] + 0.0003}"
    base = "/ogcapi/collections/site-hmeimim-apron/items?limit=100"
    assert _ids(world.get(f"{base}&bbox={box}").get_json()) == world.ids[:2]
    swapped = f"{CENTRE[1] - 0.0003},{west},{CENTRE[1] + 0.0003},{east}"
    assert _ids(world.get(f"{base}&bbox={swapped}&bbox-crs=EPSG:4326").get_json()) == world.ids[:2]
    to_utm = Transformer.from_crs("OGC:CRS84", "EPSG:32637", always_xy=True)
    utm = to_utm.transform_bounds(west, CENTRE[1] - 0.0003, east, CENTRE[1] + 0.0003)
    in_utm = world.get(f"{base}&bbox={','.join(map(str, utm))}&bbox-crs={UTM_37N}&crs={UTM_37N}")
    assert in_utm.headers["Content-Crs"] == f"<{UTM_37N}>"
    body = in_utm.get_json()
    assert _ids(body) == world.ids[:2]
    plain = world.get(f"{base}&bbox={box}").get_json()["features"][0]
    centre84 = shape(plain["geometry"]).centroid
    centre_utm = shape(body["features"][0]["geometry"]).centroid
    expected = to_utm.transform(centre84.x, centre84.y)
    assert abs(centre_utm.x - expected[0]) < 0.5 and abs(centre_utm.y - expected[1]) < 0.5
    one = world.get(f"/ogcapi/collections/annotations/items/{world.ids[0]}?crs={EPSG_4326}")
    assert one.headers["Content-Crs"] == f"<{EPSG_4326}>"
    lat, lon = shape(one.get_json()["geometry"]).centroid.coords[0]
    assert abs(lat - centre84.y) < 1e-6 and abs(lon - centre84.x) < 1e-6  # EPSG:4326: lat first


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/ogcapi/collections/nowhere", 404, "no collection"),
        ("/ogcapi/collections/nowhere/items", 404, "no collection"),
        ("/ogcapi/collections/annotations/items?bbox=1,2,3,4,5", 400, "5 given"),
        ("/ogcapi/collections/annotations/items?bbox=a,b,c,d", 400, "numbers"),
        (
            "/ogcapi/collections/annotations/items?datetime=2024-12-12/2024-12-10",
            400,
            "ends before",
        ),
        ("/ogcapi/collections/annotations/items?datetime=2024-12-10/x", 400, "ISO 8601"),
        ("/ogcapi/collections/annotations/items?datetime=a/b/c", 400, "one interval"),
        ("/ogcapi/collections/annotations/items?crs=EPSG:3857", 400, "not offered"),
        (f"/ogcapi/collections/annotations/items?crs={UTM_37N}", 400, "not offered"),
        ("/ogcapi/collections/annotations/items?bbox-crs=EPSG:9999", 400, "not offered"),
        ("/ogcapi/collections/annotations/items?limit=0", 400, "at least 1"),
        ("/ogcapi/collections/annotations/items?limit=ten", 400, "whole number"),
        ("/ogcapi/collections/annotations/items?status=lost", 400, "status must be among"),
        ("/ogcapi/collections/annotations/items?confidence=sure", 400, "confidence must be"),
        ("/ogcapi/collections/annotations/items?cursor=zzz", 400, "cursor"),
        ("/ogcapi/collections/annotations/items?colour=red", 400, "unknown query parameter"),
        ("/ogcapi/collections/annotations/items?f=xml", 400, "f must be"),
        ("/ogcapi/collections/annotations/items/ffff", 404, "no feature"),
    ],
)
def test_bad_input_is_a_clear_error(world: World, path: str, status: int, words: str) -> None:
    answer = world.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.get_json()
    assert words in body["description"] and body["message"] == body["description"]
    assert body["code"] == body["error"]


def test_html_pages_escape_user_text(world: World) -> None:
    for path in (
        "/ogcapi/?f=html",
        "/ogcapi/conformance?f=html",
        "/ogcapi/api?f=html",
        "/ogcapi/collections?f=html",
        "/ogcapi/collections/site-hmeimim-apron?f=html",
        "/ogcapi/collections/annotations/items?f=html",
        f"/ogcapi/collections/annotations/items/{world.ids[0]}?f=html",
    ):
        page = world.get(path, Accept="text/html")
        assert page.status_code == 200 and page.mimetype == "text/html", path
        text = page.get_data(as_text=True)
        assert "<script>alert" not in text and "<apron>" not in text and "<b>report" not in text
    items = world.get("/ogcapi/collections/annotations/items", Accept="text/html")
    assert items.mimetype == "text/html"  # a browser's Accept chooses HTML
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in items.get_data(as_text=True)
    listing = world.get("/ogcapi/collections?f=html").get_data(as_text=True)
    assert "Hmeimim &lt;apron&gt;" in listing and "Secret draft" not in listing


def read_key(app: Flask, user: str) -> str:
    """A read-only key (scope read-tiles), as `annotator tokens create USER --scope
    read-tiles` makes one."""
    with services.database(app).write() as session:
        return create_token(session, get_user(session, user), "gis", READ_TILES)


def test_a_read_key_in_the_url_is_carried_by_the_links(world: World) -> None:
    key = read_key(world.room.app, "viewer")
    client = world.room.app.test_client()
    answer = client.get(f"/ogcapi/collections/annotations/items?limit=2&key={key}")
    assert answer.status_code == 200, answer.get_json()
    links = {link["rel"]: link["href"] for link in answer.get_json()["links"]}
    for rel in ("self", "alternate", "collection", "next"):
        assert parse_qs(urlsplit(links[rel]).query)["key"] == [key], rel
    page = client.get(urlsplit(links["next"])._replace(scheme="", netloc="").geturl())
    assert page.status_code == 200 and page.get_json()["numberReturned"] == 2


def test_a_browser_session_reads_it(world: World) -> None:
    client = world.room.app.test_client()
    login(client, "viewer")
    answer = client.get("/ogcapi/collections/annotations/items?limit=1")
    assert answer.status_code == 200 and answer.get_json()["numberReturned"] == 1


@pytest.fixture(scope="module")
def live(world: World) -> Iterator[str]:
    with in_thread(wsgi_server(world.room.app)) as url:
        yield url


#: run by the venv's Python in a process of its own: the app deregisters GDAL's network
#: drivers (OAPIF among them) in its own process, as imagery.gdal explains
GDAL_CLIENT = """
import json, sys
import pyogrio
source, site, box = sys.argv[1], sys.argv[2], tuple(map(float, sys.argv[3].split(",")))
frame = pyogrio.read_dataframe(source, layer=site)
boxed = pyogrio.read_dataframe(source, layer=site, bbox=box)
print(json.dumps({"layers": [name for name, _ in pyogrio.list_layers(source)],
                  "features": len(frame), "confidence": sorted(set(frame["confidence"])),
                  "boxed": len(boxed), "crs": str(frame.crs)}))
"""


def test_gdal_reads_the_collections_live(world: World, live: str, tmp_path: Path) -> None:
    """GDAL's OAPIF driver (through pyogrio), as ogr2ogr uses it: list the layers, read a
    site's features, and a bbox of them."""
    token = world.room.as_("viewer")["Authorization"]
    box = ",".join(map(str, (WEST, CENTRE[1] - 0.0003, EAST, CENTRE[1] + 0.0003)))
    headers = tmp_path / "headers.txt"
    headers.write_text(f"Authorization: {token}\n")
    done = subprocess.run(
        [sys.executable, "-c", GDAL_CLIENT, f"OAPIF:{live}/ogcapi", "site-hmeimim-apron", box],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "GDAL_HTTP_HEADER_FILE": str(headers),
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"annotations", "site-hmeimim-apron", f"report-{world.published}"} <= set(seen["layers"])
    assert f"report-{DRAFT_ID}" not in seen["layers"]
    assert seen["features"] == len(world.ids) and seen["boxed"] == 2
    assert seen["confidence"] == ["confirmed", "possible", "probable"]
    assert "4326" in seen["crs"] or "CRS84" in seen["crs"]


def has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = [SYSTEM_PYTHON, "-c", "import qgis.core"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def test_qgis_loads_a_site_as_a_layer(world: World, live: str, tmp_path: Path) -> None:
    require(has_qgis(), "PyQGIS is not installed (Debian's python3-qgis)")
    key = read_key(world.room.app, "viewer")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(QGIS_SCRIPT), f"{live}/ogcapi", "site-hmeimim-apron", key],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["valid"] and seen["features"] == len(world.ids), seen
    assert seen["crs"] in ("OGC:CRS84", "EPSG:4326"), seen
