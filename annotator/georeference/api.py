"""The georeferencing routes.

`POST /api/v1/images/georeference` (multipart: `file`, `gcps` as JSON, the stated facts)
and `PUT /api/v1/images/<id>/georeference` (new points) check everything in the request,
then queue a georeference job (202) that warps the picture into a capture; `GET` on the
latter is the placement and its versions. For the control-point editor, on a picture sent
with the resumable uploads (/api/v1/uploads): `POST /api/v1/georeference/residuals` (no
warp) and `POST /api/v1/georeference/preview` (a small warped WebP or PNG and its bounds).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations import jsontext
from annotations.catalogue.images import get_image
from annotations.catalogue.users import Role
from annotations.times import parse_time
from annotations.uploads.chunks import UploadError
from annotator.api.contract import operation
from annotator.auth import actor, login_required, role_required
from annotator.errors import RequestError
from annotator.georeference.job import GEOREFERENCE, SOURCE, georeference_params
from annotator.georeference.models import (
    PlaceAgain,
    PlacementHistory,
    PlacementPreview,
    PlacementPreviewBody,
    PlacementResiduals,
    PlacementResidualsBody,
)
from annotator.georeference.placing import (
    Details,
    check_placement,
    history,
    original_path,
    placement,
)
from annotator.jobs.models import JobOut
from annotator.jobs.start import start_with_files
from annotator.services import database
from annotator.upload.api import chunks, finished_upload, refused
from imagery.errors import ImageryError, ImageTooLarge
from imagery.press.fit import BadControlPoints, ControlPoint, fit, parse_points
from imagery.press.place import preview as warp_preview
from imagery.press.read import NotAnImage, inspect

bp = Blueprint("georeference", __name__, url_prefix="/api/v1")
LOCATION = {"Location": {"$ref": "#/components/headers/Location"}}
TAGS = ("georeference",)
FORM_FIELDS = {
    "file": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP."},
    "gcps": {"type": "string", "description": "JSON: [[px, py, lon, lat], ...]"},
    "method": {"type": "string", "enum": ["affine", "polynomial", "tps"]},
    "captured": {"type": "string", "description": "ISO 8601 as stated; unknown if absent"},
    "provider": {"type": "string"},
    "licence": {"type": "string"},
    "attribution": {"type": "string", "description": "The credit line as published."},
    "source_url": {"type": "string", "description": "The article's URL."},
    "site": {"type": "array", "items": {"type": "string"}},
    "upload": {"type": "string", "description": "Instead of `file`: a finished upload's id."},
    "reference": {"type": "string", "description": "A capture of the same site (id)."},
}
MULTIPART = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["gcps"], "properties": FORM_FIELDS}
        }
    },
}


def _answer(error: ImageryError) -> RequestError:
    """A refused picture or placement, in the API's words."""
    if isinstance(error, NotAnImage):
        return RequestError(str(error), status=415, code="not_an_image")
    if isinstance(error, ImageTooLarge):
        return RequestError(str(error), status=413, code="image_too_large")
    return RequestError(str(error), status=422, code="invalid_control_points")


def _points(raw: Any) -> list[ControlPoint]:
    try:
        return parse_points(raw)
    except BadControlPoints as error:
        raise _answer(error) from None


def _upload_path(upload_id: str) -> tuple[Path, str]:
    """A finished upload of the caller's: its file and the name they gave it."""
    return finished_upload(upload_id)


