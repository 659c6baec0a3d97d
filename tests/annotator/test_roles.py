"""Every endpoint against every role, from one table; a new route must join the table."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import mapping
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from annotations.catalogue.images import Image, Provenance
from annotations.exchange import FORMATS
from annotations.measure import box_polygon
from annotations.newsroom.reports import Claim, Report
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import _app_with_users, make_app, token_for, write_geotiff
from tests.newsroom import Newsroom, newsroom
from tests.postgis import ThrowawayCluster

ROLES = ("anonymous", "viewer", "analyst", "editor", "admin")
RANK = {role: index for index, role in enumerate(ROLES)}
CENTRE = (-84.4789, 33.6384)


def feature(image_id: str) -> dict[str, Any]:
    box = box_polygon(*CENTRE, length_m=40, width_m=30, heading_deg=90)
    return {
        "type": "Feature",
        "geometry": json.loads(json.dumps(mapping(box))),
        "properties": {
            "label": "aircraft.unknown.large",
            "image_id": image_id,
            "shape": "rotated-box",
        },
    }


# (method, rule, least role that may call it); "owner" = an analyst on their own draft
TABLE: list[tuple[str, str, str]] = [
    ("GET", "/", "viewer"),
    ("GET", "/images/<image_id>", "viewer"),
    ("GET", "/images/<image_id>/thumbnail.png", "viewer"),
    ("GET", "/tiles/<image_id>/tilejson.json", "viewer"),
    ("GET", "/tiles/<image_id>/<z>/<x>/<y>.<fmt>", "viewer"),
    ("GET", "/api/v1/sites", "viewer"),
    ("GET", "/api/v1/sites/<slug>", "viewer"),
    ("GET", "/api/v1/sites/<slug>/timeline", "viewer"),
    ("GET", "/sites/<slug>", "viewer"),
    ("GET", "/compare", "viewer"),
    ("POST", "/api/v1/sites", "analyst"),
    ("GET", "/api/v1/images", "viewer"),
    ("GET", "/api/v1/images/<image_id>", "viewer"),
    ("GET", "/api/v1/images/<image_id>/cog", "viewer"),
    ("POST", "/api/v1/images", "analyst"),
    ("GET", "/api/v1/labels", "viewer"),
    ("POST", "/api/v1/measure", "viewer"),
    ("GET", "/api/v1/annotations", "viewer"),
    ("POST", "/api/v1/annotations", "analyst"),
    ("GET", "/api/v1/annotations/<annotation_id>", "viewer"),
    ("PUT", "/api/v1/annotations/<annotation_id>", "analyst"),
    ("PATCH", "/api/v1/annotations/<annotation_id>", "analyst"),
    ("DELETE", "/api/v1/annotations/<annotation_id>", "analyst"),
    ("POST", "/api/v1/annotations/<annotation_id>/status", "analyst"),
    ("POST", "/api/v1/annotations/<annotation_id>/restore", "analyst"),
    ("POST", "/api/v1/annotations/<annotation_id>/copy", "analyst"),
    ("POST", "/api/v1/annotations/review", "editor"),
    ("GET", "/review", "viewer"),
    ("GET", "/api/v1/annotations/<annotation_id>/history", "viewer"),
    ("GET", "/api/v1/users", "admin"),
    ("POST", "/api/v1/users", "admin"),
    ("PATCH", "/api/v1/users/<name>", "admin"),
    ("POST", "/api/v1/imports", "analyst"),
    ("GET", "/api/v1/reports", "viewer"),
    ("POST", "/api/v1/reports", "editor"),
    ("GET", "/api/v1/reports/<report_id>", "analyst"),  # a draft: viewers see published ones
    ("PUT", "/api/v1/reports/<report_id>", "editor"),
    ("PATCH", "/api/v1/reports/<report_id>", "editor"),
    ("DELETE", "/api/v1/reports/<report_id>", "editor"),
    ("GET", "/api/v1/reports/<report_id>/history", "analyst"),
    ("GET", "/api/v1/reports/<report_id>/claims", "analyst"),
    ("POST", "/api/v1/reports/<report_id>/claims", "editor"),
    ("GET", "/api/v1/reports/<report_id>/claims/<claim_id>", "analyst"),
    ("DELETE", "/api/v1/reports/<report_id>/claims/<claim_id>", "editor"),
    ("POST", "/api/v1/reports/<report_id>/publish", "editor"),
    ("POST", "/api/v1/reports/<report_id>/withdraw", "editor"),
    ("GET", "/api/v1/reports/<report_id>/publications", "analyst"),
    ("GET", "/api/v1/reports/<report_id>/publications/<int:number>", "analyst"),
    ("GET", "/api/v1/reports/<report_id>/map.html", "analyst"),
    ("GET", "/api/v1/reports/<report_id>/figure.<any(png, svg):fmt>", "analyst"),
    ("GET", "/api/v1/reports/<report_id>/bundle.zip", "analyst"),
    ("GET", "/api/v1/events", "viewer"),
    ("POST", "/api/v1/events", "analyst"),
    ("GET", "/api/v1/events/<event_id>", "viewer"),
    ("PUT", "/api/v1/events/<event_id>", "analyst"),
    ("PATCH", "/api/v1/events/<event_id>", "analyst"),
    ("DELETE", "/api/v1/events/<event_id>", "editor"),
    ("POST", "/api/v1/events/<event_id>/annotations", "analyst"),
    ("DELETE", "/api/v1/events/<event_id>/annotations/<annotation_id>", "analyst"),
    ("GET", "/api/v1/events/<event_id>/history", "viewer"),
    ("GET", "/api/v1/links", "viewer"),
    ("POST", "/api/v1/links", "analyst"),
    ("GET", "/api/v1/links/<link_id>", "analyst"),  # on a draft report
    ("DELETE", "/api/v1/links/<link_id>", "analyst"),
    ("GET", "/reports", "viewer"),
    ("GET", "/import", "analyst"),
    ("POST", "/import", "analyst"),
    ("GET", "/reports/new", "editor"),
    ("POST", "/reports/new", "editor"),
    ("GET", "/reports/<report_id>", "analyst"),
    ("GET", "/reports/<report_id>/edit", "editor"),
    ("POST", "/reports/<report_id>/edit", "editor"),
    ("GET", "/events", "viewer"),
    ("GET", "/events/<event_id>", "viewer"),
    ("GET", "/api/v1/exports", "viewer"),  # a read, like GET /api/v1/annotations
    ("PATCH", "/api/v1/sites/<slug>", "analyst"),
    ("GET", "/api/v1/sites/<slug>/history", "viewer"),
    ("GET", "/api/v1/sites/<slug>/activity", "viewer"),
    ("GET", "/sites/new", "analyst"),
    ("POST", "/sites/new", "analyst"),
    ("GET", "/sites/<slug>/edit", "analyst"),
    ("POST", "/sites/<slug>/edit", "analyst"),
    ("GET", "/events/new", "analyst"),
    ("POST", "/events/new", "analyst"),
    ("GET", "/events/<event_id>/edit", "analyst"),
    ("POST", "/events/<event_id>/edit", "analyst"),
    ("GET", "/api/v1/images/coordinates", "viewer"),
    ("POST", "/api/v1/annotations/<annotation_id>/same-as", "analyst"),
    ("DELETE", "/api/v1/annotations/<annotation_id>/same-as", "analyst"),
    ("GET", "/api/v1/annotations/<annotation_id>/comments", "viewer"),
    ("POST", "/api/v1/annotations/<annotation_id>/comments", "analyst"),
    ("GET", "/api/v1/claims/<claim_id>/comments", "analyst"),  # a draft report's claim
    ("POST", "/api/v1/claims/<claim_id>/comments", "analyst"),
    ("GET", "/api/v1/comments/<comment_id>", "viewer"),
    ("GET", "/api/v1/reports/<report_id>/activity", "analyst"),
    ("GET", "/api/v1/inbox", "viewer"),
    ("POST", "/api/v1/inbox/read", "viewer"),
    ("GET", "/api/v1/people", "viewer"),
    ("GET", "/inbox", "viewer"),
    ("GET", "/keys", "viewer"),  # each user's own keys
    ("POST", "/keys", "viewer"),
    ("POST", "/keys/<int:key_id>/revoke", "viewer"),  # another's key: 404
    ("GET", "/wmts/1.0.0/WMTSCapabilities.xml", "viewer"),
    ("GET", "/api/v1/jobs", "viewer"),
    ("GET", "/api/v1/jobs/<job_id>", "viewer"),
    ("DELETE", "/api/v1/jobs/<job_id>", "viewer"),
    ("GET", "/api/v1/jobs/<job_id>/download", "viewer"),  # the owner's only: 404 for others
    ("GET", "/jobs", "analyst"),
    ("POST", "/api/v1/uploads", "analyst"),
    ("GET", "/api/v1/uploads/<upload_id>", "analyst"),  # another's upload: 404
    ("PUT", "/api/v1/uploads/<upload_id>", "analyst"),
    ("DELETE", "/api/v1/uploads/<upload_id>", "analyst"),
    ("GET", "/api/v1/uploads/<upload_id>/header", "analyst"),
    ("POST", "/api/v1/uploads/ingest", "analyst"),
    ("POST", "/api/v1/images/georeference", "analyst"),
    ("GET", "/api/v1/images/<image_id>/georeference", "viewer"),  # not a press picture: 422
    ("PUT", "/api/v1/images/<image_id>/georeference", "analyst"),
    ("POST", "/api/v1/georeference/residuals", "analyst"),
    ("POST", "/api/v1/georeference/preview", "analyst"),  # nobody's upload: 404
    ("GET", "/images/georeference/<upload_id>", "analyst"),  # the editor; nobody's upload: 404
    ("GET", "/images/<image_id>/control-points", "analyst"),  # not a press picture: 404
    ("GET", "/api/v1/georeference/picture/<upload_id>", "analyst"),
    ("GET", "/api/v1/images/<image_id>/georeference/picture", "analyst"),
    ("POST", "/api/v1/images/<image_id>/georeference/preview", "analyst"),
    ("GET", "/ogcapi/", "viewer"),
    ("GET", "/ogcapi/conformance", "viewer"),
    ("GET", "/ogcapi/api", "viewer"),
    ("GET", "/ogcapi/collections", "viewer"),
    ("GET", "/ogcapi/collections/<collection_id>", "viewer"),
    ("GET", "/ogcapi/collections/<collection_id>/items", "viewer"),
    ("GET", "/ogcapi/collections/<collection_id>/items/<feature_id>", "viewer"),
]
#: withdrawing a comment is for its author alone, whatever the role (tests/annotator/
#: test_discussion_api.py): no least role to put in the table
AUTHOR_ONLY = {("DELETE", "/api/v1/comments/<comment_id>")}
#: where the least role is refused with 404 rather than 403: the thing is hidden from it
#: (besides every GET under a draft report)
HIDDEN_BELOW = {"/api/v1/links/<link_id>", "/api/v1/claims/<claim_id>/comments"}
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/static/<path:filename>"),
    ("GET", "/embed/<token>"),  # anyone holding the unguessable token of a published report
    ("GET", "/api/v1/signing-key"),  # the public key that checks evidence bundles' signatures
    ("POST", "/language"),  # the language switcher: anyone (signed in: their CSRF token)
    ("GET", "/i18n/<language>.json"),  # the scripts' strings in a language, for anyone
}


def test_the_table_covers_every_route(app: Flask) -> None:
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(m, r) for m, r, _ in TABLE}
    extra = routes - documented - PUBLIC - AUTHOR_ONLY
    # routes other issues add are checked in their own tables; these must be here
    prefixes = (
        "/api/v1/sites",
        "/api/v1/images",
        "/api/v1/annotations",
        "/api/v1/users",
        "/api/v1/reports",
        "/api/v1/events",
        "/api/v1/links",
        "/api/v1/labels",
        "/api/v1/imports",
        "/api/v1/measure",
        "/api/v1/exports",
        "/tiles",
        "/images",
        "/import",
        "/sites",
        "/events",
        "/api/v1/claims",
        "/api/v1/comments",
        "/api/v1/inbox",
        "/api/v1/people",
        "/inbox",
        "/keys",
        "/wmts",
        "/api/v1/jobs",
        "/jobs",
        "/ogcapi",
    )
    ours = {r for r in extra if r[1].startswith(prefixes)}
    assert ours == set(), f"add these routes to the role table: {sorted(ours)}"
    assert documented <= routes, sorted(documented - routes)


@dataclass
class Scene:
    """What every case of the role table finds in its data folder: made once per module
    through the API (users with scrypt hashes, a COG made, a site, an annotation, a report,
    a claim, an event, a link, a comment: a second or two), and copied for each case, so
    that each case starts from the same state, writes to its own copy and sees no other's."""

    folder: Path
    image: Image
    annotation_id: str
    etag: str
    report: dict[str, Any]
    claim: dict[str, Any]
    event: dict[str, Any]
    link: dict[str, Any]
    said: dict[str, Any]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Scene:
    root = tmp_path_factory.mktemp("role-table")
    for app in _app_with_users(make_app(root)):
        image = import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(shared_data / "sample_geotiff.tif", "sample_geotiff.tif")],
            Provenance(),
            max_pixels=10**9,
        )[0].image
        client = app.test_client()
        analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        client.post(
            "/api/v1/sites",
            json={"name": "Atlanta", "lon": CENTRE[0], "lat": CENTRE[1]},
            headers=analyst,
        )
        draft = client.post("/api/v1/annotations", json=feature(image.id), headers=analyst)
        annotation_id, etag = draft.get_json()["id"], draft.headers["ETag"]
        editor = {"Authorization": f"Bearer {token_for(app, 'editor')}"}
        quoted = {"title": "r", "text": "a quote here"}
        report = client.post("/api/v1/reports", json=quoted, headers=editor).get_json()
        claimed = {"exact": "quote"}
        claims = f"/api/v1/reports/{report['id']}/claims"
        claim = client.post(claims, json=claimed, headers=editor).get_json()
        happened = {
            "site": "atlanta",
            "title": "e",
            "start": "2024-12-10",
            "end": "2024-12-14",
            "annotation_ids": [annotation_id],
        }
        event = client.post("/api/v1/events", json=happened, headers=analyst).get_json()
        linked = {"annotation_id": annotation_id, "claim_id": claim["id"], "stance": "supports"}
        link = client.post("/api/v1/links", json=linked, headers=analyst).get_json()
        comments = f"/api/v1/annotations/{annotation_id}/comments"
        said = client.post(comments, json={"body": "c"}, headers=analyst).get_json()
    return Scene(root / "instance", image, annotation_id, etag, report, claim, event, link, said)


