"""Images API: list the catalogue and upload new captures."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_file, url_for

from annotations.catalogue.images import Provenance, get_image, list_images
from annotations.catalogue.users import Role
from annotations.times import parse_time
from annotator.api.contract import operation
from annotator.api.models.images import (
    Coordinate,
    CoordinateQuery,
    Image,
    ImageList,
    ImageUpload,
    UploadResult,
)
from annotator.api.openapi_hand import READ_KEY_SECURITY
from annotator.auth import actor, current_user, login_required, role_required
from annotator.errors import RequestError
from annotator.forms import ground_height_m
from annotator.import_by_url.request import import_url
from annotator.intake import Upload, import_images, ingest_limits
from annotator.jobs.models import JobOut
from annotator.jobs.start import save_parts, start_ingest
from annotator.services import database
from imagery.coordinates import CoordinateError, Point, formats, parse

bp = Blueprint("images", __name__, url_prefix="/api/v1/images")
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
LOCATION = {"Location": {"$ref": "#/components/headers/Location"}}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": ImageUpload,
            "encoding": {"file": {"contentType": "image/tiff, application/octet-stream"}},
        }
    },
}


@bp.get("")
@login_required
@operation("listImages", summary="List the catalogue", tags=("images",), responses={200: ImageList})
def index() -> Response:
    with database().read() as session:
        return jsonify({"images": [image.to_dict() for image in list_images(session)]})


@bp.get("/coordinates")
@login_required
@operation(
    "readCoordinate",
    summary="Read a coordinate as typed (decimal, DMS, MGRS), or write a point in each notation",
    description="The workspace's Go to box and its cursor readout in MGRS. Nothing is stored. "
    "Text that is no coordinate answers 422 with one line saying what is wrong.",
    tags=("images",),
    query=CoordinateQuery,
    responses={200: Coordinate},
)
def coordinate(query: CoordinateQuery) -> Response:
    if query.q is not None:
        try:
            point = parse(query.q)
        except CoordinateError as error:
            raise RequestError(str(error), status=422, code="invalid") from None
    elif query.lat is not None and query.lon is not None:
        point = Point(lat=query.lat, lon=query.lon)
    else:
        raise RequestError(
            "send q (a coordinate as typed), or lat and lon", status=422, code="invalid"
        )
    return jsonify({"lat": point.lat, "lon": point.lon, **formats(point)})


@bp.get("/<image_id>")
@login_required
@operation("getImage", summary="One image", tags=("images",), responses={200: Image}, errors=(404,))
def show(image_id: str) -> Response:
    with database().read() as session:
        return jsonify(get_image(session, image_id).to_dict())


@bp.get("/<image_id>/cog")
@login_required
@operation(
    "getImageCog",
    summary="The stored Cloud-Optimized GeoTIFF (range requests answered)",
    description="What a STAC export made over HTTP links each image asset to; GDAL's "
    "/vsicurl/ and QGIS read it in place with range requests.",
    tags=("images",),
    responses={
        200: {
            "description": "The COG.",
            "content": {COG_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        206: "The byte range asked for (Range header).",
    },
    errors=(404,),
    extra={"security": READ_KEY_SECURITY},
)
def cog(image_id: str) -> Response:
    """The stored Cloud-Optimized GeoTIFF itself, with HTTP range requests, so QGIS or GDAL
    (/vsicurl/) can read it in place, and a STAC export's `image` asset can point here."""
    with database().read() as session:
        image = get_image(session, image_id)  # 404 for an unknown id
        name = image.cog_name
    path = Path(current_app.config["IMAGES_DIR"]) / name  # the stored name, never the URL's
    if not path.is_file():
        raise RequestError(f"image {image_id}'s file is missing from the store", status=404)
    return send_file(
        path, mimetype=COG_MEDIA_TYPE, conditional=True, download_name=f"{image_id}.tif", max_age=0
    )


