"""Annotations API: GeoJSON Features in and out, with versions, history and review."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request, url_for
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from annotations import annotation as store
from annotations.annotation import Annotation as Row
from annotations.annotation import feature_text
from annotations.catalogue.images import get_image
from annotations.catalogue.users import Role
from annotations.discussion.comments import as_dicts, comments_on_annotation
from annotations.exchange import filenames
from annotations.feature import AnnotationInput
from annotations.geometry import parse_geometry
from annotations.history import revisions_of
from annotations.labels.identify import identify
from annotations.newsroom.links import link_changes, reports_by_annotation
from annotations.review import review
from annotations.search import search_rows
from annotator import services
from annotator.api.contract import operation, request_error, validation_context
from annotator.api.duplicates import duplicate_warnings
from annotator.api.models.annotations import (
    Annotation,
    AnnotationCollection,
    CopyRequest,
    CreatedAnnotations,
    DeleteQuery,
    FeaturePatch,
    FeatureReplace,
    History,
    NewAnnotations,
    Restore,
    ReviewRequest,
    ReviewResult,
    SearchQuery,
    StatusChange,
)
from annotator.api.models.labels import LabelQuery, Measurement, MeasureRequest, Taxonomy
from annotator.auth import actor, login_required, role_required
from annotator.forms import json_body
from annotator.services import database
from imagery.georef.placement import placement_error_m

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


def feature_of(annotation: Row, session: Session) -> dict[str, Any]:
    label = services.taxonomy().get(annotation.label)
    reports = reports_by_annotation(session, [annotation.id], actor().role)
    return annotation.to_feature(label_name=label.name, reports=reports.get(annotation.id))


def one(
    annotation: Row,
    session: Session,
    status: int = 200,
    warnings: list[dict[str, Any]] | None = None,
) -> Response:
    """The annotation with its ETag; a save's or copy's answer also carries `warnings`."""
    feature = feature_of(annotation, session)
    if warnings is not None:
        feature["warnings"] = warnings
    response = jsonify(feature)
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
        image = get_image(session, body.image_id)
        gsd_m, error_m = image.gsd_m, placement_error_m(image.georeferencing)
    found = identify(geometry, gsd_m, services.taxonomy(), placement_error_m=error_m)
    return jsonify(found.to_dict())


JSON_BODY = ("application/geo+json", "application/json")
IF_MATCH = {"$ref": "#/components/parameters/IfMatch"}
WITH_ETAG = {
    "headers": {
        "ETag": {"$ref": "#/components/headers/ETag"},
        "Location": {"$ref": "#/components/headers/Location"},
    }
}
#: the answer of a write to one annotation: the annotation at its new version, with its ETag
WRITE_ERRORS = (404, 412, 428)
EXAMPLE = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [35.9470, 35.4040],
                [35.9478, 35.4040],
                [35.9478, 35.4046],
                [35.9470, 35.4046],
                [35.9470, 35.4040],
            ]
        ],
    },
    "properties": {
        "label": "aircraft.transport.an-124",
        "image_id": "0123456789abcdef0123456789abcdef",
        "shape": "rotated-box",
        "confidence": "confirmed",
        "count": 1,
        "notes": "",
    },
}


def geojson_body(model: type[BaseModel], example: Any, *, required: bool = True) -> Any:
    """A request body of `model`, as GeoJSON or plain JSON."""
    media = {"schema": model, "example": example}
    return {"required": required, "content": {kind: media for kind in JSON_BODY}}


def annotation_answer(description: str) -> dict[str, Any]:
    content = {"application/json": {"schema": Annotation}}
    return {"description": description, "content": content, **WITH_ETAG}


@bp.get("/annotations")
@login_required
@operation(
    "searchAnnotations",
    summary="Find annotations",
    description="Oldest first; follow the `next` link for more.",
    tags=("annotations",),
    query=SearchQuery,
    responses={
        200: {
            "description": "One page of matches.",
            "content": {"application/geo+json": {"schema": AnnotationCollection}},
            "headers": {"Content-Disposition": {"$ref": "#/components/headers/ContentDisposition"}},
        }
    },
    errors=(400, 422),
)
def index(query: SearchQuery) -> Response:
    filters = query.filters(actor().role)
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
    if query.download:
        name = filenames.export_name(filters, ".geojson", datetime.now(UTC).date())
        response.headers["Content-Disposition"] = filenames.disposition(name)
    return response


@bp.post("/annotations")
@role_required(Role.analyst)
@operation(
    "createAnnotations",
    summary="Add annotations (analyst)",
    description="A Feature, or a FeatureCollection of several (all or none). New annotations "
    "are drafts at version 1.",
    tags=("annotations",),
    body=NewAnnotations,
    responses={
        201: {
            "description": "The annotation (ETag and Location for a single Feature), or a "
            "FeatureCollection of them.",
            "content": {
                "application/json": {"schema": {"oneOf": [Annotation, CreatedAnnotations]}}
            },
            **WITH_ETAG,
        }
    },
    errors=(404,),
    security="write",
    extra={"requestBody": geojson_body(NewAnnotations, EXAMPLE)},
)
def create(body: NewAnnotations) -> Response:
    who = actor()
    parsed = [feature.to_input() for feature in body.features()]
    with database().write() as session:
        made = [store.create(session, data, who) for data in parsed]
        features = [
            feature_of(a, session) | {"warnings": duplicate_warnings(session, a)} for a in made
        ]
        etags = [a.etag for a in made]
    if body.root.type == "Feature":
        response = jsonify(features[0])
        response.set_etag(etags[0])
        response.headers["Location"] = url_for("annotations.show", annotation_id=features[0]["id"])
    else:
        response = jsonify({"type": "FeatureCollection", "features": features})
    response.status_code = 201
    return response


@bp.get("/annotations/<annotation_id>")
@login_required
@operation(
    "getAnnotation",
    summary="One annotation",
    tags=("annotations",),
    responses={
        200: annotation_answer("The annotation, with its ETag."),
        304: {
            "description": "Your copy (If-None-Match) is current.",
            "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
        },
    },
    errors=(404,),
    extra={"parameters": [{"$ref": "#/components/parameters/IfNoneMatch"}]},
)
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
@operation(
    "replaceAnnotation",
    summary="Replace an annotation",
    description="Every field is sent. Analysts edit their own drafts and rejected annotations; "
    "editors any.",
    tags=("annotations",),
    responses={200: annotation_answer("The annotation at its new version.")},
    errors=(400, 415, 422, *WRITE_ERRORS),
    security="write",
    extra={"parameters": [IF_MATCH], "requestBody": geojson_body(FeatureReplace, EXAMPLE)},
    method="PUT",
)
@operation(
    "updateAnnotation",
    summary="Change some fields of an annotation",
    description="Members left out keep their current values.",
    tags=("annotations",),
    responses={200: annotation_answer("The annotation at its new version.")},
    errors=(400, 415, 422, *WRITE_ERRORS),
    security="write",
    extra={
        "parameters": [IF_MATCH],
        "requestBody": geojson_body(
            FeaturePatch, {"type": "Feature", "properties": {"confidence": "confirmed"}}
        ),
    },
    method="PATCH",
)
def edit(annotation_id: str) -> Response:
    """The body is read here, not by `operation`: a PATCH is checked against the annotation
    as it stands (its `base`), and an unknown annotation is a 404 before any of that."""
    body = json_body()
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        sent: FeatureReplace
        if request.method == "PATCH":
            sent = validate(FeaturePatch, body, base=store.as_input(annotation))
        else:
            sent = validate(FeatureReplace, body)
        before = (annotation.geometry_geojson, annotation.label)
        store.update(
            session,
            annotation,
            sent.to_input(),
            actor(),
            expected_version(annotation_id),
            comment=sent.comment,
        )
        moved = before != (annotation.geometry_geojson, annotation.label)
        warnings = duplicate_warnings(session, annotation) if moved else []
        return one(annotation, session, warnings=warnings)


@bp.delete("/annotations/<annotation_id>")
@role_required(Role.analyst)
@operation(
    "deleteAnnotation",
    summary="Delete an annotation",
    description="Kept in the history and restorable.",
    tags=("annotations",),
    query=DeleteQuery,
    responses={200: annotation_answer("The deleted annotation.")},
    errors=(400, *WRITE_ERRORS),
    security="write",
    extra={"parameters": [IF_MATCH]},
)
def remove(annotation_id: str, query: DeleteQuery) -> Response:
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        store.delete(
            session, annotation, actor(), expected_version(annotation_id), comment=query.comment
        )
        return one(annotation, session)


@bp.post("/annotations/<annotation_id>/status")
@role_required(Role.analyst)
@operation(
    "setAnnotationStatus",
    summary="Move an annotation through review",
    tags=("annotations",),
    body=StatusChange,
    responses={200: annotation_answer("The annotation in its new status.")},
    errors=WRITE_ERRORS,
    security="write",
    extra={"parameters": [IF_MATCH]},
)
def status(annotation_id: str, body: StatusChange) -> Response:
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        store.set_status(
            session,
            annotation,
            body.status,
            actor(),
            expected_version(annotation_id),
            comment=body.comment,
        )
        return one(annotation, session)


@bp.post("/annotations/<annotation_id>/restore")
@role_required(Role.analyst)
@operation(
    "restoreAnnotation",
    summary="Undo a deletion, or bring back an earlier version",
    tags=("annotations",),
    responses={200: annotation_answer("The annotation as restored, at a new version.")},
    errors=(400, 415, 422, *WRITE_ERRORS),
    security="write",
    extra={
        "parameters": [IF_MATCH],
        "requestBody": {"required": False, "content": {"application/json": {"schema": Restore}}},
    },
)
def restore(annotation_id: str) -> Response:
    """The body may be left out (undo a deletion), so it is read here, not by `operation`."""
    body = validate(Restore, json_body() if request.content_length else {})
    with database().write() as session:
        annotation = store.get(session, annotation_id, include_deleted=True, for_update=True)
        store.restore(
            session,
            annotation,
            actor(),
            expected_version(annotation_id),
            to_version=body.version,
            comment=body.comment,
        )
        return one(annotation, session)


@bp.get("/annotations/<annotation_id>/history")
@login_required
@operation(
    "annotationHistory",
    summary="Every revision: who, when, before, after, why",
    tags=("annotations",),
    responses={200: History},
    errors=(404,),
)
def history(annotation_id: str) -> Response:
    with database().read() as session:
        store.get(session, annotation_id, include_deleted=True)
        revisions = [r.to_dict() for r in revisions_of(session, annotation_id)]
        linked = [c.to_dict() for c in link_changes(session, annotation_id, actor().role)]
        talk = as_dicts(session, comments_on_annotation(session, annotation_id))
        return jsonify(
            {"annotation": annotation_id, "revisions": revisions, "links": linked, "comments": talk}
        )


@bp.post("/annotations/<annotation_id>/copy")
@role_required(Role.analyst)
@operation(
    "copyAnnotation",
    summary="Still there on this date: copy to another capture (analyst)",
    description="Makes a NEW annotation on `image`: same label, shape, geometry, confidence, "
    "count, attributes and notes; status draft; author you; observed at that capture's time; "
    "`derived_from` the original. 422 when the geometry is not inside that image's footprint "
    "or it is the same image; 404 for an unknown annotation or image.",
    tags=("annotations",),
    body=CopyRequest,
    responses={201: annotation_answer("The new annotation, with its ETag.")},
    errors=(404,),
    security="write",
)
def copy_to_image(annotation_id: str, body: CopyRequest) -> Response:
    """Still there on this date: a new draft on another capture, linked to this one."""
    with database().write() as session:
        source = store.get(session, annotation_id)
        made = store.copy_to(session, source, body.image, actor())
        return one(made, session, status=201, warnings=duplicate_warnings(session, made))


@bp.post("/annotations/review")
@role_required(Role.editor)
@operation(
    "reviewAnnotations",
    summary="Approve or reject annotations in review, in bulk (editor)",
    description="All or nothing: if any item cannot move (unknown id 404, not in review 422, "
    "changed since the version you give 412), nothing in the batch changes and the error "
    "names that item. Each annotation gets its own revision with the comment. Rule for "
    "versions: an id listed in `versions` is refused when the annotation has changed since "
    "that version; an id without one is reviewed as it stands (only annotations in review can "
    "be approved or rejected). Rejecting needs a comment.",
    tags=("annotations",),
    body=ReviewRequest,
    responses={200: ReviewResult},
    errors=(404, 412),
    security="write",
)
def review_many(body: ReviewRequest) -> Response:
    """Approve or reject many annotations at once, all or nothing."""
    with database().write() as session:
        done = review(session, body.items(), body.action, actor(), comment=body.comment)
        return jsonify(
            {"action": body.action, "annotations": [feature_of(a, session) for a in done]}
        )


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], body: Any, *, base: AnnotationInput | None = None) -> M:
    """A body read in the view (see `edit`, `restore`), checked as `operation` checks one,
    with the annotation as it stands as the base of a PATCH."""
    try:
        return model.model_validate(body, context=validation_context() | {"base": base})
    except ValidationError as exc:
        raise request_error(exc) from None
