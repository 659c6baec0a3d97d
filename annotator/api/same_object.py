""" "Same object as": mark an annotation the same object as another on the same capture, or
clear that, so counts take the object once. Roles as for editing the annotation; If-Match as
for any write to it; each change is a revision in its history."""

from __future__ import annotations

from flask import Blueprint, Response

from annotations import annotation as store
from annotations.catalogue.users import Role
from annotations.duplicates import clear_same_as, set_same_as
from annotator.api.annotations import (
    IF_MATCH,
    WRITE_ERRORS,
    annotation_answer,
    expected_version,
    one,
)
from annotator.api.contract import operation
from annotator.api.models.annotations import DeleteQuery, SameAsRequest
from annotator.auth import actor, role_required
from annotator.services import database

bp = Blueprint("same_object", __name__, url_prefix="/api/v1")


@bp.post("/annotations/<annotation_id>/same-as")
@role_required(Role.analyst)
@operation(
    "setSameObject",
    summary="Mark an annotation the same object as another on the same capture",
    description="Counts (the site page and its chart, event summaries, figures and story "
    "maps) then take the object once, and say how many annotations were merged into it. "
    "The link goes to the annotation the other stands for, when that one is marked too. "
    "422 for itself, another capture's annotation or a link already made; 404 for an "
    "unknown one. Who may: whoever may edit this annotation.",
    tags=("annotations",),
    body=SameAsRequest,
    responses={200: annotation_answer("The annotation at its new version, with `same_as`.")},
    errors=WRITE_ERRORS,
    security="write",
    extra={"parameters": [IF_MATCH]},
)
def mark(annotation_id: str, body: SameAsRequest) -> Response:
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        set_same_as(
            session,
            annotation,
            body.annotation,
            actor(),
            expected_version(annotation_id),
            comment=body.comment,
        )
        return one(annotation, session)


@bp.delete("/annotations/<annotation_id>/same-as")
@role_required(Role.analyst)
@operation(
    "clearSameObject",
    summary="Count an annotation as its own object again",
    tags=("annotations",),
    query=DeleteQuery,
    responses={200: annotation_answer("The annotation at its new version, `same_as` null.")},
    errors=(400, *WRITE_ERRORS),
    security="write",
    extra={"parameters": [IF_MATCH]},
)
def unmark(annotation_id: str, query: DeleteQuery) -> Response:
    with database().write() as session:
        annotation = store.get(session, annotation_id, for_update=True)
        clear_same_as(
            session, annotation, actor(), expected_version(annotation_id), comment=query.comment
        )
        return one(annotation, session)
