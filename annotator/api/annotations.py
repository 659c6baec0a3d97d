"""Annotations API: GeoJSON Features in and out, with versions, history and review."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy.orm import Session

from annotations import annotation as store
from annotations.annotation import Annotation, feature_text, parse_feature
from annotations.catalogue.images import get_image
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError, Malformed
from annotations.geometry import parse_geometry
from annotations.history import revisions_of
from annotations.labels.identify import identify
from annotations.newsroom.links import link_changes, reports_by_annotation
from annotations.review import DECISIONS, Item, review
from annotations.search import search_rows
from annotator import services
from annotator.api.contract import operation
from annotator.api.filters import filters_from_query
from annotator.api.models.labels import LabelQuery, Measurement, MeasureRequest, Taxonomy
from annotator.auth import actor, login_required, role_required
from annotator.errors import RequestError
from annotator.forms import json_body
from annotator.services import database

bp = Blueprint("annotations", __name__, url_prefix="/api/v1")
ETAG = re.compile(r'^(W/)?"(?P<id>[0-9a-f]{1,32})-v(?P<version>\d{1,9})"$')


def expected_version(annotation_id: str) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    for part in header.split(","):
        match = ETAG.match(part.strip())
        if match and match["id"] == annotation_id:
            return int(match["version"])
    return -1  # an ETag, but not one of this annotation: stale by definition


def feature_of(annotation: Annotation, session: Session) -> dict[str, Any]:
    label = services.taxonomy().get(annotation.label)
    reports = reports_by_annotation(session, [annotation.id], actor().role)
    return annotation.to_feature(label_name=label.name, reports=reports.get(annotation.id))


def one(annotation: Annotation, session: Session, status: int = 200) -> Response:
    response = jsonify(feature_of(annotation, session))
    response.status_code = status
    response.set_etag(annotation.etag)
    response.headers["Location"] = url_for("annotations.show", annotation_id=annotation.id)
    return response


@bp.get("/labels")
@login_required
@operation(
    "listLabels",
    summary="The label taxonomy, or the labels matching a type-ahead search",
    tags=("labels",),
    query=LabelQuery,
    responses={200: Taxonomy},
    errors=(400,),
)
def labels(query: LabelQuery) -> Response:
    if query.q is None:
        return jsonify(services.taxonomy().to_dict())
    found = services.taxonomy().search(query.q, query.limit)
    return jsonify({"labels": [label.to_dict() for label in found]})


@bp.post("/measure")
@login_required
@operation(
    "measureAndIdentify",
    summary="Measure a shape on an image; rank the aircraft types its size fits",
    tags=("labels",),
    body=MeasureRequest,
    responses={200: Measurement},
    errors=(404,),
    security="write",
)
def measure(body: MeasureRequest) -> Response:
    """Measure a shape on an image and rank the aircraft types its size fits."""
    geometry = parse_geometry(body.geometry)
    with database().read() as session:
        gsd_m = get_image(session, body.image_id).gsd_m
    return jsonify(identify(geometry, gsd_m, services.taxonomy()).to_dict())


@bp.get("/annotations")
@login_required
def index() -> Response:
    filters = filters_from_query()
    names = {label.id: label.name for label in services.taxonomy()}
    with database().read() as session:
        rows, cursor = search_rows(session, filters)
        reports = reports_by_annotation(session, [row.id for row in rows], actor().role)
        features = [feature_text(row, names.get(row.label), reports.get(row.id)) for row in rows]
    links: list[dict[str, Any]] = []
    if cursor:
        args: dict[str, Any] = request.args.to_dict() | {"cursor": cursor}
        links.append(
            {
                "rel": "next",
                "type": "application/geo+json",
                "href": url_for("annotations.index", **args),
            }
        )
    # the features are JSON text already: join them rather than parse and re-encode
    body = (
        '{"type":"FeatureCollection","features":[' + ",".join(features) + "],"
        f'"numberReturned":{len(features)},"links":{json.dumps(links)}}}'
    )
    response = Response(body, mimetype="application/geo+json")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = 'attachment; filename="annotations.geojson"'
    return response


@bp.post("/annotations")
@role_required(Role.analyst)
def create() -> Response:
    body = json_body()
    who = actor()
    kind = body.get("type")
    if kind == "Feature":
        items = [body]
    elif kind == "FeatureCollection" and isinstance(body.get("features"), list):
        items = body["features"]
        if not items:
            raise Malformed("the FeatureCollection is empty")
    else:
        raise Malformed("send a GeoJSON Feature or FeatureCollection")
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse_feature(item, services.taxonomy()))
        except AnnotationError as exc:
            if len(items) == 1:
                raise
            # the same kind of error, saying which feature of the collection it is about
            raise type(exc)(f"features[{index}]: {exc.message}", exc.details) from exc
    with database().write() as session:
        made = [store.create(session, data, who) for data in parsed]
        features = [feature_of(a, session) for a in made]
        etags = [a.etag for a in made]
    if kind == "Feature":
        response = jsonify(features[0])
        response.set_etag(etags[0])
        response.headers["Location"] = url_for("annotations.show", annotation_id=features[0]["id"])
    else:
        response = jsonify({"type": "FeatureCollection", "features": features})
    response.status_code = 201
    return response


@bp.get("/annotations/<annotation_id>")
@login_required
def show(annotation_id: str) -> Response:
    with database().read() as session:
        annotation = store.get(session, annotation_id)
        if request.if_none_match.contains(annotation.etag):
            response = Response(status=304)
            response.set_etag(annotation.etag)
            return response
        return one(annotation, session)


@bp.route("/annotations/<annotation_id>", methods=["PUT", "PATCH"])
@role_required(Role.analyst)
def edit(annotation_id: str) -> Response:
    body = json_body()
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        base = store.as_input(annotation) if request.method == "PATCH" else None
        data = parse_feature(body, services.taxonomy(), base=base)
        store.update(
            session,
            annotation,
            data,
            actor(),
            expected_version(annotation_id),
            comment=_comment(body),
        )
        return one(annotation, session)


@bp.delete("/annotations/<annotation_id>")
@role_required(Role.analyst)
def remove(annotation_id: str) -> Response:
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        store.delete(
            session,
            annotation,
            actor(),
            expected_version(annotation_id),
            comment=request.args.get("comment"),
        )
        return one(annotation, session)


@bp.post("/annotations/<annotation_id>/status")
@role_required(Role.analyst)
def status(annotation_id: str) -> Response:
    body = json_body()
    wanted = body.get("status")
    if not isinstance(wanted, str):
        raise RequestError(
            "send {'status': 'in_review' | 'approved' | 'rejected' | 'draft'}",
            status=422,
            code="invalid",
        )
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        store.set_status(
            session,
            annotation,
            wanted,
            actor(),
            expected_version(annotation_id),
            comment=_comment(body),
        )
        return one(annotation, session)


@bp.post("/annotations/<annotation_id>/restore")
@role_required(Role.analyst)
def restore(annotation_id: str) -> Response:
    body = json_body() if request.content_length else {}
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise RequestError("'version' must be a whole number", status=422, code="invalid")
    with database().write() as session:
        annotation = store.get(session, annotation_id, include_deleted=True, for_update=True)
        store.restore(
            session,
            annotation,
            actor(),
            expected_version(annotation_id),
            to_version=version,
            comment=_comment(body),
        )
        return one(annotation, session)


@bp.get("/annotations/<annotation_id>/history")
@login_required
def history(annotation_id: str) -> Response:
    with database().read() as session:
        store.get(session, annotation_id, include_deleted=True)
        revisions = [r.to_dict() for r in revisions_of(session, annotation_id)]
        linked = [c.to_dict() for c in link_changes(session, annotation_id, actor().role)]
        return jsonify({"annotation": annotation_id, "revisions": revisions, "links": linked})


def _comment(body: dict[str, Any]) -> str | None:
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise RequestError(
            "'comment' must be text of at most 2000 characters", status=422, code="invalid"
        )
    return comment


@bp.post("/annotations/<annotation_id>/copy")
@role_required(Role.analyst)
def copy_to_image(annotation_id: str) -> Response:
    """Still there on this date: a new draft on another capture, linked to this one."""
    body = json_body()
    image_id = body.get("image")
    if not isinstance(image_id, str) or not image_id:
        raise RequestError(
            "send {'image': '<id of the capture to copy the annotation to>'}",
            status=422,
            code="invalid",
        )
    with database().write() as session:
        source = store.get(session, annotation_id)
        made = store.copy_to(session, source, image_id, actor())
        return one(made, session, status=201)


def _review_items(body: dict[str, Any]) -> list[Item]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise RequestError("send 'ids': a list of annotation ids", status=422, code="invalid")
    versions = body.get("versions", {})
    if not isinstance(versions, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in versions.values()
    ):
        raise RequestError(
            "'versions' maps annotation ids to the version you saw (numbers)",
            status=422,
            code="invalid",
        )
    unknown = set(versions) - set(ids)
    if unknown:
        raise RequestError(
            f"'versions' names ids not in 'ids': {', '.join(sorted(unknown))}",
            status=422,
            code="invalid",
        )
    return [Item(annotation_id, versions.get(annotation_id)) for annotation_id in ids]


@bp.post("/annotations/review")
@role_required(Role.editor)
def review_many() -> Response:
    """Approve or reject many annotations at once, all or nothing."""
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str):
        raise RequestError(
            f"send 'action': one of {', '.join(DECISIONS)}", status=422, code="invalid"
        )
    items = _review_items(body)
    with database().write() as session:
        done = review(session, items, action, actor(), comment=_comment(body))
        return jsonify({"action": action, "annotations": [feature_of(a, session) for a in done]})
