"""Imports API: upload a GIS file of annotations; a dry run reports, a real run imports all
of it or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations.catalogue.users import Role
from annotations.exchange.held import Held
from annotations.exchange.imports import (
    LABEL_MAP_LIMIT,
    ImportOptions,
    ImportRequest,
    import_file,
    parse_label_map,
)
from annotator import services
from annotator.api.contract import operation
from annotator.api.models.imports import ImportReport, ImportUpload
from annotator.auth import actor, role_required
from annotator.errors import RequestError
from annotator.intake import display_name
from annotator.jobs.models import JobOut
from annotator.jobs.start import start_import
from annotator.services import database

bp = Blueprint("imports", __name__, url_prefix="/api/v1")
TRUE = ("1", "true", "yes", "on")


@bp.post("/imports")
@role_required(Role.analyst)
@operation(
    "importAnnotations",
    summary="Import annotations from a GIS file (analyst)",
    description="GeoJSON (2008-style `crs` reprojected), GeoPackage, zipped Shapefile, KML, "
    "KMZ, a zip of a STAC label item with its files, FlatGeobuf, GeoParquet (WKB or GeoArrow, "
    "CRS from its `geo` metadata), or CSV (a WKT column, or longitude and latitude columns, in "
    "WGS 84; delimiter sniffed); the format is told by content. A dry "
    "run reports what would be made and every feature left out with its reason. A real run "
    "imports every feature or none (one invalid feature refuses it all; features outside every "
    "image are listed and left out); importing the same features again makes nothing new. "
    "With `?async=1` a real run is an `import` job: 202 once the file is received, "
    "`Location` is the job; its `result` is the report, its `error` a refusal.",
    tags=("imports",),
    responses={
        201: {"description": "Annotations were made.", "content": ImportReport},
        200: {"description": "A dry run, or nothing new to make.", "content": ImportReport},
        202: {
            "description": "With `?async=1`: the file was received and an import job is queued.",
            "headers": {"Location": {"$ref": "#/components/headers/Location"}},
            "content": JobOut,
        },
    },
    errors=(400, 404, 409, 413, 415, 422, 429, 503),
    security="write",
    extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": ImportUpload}},
        }
    },
)
def create() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    dry_run = request.form.get("dry_run", "").strip().lower() in TRUE
    if not dry_run and request.args.get("async", "").strip().lower() in TRUE:
        return start_job()
    report = run_import(dry_run)
    return jsonify(report), 201 if report["created"] else 200


def start_job() -> tuple[Response, int, dict[str, str]]:
    """`?async=1`: receive the file into an import job (annotator.jobs.imports); 202."""
    job = import_job()
    return jsonify(job), 202, {"Location": url_for("jobs_api.show", job_id=job["id"])}


def import_job(held: Held | None = None) -> dict[str, Any]:
    """An import job of the upload in this request, or of the file `held` since the import
    page's Check (as `run_import` takes them); returns the queued job."""
    if held is not None:
        options = _options(label_map_bytes() or held.label_map)  # a new label map wins
        source = held.path
        return start_import(
            lambda target: shutil.copyfile(source, target), held.name, options, actor().name
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise RequestError("attach the GIS file as a multipart form field named 'file'")
    options = _options(label_map_bytes())  # a bad label map is refused now, not in the job
    return start_import(upload.save, display_name(upload.filename), options, actor().name)


def run_import(dry_run: bool, held: Held | None = None) -> dict[str, Any]:
    """The upload in this request (`file`, with `image`, `label_field`, `label_map`), or the
    file `held` since the import page's Check, imported, or checked with `dry_run`; its
    report. For the API and the import page."""
    if held is not None:
        options = _options(label_map_bytes() or held.label_map)  # a new label map wins
        with held.path.open("rb") as stream:
            return import_file(
                database(), services.taxonomy(), stream, _request(held.name, options, dry_run)
            )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise RequestError("attach the GIS file as a multipart form field named 'file'")
    options = _options(label_map_bytes())
    import_request = _request(display_name(upload.filename), options, dry_run)
    return import_file(database(), services.taxonomy(), upload.stream, import_request)


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def label_map_bytes() -> bytes:
    """The request's `label_map` (a file part, or the same as text), as given; at most
    LABEL_MAP_LIMIT + 1 bytes."""
    part = request.files.get("label_map")
    if part is not None and part.filename:
        raw: bytes = part.stream.read(LABEL_MAP_LIMIT + 1)
        return raw
    return (request.form.get("label_map") or "").encode()


def _options(label_map: bytes) -> ImportOptions:
    form = request.form
    return ImportOptions(
        image_id=form.get("image") or None,
        label_field=form.get("label_field") or None,
        label_map=_label_map(label_map),
    )


def _request(name: str, options: ImportOptions, dry_run: bool) -> ImportRequest:
    return ImportRequest(
        name=name,
        options=options,
        dry_run=dry_run,
        actor=actor(),
        tmp_dir=Path(current_app.config["TMP_DIR"]),
        max_bytes=max_upload_bytes(),
    )


def _label_map(raw: bytes) -> dict[str, str]:
    """From a `label_map` file part, or the same as text (JSON or CSV)."""
    if not raw:
        return {}
    if len(raw) > LABEL_MAP_LIMIT:
        raise RequestError("the label map is over 1 MB", status=413, code="too_large")
    return parse_label_map(raw, "label_map")
