"""Every endpoint against every role, from one table; a new route must join the table."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import mapping
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from annotations.images import Provenance
from annotations.measure import box_polygon
from annotator.importing import Upload, import_images
from tests.conftest import token_for

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
]
#: where the least role is refused with 404 rather than 403: the thing is hidden from it
#: (besides every GET under a draft report)
HIDDEN_BELOW = {"/api/v1/links/<link_id>"}
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/static/<path:filename>"),
    ("GET", "/embed/<token>"),  # anyone holding the unguessable token of a published report
    ("GET", "/api/v1/signing-key"),  # the public key that checks evidence bundles' signatures
}


def test_the_table_covers_every_route(app: Flask) -> None:
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(m, r) for m, r, _ in TABLE}
    extra = routes - documented - PUBLIC
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
    )
    ours = {r for r in extra if r[1].startswith(prefixes)}
    assert ours == set(), f"add these routes to the role table: {sorted(ours)}"
    assert documented <= routes, sorted(documented - routes)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule", "least"), TABLE, ids=[f"{m} {r}" for m, r, _ in TABLE])
def test_role(app: Flask, shared_data: Path, role: str, method: str, rule: str, least: str) -> None:
    image = import_images(
        app.extensions["annotator.database"],
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
    report = client.post("/api/v1/reports", json={"title": "r", "text": "a quote here"},
                         headers=editor).get_json()  # fmt: skip
    claim = client.post(f"/api/v1/reports/{report['id']}/claims", json={"exact": "quote"},
                        headers=editor).get_json()  # fmt: skip
    event = client.post("/api/v1/events", json={"site": "atlanta", "title": "e", "start":
                        "2024-12-10", "end": "2024-12-14", "annotation_ids": [annotation_id]},
                        headers=analyst).get_json()  # fmt: skip
    link = client.post("/api/v1/links", json={"annotation_id": annotation_id, "claim_id":
                       claim["id"], "stance": "supports"}, headers=analyst).get_json()  # fmt: skip
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
        .replace("<int:number>", "1")
        .replace("<any(png, svg):fmt>", "png")
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
