"""The control-point editor: `/images/georeference/<upload id>` places a picture sent with
the resumable uploads (analysts and up; the upload must be the user's own and complete),
`/images/<image id>/control-points` places a placed press picture again (a new version).

The picture is shown re-encoded from its pixels alone (`.../picture`: no EXIF, XMP or text
chunk, at most PICTURE_PIXELS a side, Pillow's bomb limit set by imagery.press.read); the
original stays untouched. A placed picture's preview is warped from its kept original.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import numpy as np
from flask import Blueprint, Response, current_app, render_template, url_for
from PIL import Image as PillowImage
from pydantic import BaseModel, ConfigDict

from annotations.catalogue.images import Image, get_image
from annotations.catalogue.sites import list_sites
from annotations.catalogue.users import Role
from annotator.api.contract import operation
from annotator.auth import role_required
from annotator.errors import RequestError
from annotator.georeference.api import _answer, _points, _upload_path, preview_of
from annotator.georeference.models import Method, PlacementPreview, Points
from annotator.georeference.placing import original_path, placement
from annotator.services import database
from imagery.errors import ImageryError
from imagery.press.read import inspect, pixels

bp = Blueprint("georeference_page", __name__)
#: the longest side of the picture the editor shows (points stay in the original's pixels)
PICTURE_PIXELS = 2048
TAGS = ("georeference",)
PICTURE = {
    200: {
        "description": "The picture re-encoded from its pixels (JPEG, or PNG with alpha): "
        f"no metadata, at most {PICTURE_PIXELS} pixels a side.",
        "content": {"image/jpeg": {}, "image/png": {}},
    }
}


class OriginalPreviewBody(BaseModel):
    """Points and a method for a placed picture's kept original."""

    model_config = ConfigDict(extra="forbid")

    gcps: list[list[float]] = Points
    method: Method = "affine"
    format: Literal["webp", "png"] = "webp"


def _placed_original(image_id: str) -> tuple[list[str], dict[str, Any], Path, str]:
    """A placed press picture's sites, its placement, its kept original and its name."""
    with database().read() as session:
        image: Image = get_image(session, image_id)
        sites = [site.slug for site in image.sites]
        facts = placement(image)
        filename = image.original_filename
    if facts is None:
        raise RequestError(
            f"image {image_id} was not placed by control points", status=404, code="not_found"
        )
    path = original_path(current_app.config, str(facts.get("original_sha256")))
    if not path.is_file():
        raise RequestError("the original picture is no longer kept", status=404, code="not_found")
    return sites, facts, path, str(facts.get("original_name") or filename)