@pytest.fixture
def scene_app(tmp_path: Path, scene: Scene) -> Iterator[Flask]:
    """A fresh copy of the scene's data folder (a few file copies), with the app on it."""
    shutil.copytree(scene.folder, tmp_path / "instance", ignore=shutil.ignore_patterns("tmp"))
    application = make_app(tmp_path)
    yield application
    services.database(application).dispose()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule", "least"), TABLE, ids=[f"{m} {r}" for m, r, _ in TABLE])
def test_role(
    scene: Scene, scene_app: Flask, role: str, method: str, rule: str, least: str
) -> None:
    app, image, annotation_id, etag = scene_app, scene.image, scene.annotation_id, scene.etag
    report, claim, event, link = scene.report, scene.claim, scene.event, scene.link
    said = scene.said
    client = app.test_client()
    tile = "16/17046/26205.png"
    path = (
        rule.replace("<image_id>", image.id)
        .replace("<annotation_id>", annotation_id)
        .replace("<slug>", "atlanta")
        .replace("<name>", "viewer")
        .replace("<z>/<x>/<y>.<fmt>", tile)
        .replace("<report_id>", str(report["id"]))
        .replace("<claim_id>", str(claim["id"]))
        .replace("<event_id>", str(event["id"]))
        .replace("<link_id>", str(link["id"]))
        .replace("<comment_id>", str(said["id"]))
        .replace("<int:number>", "1")
        .replace("<int:key_id>", "1")
        .replace("<job_id>", "0" * 32)  # nobody's job: 404 for every role that may ask
        .replace("<upload_id>", "0" * 32)  # nobody's upload: 404 likewise
        .replace("<any(png, svg):fmt>", "png")
        .replace("<collection_id>", "site-atlanta")
        .replace("<feature_id>", annotation_id)
    )
    headers: dict[str, str] = {"If-Match": etag}
    if role != "anonymous":
        headers["Authorization"] = f"Bearer {token_for(app, role)}"
    kwargs: dict[str, Any] = {"headers": headers}
    if rule == "/api/v1/images":
        fields: MultiDict[str, Any] = MultiDict()
        fields.add("file", FileStorage(io.BytesIO(b"not a tiff"), filename="x.tif"))
        boundary, body = encode_multipart(fields)
        kwargs.update(data=body, content_type=f"multipart/form-data; boundary={boundary}")
    elif rule == "/api/v1/imports":
        layer = {"type": "FeatureCollection", "features": [feature(image.id)]}
        fields = MultiDict({"dry_run": "1"})
        fields.add("file", FileStorage(io.BytesIO(json.dumps(layer).encode()), filename="a.json"))
        boundary, body = encode_multipart(fields)
        kwargs.update(data=body, content_type=f"multipart/form-data; boundary={boundary}")
    elif method in ("POST", "PUT", "PATCH"):
        bodies: dict[str, Any] = {
            "/api/v1/sites": {"name": f"site of {role}", "lon": 1, "lat": 1},
            "/api/v1/annotations": feature(image.id),
            "/api/v1/annotations/<annotation_id>": feature(image.id),
            "/api/v1/annotations/<annotation_id>/status": {"status": "in_review"},
            "/api/v1/annotations/<annotation_id>/restore": {},
            "/api/v1/annotations/<annotation_id>/copy": {"image": image.id},
            "/api/v1/annotations/review": {"ids": [annotation_id], "action": "approve"},
            "/api/v1/users": {
                "name": f"new-{role}",
                "role": "viewer",
                "password": "a long password",
            },
            "/api/v1/users/<name>": {"role": "viewer"},
            "/api/v1/reports": {"title": f"report of {role}"},
            "/api/v1/reports/<report_id>": {"title": f"report of {role}"},
            "/api/v1/reports/<report_id>/claims": {"exact": "a quote"},
            "/api/v1/reports/<report_id>/publish": {},
            "/api/v1/reports/<report_id>/withdraw": {"reason": f"withdrawn by {role}"},
            "/reports/new": {},
            "/import": {},  # no file: the analyst is told to attach one (400)
            "/reports/<report_id>/edit": {},
            "/api/v1/events": {
                "site": "atlanta",
                "title": "e",
                "start": "2024-12-10",
                "end": "2024-12-11",
            },
            "/api/v1/events/<event_id>": {"title": f"event of {role}"},
            "/api/v1/events/<event_id>/annotations": {"annotation_ids": [annotation_id]},
            "/api/v1/links": {
                "annotation_id": annotation_id,
                "report_id": report["id"],
                "stance": "context",
            },
            "/api/v1/measure": {"geometry": feature(image.id)["geometry"], "image_id": image.id},
            "/api/v1/sites/<slug>": {"name": f"Atlanta of {role}"},
            "/sites/new": {},
            "/sites/<slug>/edit": {},
            "/events/new": {},
            "/events/<event_id>/edit": {},
            "/api/v1/annotations/<annotation_id>/same-as": {"annotation": annotation_id},
            "/api/v1/annotations/<annotation_id>/comments": {"body": f"said by {role}"},
            "/api/v1/claims/<claim_id>/comments": {"body": f"said by {role}"},
            "/api/v1/inbox/read": {"all": True},
            "/keys": {},  # no name: the form comes back saying what is missing (400)
            "/keys/<int:key_id>/revoke": {},
            "/api/v1/uploads": {"name": f"{role}.tif", "size": 10},
            "/api/v1/uploads/<upload_id>": {},  # no Content-Range: 400
            "/api/v1/uploads/ingest": {"uploads": ["0" * 32]},
            "/api/v1/images/georeference": {},  # no file: 400
            "/api/v1/images/<image_id>/georeference": {"gcps": [[0, 0, 1, 1]]},
            "/api/v1/georeference/residuals": {
                "gcps": [[0, 0, 1, 1], [9, 0, 2, 1], [0, 9, 1, 2]],
                "width": 10,
                "height": 10,
            },
            "/api/v1/georeference/preview": {"gcps": [[0, 0, 1, 1]], "upload": "0" * 32},
            "/api/v1/images/<image_id>/georeference/preview": {"gcps": [[0, 0, 1, 1]]},
        }
        kwargs["json"] = bodies[rule]
    response = client.open(path, method=method, **kwargs)
    response.close()  # a streamed file (the COG) is read in full by .data; close it after
    if role == "anonymous":
        assert response.status_code in (401, 302), (response.status_code, response.data[:200])
    elif RANK[role] < RANK[least]:
        hidden = (method == "GET" and least == "analyst"
                  and (rule in HIDDEN_BELOW or "<report_id>" in rule))  # fmt: skip
        refused = 404 if hidden else 403
        assert response.status_code == refused, (response.status_code, response.get_json())
    else:
        assert response.status_code not in (401, 403), (response.status_code, response.data[:300])
        assert response.status_code < 500