def _provenance(form: Any) -> Provenance:
    def text(name: str) -> str | None:
        value = form.get(name)
        return str(value) if value else None

    return Provenance(
        provider=text("provider"),
        sensor=text("sensor"),
        licence=text("licence"),
        attribution=text("attribution"),
        description=text("description"),
    )


@bp.post("")
@role_required(Role.analyst)
@operation(
    "uploadImages",
    summary="Upload GeoTIFFs (analyst)",
    description="Each file is checked and stored as a Cloud-Optimized GeoTIFF under its sha256. "
    "Parts of one capture travel together: a sidecar (`.msk`, `.aux.xml`, `.tfw`/`.wld`, "
    "`_rpc.txt`, `.IMD`/`.XML`) is kept next to the image of the same stem. By default the "
    "files are received and an ingest job is queued (202, `Location` is the job). With "
    '`?wait=1` the ingest runs in the request: one file answers the image, several `{"images": '
    "[...]}`; all are imported or none (201, or 200 when every file was catalogued already). "
    'Admins may send a JSON body `{"url": "https://…/scene.tif"}` (or `s3://bucket/key`) '
    "instead (403 for others): by default an ingest job copies the file then imports it "
    "(202, the job's progress covers the copy, cancelling it stops the copy); with `?wait=1` "
    "both run in the request.",
    tags=("images",),
    responses={
        201: {
            "description": "With `?wait=1`: at least one image is new.",
            "headers": LOCATION,
            "content": UploadResult,
        },
        200: {
            "description": "With `?wait=1`: every file was catalogued already.",
            "headers": LOCATION,
            "content": UploadResult,
        },
        202: {
            "description": "The files were received and an ingest job is queued; "
            "`Location` is the job (GET it for progress, its `result` links the images).",
            "headers": LOCATION,
            "content": JobOut,
        },
    },
    errors=(400, 404, 413, 415, 422, 429, 503),
    security="write",
    extra={"requestBody": UPLOAD_BODY},
)
def upload() -> tuple[Response, int, dict[str, str]]:
    if request.is_json:  # {"url": ...}: admins only (annotator.import_by_url)
        return import_url()
    files = request.files.getlist("file")
    if not files or not any(f.filename for f in files):
        raise RequestError("attach the GeoTIFF as a multipart form field named 'file'", status=400)
    captured_text = request.form.get("captured")
    captured = parse_time(captured_text, "captured") if captured_text else None
    sites = tuple(s for s in request.form.getlist("site") if s)
    provenance = _provenance(request.form)
    height = ground_height_m(request.form.get("height"), form=True)
    if request.args.get("wait", "").lower() not in ("1", "true", "yes"):
        job = start_ingest(
            files, provenance, sites=sites, captured=captured, owner=actor().name, height=height
        )
        return jsonify(job), 202, {"Location": url_for("jobs_api.show", job_id=job["id"])}
    tmp_root = Path(current_app.config["TMP_DIR"])
    tmp_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="upload-", dir=tmp_root))
    try:
        # never trust the client's file names for a path: stored under our own names
        uploads = [Upload(workdir / f.stored, f.name, f.sha256) for f in save_parts(files, workdir)]
        user = current_user()
        results = import_images(
            database(),
            current_app.config["IMAGES_DIR"],
            uploads,
            provenance,
            sites=sites,
            captured=captured,
            created_by=user.name if user else None,
            max_pixels=int(current_app.config["MAX_IMAGE_PIXELS"]),
            limits=ingest_limits(current_app.config),
            height=height,
            dem=Path(dem) if (dem := current_app.config.get("DEM")) else None,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    created = any(r.created for r in results)
    body = [r.image.to_dict() | {"created": r.created} for r in results]
    location = url_for("images.show", image_id=body[0]["id"])
    payload: Any = body[0] if len(body) == 1 else {"images": body}
    return jsonify(payload), 201 if created else 200, {"Location": location}