def _encoded(path: Path, name: str) -> Response:
    """The picture's pixels alone, re-encoded: nothing of the original's metadata."""
    try:
        data, _ = pixels(path, name, longest=PICTURE_PIXELS)
    except ImageryError as error:
        raise _answer(error) from None
    shown = PillowImage.fromarray(data[0] if data.shape[0] == 1 else np.moveaxis(data, 0, 2))
    out = io.BytesIO()
    if shown.mode == "RGBA":
        shown.save(out, "PNG")
        mimetype = "image/png"
    else:
        shown.save(out, "JPEG", quality=88)
        mimetype = "image/jpeg"
    response = Response(out.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _sites() -> list[dict[str, Any]]:
    """Every site with its outline and its captures, for the reference's selects."""
    with database().read() as session:
        return [
            {
                "slug": site.slug,
                "name": site.name,
                "area": site.to_dict()["area"],
                "captures": [
                    {
                        "id": image.id,
                        "name": image.original_filename,
                        "captured": image.to_dict()["captured_at"],
                        "tilejson": url_for("tiles.tilejson", image_id=image.id),
                    }
                    for image in site.images
                ],
            }
            for site in list_sites(session)
        ]


def _editor(data: dict[str, Any]) -> str:
    base = {
        "sites": _sites(),
        "residuals": url_for("georeference.residuals"),
        "jobs": url_for("jobs_page.jobs"),
    }
    return render_template("georeference.html", data=base | data)


@bp.get("/images/georeference/<upload_id>")
@role_required(Role.analyst)
def new(upload_id: str) -> str:
    """The editor on a finished upload of the caller's own (anyone else's: 404)."""
    path, name = _upload_path_or_404(upload_id)
    try:
        picture = inspect(path, name)
    except ImageryError as error:
        raise _answer(error) from None
    return _editor(
        {
            "mode": "new",
            "upload": upload_id,
            "name": name,
            "width": picture.width,
            "height": picture.height,
            "picture": url_for("georeference_page.upload_picture", upload_id=upload_id),
            "preview": url_for("georeference.preview"),
            "save": url_for("georeference.place_new"),
            "gcps": [],
            "method": "affine",
            "facts": {},
        }
    )


def _upload_path_or_404(upload_id: str) -> tuple[Path, str]:
    try:
        return _upload_path(upload_id)
    except RequestError as error:
        if error.status == 409:  # not complete yet: nothing to place
            raise RequestError(
                f"no finished upload {upload_id}", status=404, code="not_found"
            ) from None
        raise


@bp.get("/images/<image_id>/control-points")
@role_required(Role.analyst)
def again(image_id: str) -> str:
    """The editor on a placed press picture's points: saving makes a new version."""
    sites, facts, path, name = _placed_original(image_id)
    try:
        picture = inspect(path, name)
    except ImageryError as error:
        raise _answer(error) from None
    return _editor(
        {
            "mode": "again",
            "image": image_id,
            "name": name,
            "width": picture.width,
            "height": picture.height,
            "picture": url_for("georeference_page.placed_picture", image_id=image_id),
            "preview": url_for("georeference_page.placed_preview", image_id=image_id),
            "save": url_for("georeference.placed", image_id=image_id),
            "history": url_for("georeference.placed", image_id=image_id),
            "gcps": facts.get("gcps") or [],
            "method": facts.get("method") or "affine",
            "reference": facts.get("reference_image"),
            "facts": {
                "source_url": facts.get("source_url"),
                "credit": facts.get("credit"),
                "captured": facts.get("captured"),
                "sites": sites,
            },
        }
    )


@bp.get("/api/v1/georeference/picture/<upload_id>")
@role_required(Role.analyst)
@operation(
    "georeferencePicture",
    summary="An uploaded press picture as the editor shows it (analyst)",
    description="Re-encoded from its pixels (EXIF orientation applied): no EXIF GPS, camera "
    "or author is served; the upload itself is untouched. Someone else's upload is 404.",
    tags=TAGS,
    responses=PICTURE,
    errors=(404, 409, 413, 415),
)
def upload_picture(upload_id: str) -> Response:
    path, name = _upload_path(upload_id)
    return _encoded(path, name)


@bp.get("/api/v1/images/<image_id>/georeference/picture")
@role_required(Role.analyst)
@operation(
    "placedPicture",
    summary="A placed press picture's original as the editor shows it (analyst)",
    description="Re-encoded from the kept original's pixels: no metadata is served.",
    tags=TAGS,
    responses=PICTURE,
    errors=(404, 413, 415),
)
def placed_picture(image_id: str) -> Response:
    _, _, path, name = _placed_original(image_id)
    return _encoded(path, name)


@bp.post("/api/v1/images/<image_id>/georeference/preview")
@role_required(Role.analyst)
@operation(
    "placedPreview",
    summary="A preview of a placed press picture with new points (analyst)",
    description="As POST /api/v1/georeference/preview, from the picture's kept original.",
    tags=TAGS,
    body=OriginalPreviewBody,
    responses={200: PlacementPreview},
    errors=(400, 404, 413, 415, 422),
    security="write",
)
def placed_preview(image_id: str, body: OriginalPreviewBody) -> Response:
    points = _points(body.gcps)
    _, _, path, name = _placed_original(image_id)
    return preview_of(path, name, points, body.method, body.format)