# ---- side doors: filters and nested objects must follow the reports' rule as the routes do
#
# A draft report is for analysts and up. A viewer must not learn of it however it is reached:
# not by a filter (?report=, ?claim=), nor nested in another object (an annotation's `reports`,
# its history, an event's links, a link listing, a page, an export, a published evidence).

MARK = "QX7Z"  # in every secret below, and in nothing else the app says
SECRET_TITLE = f"Draft title {MARK} title"
SECRET_QUOTE = f"hidden quote {MARK} quote"
SECRET_NOTES = {
    "claim": f"claim note {MARK} a",
    "report": f"report note {MARK} b",
    "event": f"event note {MARK} c",
    "removed": f"removed note {MARK} d",
    "talk": f"talk on the draft's claim {MARK} e",
}
PUBLIC_NOTE = "public note K2W9"
#: ids no response holds by chance (stored with these ids, see `side_doors`)
DRAFT_ID, DRAFT_CLAIM_ID = 7_654_321, 7_654_322
UNKNOWN_ID, UNKNOWN_CLAIM_ID, UNKNOWN_LINK_ID = 7_654_399, 7_654_398, 7_654_397
SECRETS = (MARK, str(DRAFT_ID), str(DRAFT_CLAIM_ID))


@dataclass
class SideDoors:
    room: Newsroom
    annotation: str
    event: int
    published: int  # a published report on the same annotation: what a viewer may see
    published_claim: int
    published_link: int
    comment: int  # on the published report's claim, mentioning the viewer
    draft_links: list[int]
    token: str  # the published report's embed token

    def fill(self, template: str, *, report: int, claim: int, link: int) -> str:
        return template.format(
            report=report, claim=claim, link=link, annotation=self.annotation,
            event=self.event, image=self.room.image_id, slug="hmeimim-apron",
        )  # fmt: skip


