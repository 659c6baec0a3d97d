"""Review: the editor's queue of annotations in review (the API is in annotations_api)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from annotations.annotation import Annotation
from annotations.catalogue.images import Image
from annotations.catalogue.users import Role
from annotations.review import MAX_BATCH
from annotations.search import Filters, search
from annotator import services
from annotator.auth import current_user, login_required
from annotator.services import database

bp = Blueprint("review", __name__)
QUEUE_LIMIT = 500


@bp.get("/review")
@login_required
def queue() -> str:
    """Annotations in review, oldest first; the controls only for editors."""
    user = current_user()
    can_review = user is not None and user.can(Role.editor)
    filters = Filters(
        site=request.args.get("site") or None,
        label=request.args.get("label") or None,
        status=("in_review",),
        limit=QUEUE_LIMIT,
    )
    taxonomy = services.taxonomy()
    with database().read() as session:
        annotations, more = search(session, filters)
        image_ids = {a.image_id for a in annotations}
        images = {
            image.id: image
            for image in session.scalars(select(Image).where(Image.id.in_(image_ids)))
        }
        rows = [_row(a, images[a.image_id], taxonomy) for a in annotations]
    return render_template(
        "review.html",
        rows=rows,
        more=bool(more),
        can_review=can_review,
        filters=filters,
        max_batch=MAX_BATCH,
    )


def _row(annotation: Annotation, image: Image, taxonomy: Any) -> dict[str, Any]:
    label = taxonomy.get(annotation.label)
    feature = annotation.to_feature(label_name=label.name)
    return {
        "feature": feature,
        "colour": label.colour,
        "image": image,
        "sites": [site.slug for site in image.sites],
    }