@bp.post("/georeference/residuals")
@role_required(Role.analyst)
@operation(
    "georeferenceResiduals",
    summary="Residuals of control points, without warping (analyst)",
    description="Each point's residual in metres and the RMSE, from GDAL's own transformer "
    "of the method (the one the warp uses), the worst point, and the methods the number of "
    "points allows. Give the picture's `width` and `height`, or the `upload` holding it.",
    tags=TAGS,
    body=PlacementResidualsBody,
    responses={200: PlacementResiduals},
    errors=(400, 404, 409, 413, 415, 422),
    security="write",
)
def residuals(body: PlacementResidualsBody) -> Response:
    points = _points(body.gcps)
    try:
        if body.upload is not None:
            path, name = _upload_path(body.upload)
            picture = inspect(path, name)
            width, height = picture.width, picture.height
        elif body.width is not None and body.height is not None:
            width, height = body.width, body.height
        else:
            raise RequestError("give the picture's width and height, or its upload", status=422)
        return jsonify(fit(points, body.method, width, height).to_dict())
    except ImageryError as error:
        raise _answer(error) from None


@bp.post("/georeference/preview")
@role_required(Role.analyst)
@operation(
    "georeferencePreview",
    summary="A small warped preview of an uploaded press picture (analyst)",
    description="The picture warped by the points and method (GDAL, as the capture will be) "
    "into Web Mercator, at most 1024 pixels a side, transparent outside, as WebP (or PNG "
    'with `"format": "png"`), with its bounds: an overlay for the reference\'s map.',
    tags=TAGS,
    body=PlacementPreviewBody,
    responses={200: PlacementPreview},
    errors=(400, 404, 409, 413, 415, 422),
    security="write",
)
def preview(body: PlacementPreviewBody) -> Response:
    points = _points(body.gcps)
    path, name = _upload_path(body.upload)
    return preview_of(path, name, points, body.method, body.format)


def preview_of(
    path: Path, name: str, points: list[ControlPoint], method: str, fmt: str
) -> Response:
    """The picture at `path` warped by `points` into a small preview, as the editor's
    calls answer it (an upload's, or a placed picture's kept original)."""
    try:
        picture = inspect(path, name)
        fitted = fit(points, method, picture.width, picture.height)
        shown = warp_preview(path, name, fitted, fmt=fmt)
    except ImageryError as error:
        raise _answer(error) from None
    return jsonify(
        {
            "image": f"data:image/{shown.format};base64,"
            + base64.b64encode(shown.image).decode("ascii"),
            "format": shown.format,
            "width": shown.width,
            "height": shown.height,
            "bounds": list(shown.bounds),
            "rmse_m": fitted.rmse_m,
        }
    )


def _queue(
    owner: str, params: dict[str, Any], receive: Any, check: Any
) -> tuple[Response, int, dict[str, str]]:
    """Receive the picture into a new job's folder, check the placement, then queue it;
    a refusal leaves nothing (no folder, no job)."""

    def fill(folder: Path) -> dict[str, Any]:
        receive(folder)
        try:
            check(folder)
        except ImageryError as error:
            raise _answer(error) from None
        return params

    body = start_with_files(GEOREFERENCE, owner, fill)
    return jsonify(body), 202, {"Location": url_for("jobs_api.show", job_id=body["id"])}