@dataclass
class Doors:
    """The side doors' data, made once per module on each backend: its folder (the data
    folder, and the database file on SQLite), its database and what it holds."""

    root: Path
    database_url: str
    doors: SideDoors


@pytest.fixture(scope="module")
def doors_made() -> dict[str, Doors]:
    """Each backend's side doors, made by the first test on it (not a parametrised module
    fixture: the tests' random order would have it made again at each change of backend)."""
    return {}


def made_on(request: pytest.FixtureRequest, backend: str) -> Doors:
    root = request.getfixturevalue("tmp_path_factory").mktemp(f"side-doors-{backend}")
    url = f"sqlite:///{root}/db.sqlite"
    if backend == "postgis":
        url = request.getfixturevalue("postgis_cluster").create_database()
    for app in _app_with_users(make_app(root, url)):
        made = make_side_doors(app, write_geotiff(root / "scene.tif"))
    return Doors(root, url, made)


@pytest.fixture(params=["sqlite", "postgis"], ids=["sqlite", "postgis"])
def side_doors(
    request: pytest.FixtureRequest, doors_made: dict[str, Doors], tmp_path: Path
) -> Iterator[SideDoors]:
    """A fresh copy of the side doors' data for one test (its folder, and its database:
    the SQLite file, or a PostGIS database made with the module's as its template)."""
    if request.param not in doors_made:
        doors_made[request.param] = made_on(request, request.param)
    done = doors_made[request.param]
    folder = tmp_path / "instance"
    shutil.copytree(done.root / "instance", folder, ignore=shutil.ignore_patterns("tmp"))
    if request.param == "sqlite":
        for made in done.root.glob("db.sqlite*"):
            shutil.copy2(made, tmp_path / made.name)
        url = f"sqlite:///{tmp_path}/db.sqlite"
    else:
        cluster: ThrowawayCluster = request.getfixturevalue("postgis_cluster")
        url = cluster.create_database(template=done.database_url.rsplit("/", 1)[1])
    app = make_app(tmp_path, url)
    room = Newsroom(app, app.test_client(), done.doors.room.image_id, dict(done.doors.room.headers))
    yield replace(done.doors, room=room)
    services.database(app).dispose()


def make_side_doors(app: Flask, geotiff: Path) -> SideDoors:
    room = newsroom(app, geotiff, datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    annotation = room.annotation("approved")["id"]
    # a report a viewer may see, on the same annotation (published below)
    published = room.report(title="Public report")
    claim = room.claim(published["id"])
    link = room.link(annotation_id=annotation, claim_id=claim["id"], note=PUBLIC_NOTE)
    assert link.status_code == 201, link.get_json()
    # the draft and its claim are stored with ids of their own, so that a response holding
    # them is told from one holding some count or size that happens to be small
    text = f"Before the quote. {SECRET_QUOTE} After the quote."
    with services.database(app).write() as session:
        session.add(Report(id=DRAFT_ID, title=SECRET_TITLE, text=text, status="draft",
                           created_by="editor", updated_by="editor"))  # fmt: skip
        session.flush()
        session.add(Claim(id=DRAFT_CLAIM_ID, report_id=DRAFT_ID, exact=SECRET_QUOTE,
                          prefix="Before the quote. ", suffix=" After the quote.",
                          start=text.index(SECRET_QUOTE), created_by="editor"))  # fmt: skip
    drafts = []
    removed = room.link(annotation_id=annotation, report_id=DRAFT_ID, stance="contradicts",
                        note=SECRET_NOTES["removed"])  # fmt: skip
    assert removed.status_code == 201, removed.get_json()
    unlinked = room.call("DELETE", f"/api/v1/links/{removed.get_json()['id']}", "analyst")
    assert unlinked.status_code == 200, unlinked.get_json()
    bodies: list[dict[str, Any]] = [
        {"claim_id": DRAFT_CLAIM_ID, "note": SECRET_NOTES["claim"]},
        {"report_id": DRAFT_ID, "stance": "context", "note": SECRET_NOTES["report"]},
    ]
    for body in bodies:
        made = room.link("analyst", annotation_id=annotation, **body)
        assert made.status_code == 201, made.get_json()
        drafts.append(made.get_json()["id"])
    # talk on the draft's claim mentions the viewer, whose inbox must not hold it
    talk = room.call("POST", f"/api/v1/claims/{DRAFT_CLAIM_ID}/comments", "analyst",
                     json={"body": f"@viewer @editor {SECRET_NOTES['talk']}"})  # fmt: skip
    assert talk.status_code == 201, talk.get_json()
    said = room.call("POST", f"/api/v1/claims/{claim['id']}/comments", "analyst",
                     json={"body": "@viewer this one is public"})  # fmt: skip
    assert said.status_code == 201, said.get_json()
    event = room.call("POST", "/api/v1/events", "analyst", json={
        "site": "hmeimim-apron", "title": "An-124 airlift", "start": "2024-12-10",
        "end": "2024-12-14", "annotation_ids": [annotation]}).get_json()["id"]  # fmt: skip
    made = room.link(event_id=event, report_id=DRAFT_ID, note=SECRET_NOTES["event"])
    assert made.status_code == 201, made.get_json()
    drafts.append(made.get_json()["id"])
    # published after the draft's links were made: its frozen evidence is what viewers and
    # the public read, so it must not name the draft either
    done = room.call("POST", f"/api/v1/reports/{published['id']}/publish")
    assert done.status_code == 201, done.get_json()
    return SideDoors(room, annotation, event, published["id"], claim["id"], link.get_json()["id"],
                     said.get_json()["id"], drafts,
                     done.get_json()["embed_url"].rsplit("/", 1)[1])  # fmt: skip


def readable(body: bytes) -> bytes:
    """The body, with every member of a zip (a bundle, a zipped export) read out as well."""
    if not body.startswith(b"PK\x03\x04"):
        return body
    parts = [body]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        parts += [readable(archive.read(member)) for member in archive.namelist()]
    return b"\n".join(parts)


#: reads beyond the bare routes: filters, and the formats of the export
READS = [
    "/api/v1/annotations",
    "/api/v1/annotations?image={image}",
    "/api/v1/annotations?event={event}",
    "/api/v1/annotations?site={slug}",
    "/api/v1/annotations?report={report}",
    "/api/v1/links?annotation={annotation}",
    "/api/v1/links?event={event}",
    "/api/v1/links?report={report}",
    "/api/v1/links?claim={claim}",
    "/api/v1/events?site={slug}",
    "/review?site={slug}",
    "/compare?left={image}",
    "/api/v1/reports/{report}/map.html?download=1",
    "/api/v1/reports/{report}/figure.svg",
    "/api/v1/exports?format=geojson&event={event}",
    "/api/v1/exports?format=csv&report={report}",
    "/api/v1/inbox?limit=200",
    "/api/v1/people?q=e",
    "/ogcapi/collections?f=html",
    "/ogcapi/collections/annotations/items?limit=1000",
    *[f"/api/v1/exports?format={name}" for name in FORMATS],
]


def every_read(app: Flask, doors: SideDoors) -> list[str]:
    """Every GET route of the app (a new one joins by itself), and the READS."""
    fixed = {
        "<image_id>": doors.room.image_id, "<annotation_id>": doors.annotation,
        "<slug>": "hmeimim-apron", "<name>": "viewer", "<z>/<x>/<y>.<fmt>": "18/156344/103450.png",
        "<report_id>": str(doors.published), "<claim_id>": str(doors.published_claim),
        "<event_id>": str(doors.event), "<link_id>": str(doors.published_link),
        "<int:number>": "1", "<any(png, svg):fmt>": "png", "<token>": doors.token,
        "<comment_id>": str(doors.comment),
        "<collection_id>": f"report-{doors.published}", "<feature_id>": doors.annotation,
        "<job_id>": "0" * 32, "<int:key_id>": "1", "<upload_id>": "0" * 32, "<language>": "ar",
    }  # fmt: skip
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        path = rule.rule
        for placeholder, value in fixed.items():
            path = path.replace(placeholder, value)
        assert "<" not in path, f"say what to put in {path} for the side-door sweep"
        paths.append(path)
    filled = [doors.fill(t, report=doors.published, claim=doors.published_claim,
                         link=doors.published_link) for t in READS]  # fmt: skip
    return sorted(set(paths)) + filled


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_no_read_shows_a_draft_to_a_viewer(side_doors: SideDoors, role: str) -> None:
    """A viewer's every read lacks the draft's id, title, quote and notes; an analyst's, the
    control, shows them where they belong (so the sweep sees a leak when there is one)."""
    room = side_doors.room
    leaks, failed, bodies = [], [], {}
    for path in every_read(room.app, side_doors):
        response = room.call("GET", path, role)
        body = readable(response.get_data())
        response.close()
        bodies[path] = body
        if response.status_code >= 500:
            failed.append((path, response.status_code))
        found = [s for s in SECRETS if s.encode() in body]
        if found:
            leaks.append((path, found))
    assert failed == []
    history = f"/api/v1/annotations/{side_doors.annotation}/history"
    listing = f"/api/v1/links?annotation={side_doors.annotation}"
    # the routes that show links do show the published report's, to anyone
    assert PUBLIC_NOTE.encode() in bodies[history] and PUBLIC_NOTE.encode() in bodies[listing]
    # the control for talk: the editor, mentioned beside the viewer, has it in the inbox
    editor_inbox = room.call("GET", "/api/v1/inbox?limit=200", "editor").get_data()
    assert SECRET_NOTES["talk"].encode() in editor_inbox
    if role == "viewer":
        inbox = bodies["/api/v1/inbox?limit=200"]
        assert b"this one is public" in inbox, "the mention on the published claim shows"
        assert not leaks, f"a viewer learns of the draft report here: {leaks}"
        return
    shown = {path for path, _ in leaks}
    expected = {history, listing, f"/api/v1/annotations/{side_doors.annotation}",
                f"/api/v1/events/{side_doors.event}", f"/events/{side_doors.event}",
                "/api/v1/exports?format=csv", "/api/v1/exports?format=geojson"}  # fmt: skip
    assert expected <= shown, sorted(expected - shown)
    assert SECRET_NOTES["removed"].encode() in bodies[history], "an unlink is history too"
    publication = f"/api/v1/reports/{side_doors.published}/publications/1"
    assert publication not in shown, "published evidence names no draft, whoever reads it"


#: reads that name a report, a claim or a link: for a viewer, a draft's answer must be the
#: answer to an id that does not exist
NAMED = [
    "/api/v1/annotations?report={report}",
    "/api/v1/annotations?report={report}&image={image}",
    "/api/v1/links?report={report}",
    "/api/v1/links?claim={claim}",
    "/api/v1/links?report={report}&annotation={annotation}",
    "/api/v1/links/{link}",
    "/api/v1/reports/{report}",
    "/api/v1/reports/{report}/history",
    "/api/v1/reports/{report}/claims",
    "/api/v1/reports/{report}/claims/{claim}",
    "/api/v1/reports/{report}/publications",
    "/api/v1/reports/{report}/publications/1",
    "/api/v1/reports/{report}/map.html",
    "/api/v1/reports/{report}/figure.png",
    "/api/v1/reports/{report}/bundle.zip",
    "/reports/{report}",
    "/reports/{report}/edit",
    "/ogcapi/collections/report-{report}",
    "/ogcapi/collections/report-{report}/items",
    "/ogcapi/collections/report-{report}/items/{annotation}",
    *[f"/api/v1/exports?format={name}&report={{report}}" for name in FORMATS],
]
#: formats whose file is the same bytes whenever it is written (the others hold a time)
SAME_BYTES = ("geojson", "csv", "kml")


def _answer(response: Any, identifiers: tuple[int, ...], same_bytes: bool) -> tuple[Any, ...]:
    body = response.get_data(as_text=True) if same_bytes else ""
    response.close()
    for identifier in identifiers:
        body = body.replace(str(identifier), "<id>")
    body = re.sub(r'name="csrf_token" value="[^"]*"', "", body)
    count = response.headers.get("X-Annotation-Count")
    return response.status_code, response.mimetype, count, body


@pytest.mark.parametrize("template", NAMED)
def test_a_draft_named_by_a_viewer_is_an_unknown_id(side_doors: SideDoors, template: str
                                                    ) -> None:  # fmt: skip
    room = side_doors.room
    fmt = template.split("format=")[1].split("&")[0] if "format=" in template else None
    same_bytes = fmt is None or fmt in SAME_BYTES
    draft_path = side_doors.fill(template, report=DRAFT_ID, claim=DRAFT_CLAIM_ID,
                                 link=side_doors.draft_links[0])  # fmt: skip
    unknown_path = side_doors.fill(template, report=UNKNOWN_ID, claim=UNKNOWN_CLAIM_ID,
                                   link=UNKNOWN_LINK_ID)  # fmt: skip
    named = "{link}" in template  # a link's id is small: replaced only where it is named
    draft_ids = (DRAFT_ID, DRAFT_CLAIM_ID, *side_doors.draft_links[:named])
    draft = _answer(room.call("GET", draft_path, "viewer"), draft_ids, same_bytes)
    unknown = _answer(room.call("GET", unknown_path, "viewer"),
                      (UNKNOWN_ID, UNKNOWN_CLAIM_ID, UNKNOWN_LINK_ID), same_bytes)  # fmt: skip
    assert draft[:3] == unknown[:3]
    assert draft[3].splitlines() == unknown[3].splitlines()
    assert draft[0] < 500 and MARK not in draft[3]
    if template != "/reports/{report}/edit":  # for editors only, whatever the report
        # the control: an analyst, who may see drafts, is answered otherwise
        seen = _answer(room.call("GET", draft_path, "analyst"), draft_ids, same_bytes)
        assert seen != unknown