@bp.post("/images/georeference")
@role_required(Role.analyst)
@operation(
    "georeferencePressImage",
    summary="Place a press picture by control points (analyst)",
    description="Multipart: the picture (`file`: JPEG, PNG or WebP; or `upload`, the id of "
    "one sent with /api/v1/uploads, which is used up), its control points "
    "(`gcps`, JSON), the method, and what is stated about it. Everything is checked now "
    "(points, method, sites, a reference of the same site holding the points); a "
    "georeference job then warps it into a capture (202, `Location` is the job; its result "
    "links the image and states the placement). The original's bytes are kept untouched "
    "under their sha256; what is served carries no EXIF. Placing the same picture again "
    "makes a new version.",
    tags=TAGS,
    responses={202: {"description": "Queued.", "headers": LOCATION, "content": JobOut}},
    errors=(400, 404, 413, 415, 422, 429, 503),
    security="write",
    extra={"requestBody": MULTIPART},
)
def place_new() -> tuple[Response, int, dict[str, str]]:
    storage = request.files.get("file")
    upload_id = request.form.get("upload")
    if (storage is None or not storage.filename) and not upload_id:
        raise RequestError(
            "attach the picture as a multipart form field named 'file', or name its 'upload'"
        )
    try:
        raw = jsontext.loads(request.form.get("gcps") or "")
    except ValueError:
        raise RequestError("gcps must be JSON: [[px, py, lon, lat], ...]", status=422) from None
    points = _points(raw)
    form = request.form
    method = form.get("method") or "affine"
    captured = form.get("captured")
    details = Details(
        source_url=form.get("source_url") or None,
        provider=form.get("provider") or None,
        licence=form.get("licence") or None,
        attribution=form.get("attribution") or None,
        captured=parse_time(captured, "captured") if captured else None,
        sites=tuple(s for s in form.getlist("site") if s),
        reference=form.get("reference") or None,
    )
    owner = actor().name
    if upload_id:  # a picture sent with /api/v1/uploads (the editor's): checked, then taken
        path, name = _upload_path(upload_id)

        def take(folder: Path) -> None:
            check_placement(database(), path, name, points, method, details)
            try:
                chunks().take(owner, upload_id, folder / SOURCE)
            except UploadError as error:
                raise refused(error) from None

        params = georeference_params(name, points, method, details)
        return _queue(owner, params, lambda folder: None, take)
    assert storage is not None and storage.filename
    name = storage.filename
    params = georeference_params(name, points, method, details)
    return _queue(
        owner,
        params,
        lambda folder: storage.save(folder / SOURCE),
        lambda folder: check_placement(database(), folder / SOURCE, name, points, method, details),
    )


@bp.route("/images/<image_id>/georeference", methods=["GET", "PUT"])
@login_required
@operation(
    "getPlacement",
    summary="A placed press picture's placement and its versions",
    tags=TAGS,
    responses={200: PlacementHistory},
    errors=(404, 422),
    method="GET",
)
@operation(
    "placeAgain",
    summary="Place a press picture again: a new version (analyst)",
    description="New control points (and method) for the original of a placed picture; the "
    "stated facts carry over. 202 with the georeference job, whose capture is the new "
    "version; the earlier ones stay.",
    tags=TAGS,
    body=PlaceAgain,
    responses={202: {"description": "Queued.", "headers": LOCATION, "content": JobOut}},
    errors=(403, 404, 413, 415, 422, 429, 503),
    security="write",
    method="PUT",
)
def placed(image_id: str, body: PlaceAgain | None = None) -> Any:
    if request.method == "GET":
        with database().read() as session:
            return jsonify(history(session, get_image(session, image_id)))
    return _place_again(image_id, body)


@role_required(Role.analyst)
def _place_again(image_id: str, body: PlaceAgain | None) -> tuple[Response, int, dict[str, str]]:
    assert body is not None
    with database().read() as session:
        image = get_image(session, image_id)
        facts = placement(image)
        if facts is None:
            raise RequestError(
                f"image {image_id} was not placed by control points", status=422, code="invalid"
            )
        sites = tuple(site.slug for site in image.sites)
        details = Details(
            source_url=facts.get("source_url"),
            provider=image.provider,
            licence=image.licence,
            attribution=image.attribution,
            captured=parse_time(facts["captured"], "captured")
            if facts.get("captured") not in (None, "unknown")
            else None,
            sites=sites,
            reference=body.reference or facts.get("reference_image"),
        )
        name = str(facts.get("original_name") or image.original_filename)
    original = original_path(current_app.config, str(facts["original_sha256"]))
    if not original.is_file():
        raise RequestError("the original picture is no longer kept", status=404, code="not_found")
    points = _points(body.gcps)
    params = georeference_params(name, points, body.method, details)
    params["original"] = str(facts["original_sha256"])
    return _queue(
        actor().name,
        params,
        lambda folder: None,
        lambda folder: check_placement(database(), original, name, points, body.method, details),
    )
