"""GET /api/v1/exports: the annotations a search selects, as a file in a GIS format.

The file is written to a temporary folder in the data folder (never built in memory),
opened, and its name removed at once: the open handle streams it to the client and the
space is freed when the response closes, whatever happens to the request.

Every export over HTTP has a budget (ANNOTATOR_EXPORT_MAX_CHIPS, _MAX_MB, _MAX_SECONDS),
checked at every batch and chip, and stops when its client closes the connection
(`annotator.connection`). However it ends (finished, refused, stopped, cancelled, an
error), its temporary folder is removed before the request returns; a killed worker's
folder is removed when the app next starts (`annotator.scratch`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations.exchange import FORMATS, Selection, count, export_file, filenames, get_format, stac
from annotations.exchange.budget import Budget, ExportStopped, TooManyChips
from annotations.search import Filters
from annotator import metrics, services
from annotator.api.contract import operation
from annotator.api.filters import filters_from_query
from annotator.api.models.exports import FILTERS, ExportQuery
from annotator.auth import actor, login_required
from annotator.connection import client_gone
from annotator.errors import RequestError
from annotator.jobs.exports import export_params
from annotator.jobs.models import JobOut
from annotator.jobs.start import start_export
from annotator.services import database
from annotator.urls import external_url

bp = Blueprint("exports", __name__, url_prefix="/api/v1")
#: query parameters handed to a format's writer (the training-set formats' chips)
FORMAT_OPTIONS = ("chip_size", "overlap", "empty_chips")


@bp.app_context_processor
def _formats() -> dict[str, Any]:
    """`export_formats()` for templates/_export.html."""
    return {"export_formats": lambda: list(FORMATS.values())}


DESCRIPTION = (
    "Every feature carries its provenance (image, capture time, provider, licence, GSD, "
    "analyst, status, confidence, version, reports). Written to a temporary file and streamed; "
    "at most ANNOTATOR_EXPORT_MAX_FEATURES annotations (413 above it: use `annotator export`). "
    "X-Annotation-Count says how many were written. Each export has a budget: chip settings "
    "that would cut more than ANNOTATOR_EXPORT_MAX_CHIPS chips are refused before any is cut "
    "(413 `too_many_chips`, `details.chips`), and an export that writes more than "
    "ANNOTATOR_EXPORT_MAX_MB or runs longer than ANNOTATOR_EXPORT_MAX_SECONDS is stopped (413 "
    "`export_bytes`, `export_seconds`). It also stops when the client closes the connection. "
    "The STAC catalogue's image links use ANNOTATOR_PUBLIC_URL, or the request's host if "
    "ANNOTATOR_ALLOWED_HOSTS lists it (400 `bad_host` otherwise). CSV cells that would start a "
    "spreadsheet formula (=, +, -, @, tab, CR) start with a single quote. With `async=1` the "
    "export is an `export` job (202, `Location` is the job); its `result.download` is the "
    "file, for you only, kept ANNOTATOR_EXPORT_KEEP_HOURS."
)
FILE = {"schema": {"type": "string", "format": "binary"}}


@bp.get("/exports")
@login_required
@operation(
    "exportAnnotations",
    summary="The annotations a search selects, as a GIS file",
    description=DESCRIPTION,
    tags=("exports",),
    query=ExportQuery,
    responses={
        200: {
            "description": "The file, as an attachment.",
            "content": {f.media_type: FILE for f in FORMATS.values()},
            "headers": {
                "X-Annotation-Count": {"schema": {"type": "integer"}},
                "Content-Disposition": {
                    "description": "An attachment named for the filters and the day, e.g. "
                    "annotations-hmeimim-aircraft-approved-2026-12-06.gpkg.",
                    "schema": {"type": "string"},
                },
            },
        },
        202: {
            "description": "With `async=1`: an export job is queued; `Location` is the job.",
            "headers": {"Location": {"$ref": "#/components/headers/Location"}},
            "content": JobOut,
        },
    },
    errors=(400, 404, 413, 422, 429, 503),
    # the search filters, read by filters_from_query and documented by the search route
    extra={"parameters": [{"$ref": f"#/components/parameters/{name}"} for name in FILTERS]},
)
def export_annotations(query: ExportQuery) -> Response | tuple[Response, int, dict[str, str]]:
    fmt = get_format(query.format)
    filters = filters_from_query()
    if filters.label:
        services.taxonomy().get(filters.label)
    config = current_app.config
    if request.args.get("async", "").strip().lower() in ("1", "true", "yes", "on"):
        return _start_job(fmt.name, filters)
    budget = Budget(
        max_chips=int(config["EXPORT_MAX_CHIPS"]),
        max_bytes=int(float(config["EXPORT_MAX_MB"]) * 1024 * 1024),
        max_seconds=float(config["EXPORT_MAX_SECONDS"]),
        cancelled=client_gone(request.environ),
    )
    selection = Selection(
        database=database(),
        filters=filters,
        taxonomy=services.taxonomy(),
        images_dir=Path(current_app.config["IMAGES_DIR"]),
        role=actor().role,
        options=_options(fmt.name),
        budget=budget,
    )
    _check_count(selection)
    folder = budget.folder = Path(tempfile.mkdtemp(prefix="export-", dir=config["TMP_DIR"]))
    started, outcome = time.perf_counter(), "failed"
    try:
        path, written = export_file(selection, fmt.name, folder)
        budget.check_file(path)
        handle = path.open("rb")
        outcome = "ok"
    except TooManyChips as refused:
        outcome = "refused"
        raise RequestError(
            refused.message, status=413, code="too_many_chips", details=refused.details
        ) from None
    except ExportStopped as stopped:
        outcome = "stopped"
        current_app.logger.warning(
            "export (%s) stopped, %s: %s chips, %s bytes, %.1f s",
            fmt.name,
            stopped.reason,
            budget.chips,
            budget.bytes,
            budget.elapsed(),
        )
        status = 400 if stopped.reason == "cancelled" else 413
        raise RequestError(
            stopped.message, status=status, code=f"export_{stopped.reason}", details=stopped.details
        ) from None
    finally:
        # on every ending: done (the open handle keeps the file), refused, stopped, an
        # error, or the SystemExit gunicorn raises in a worker it stops
        shutil.rmtree(folder, ignore_errors=True)
        metrics.EXPORT_SECONDS.labels(fmt.name, outcome).observe(time.perf_counter() - started)
    size = os.fstat(handle.fileno()).st_size
    response = Response(_stream(handle), mimetype=fmt.media_type)
    response.headers["Content-Length"] = str(size)
    name = filenames.export_name(filters, fmt.extension, datetime.now(UTC).date())
    response.headers["Content-Disposition"] = filenames.disposition(name)
    response.headers["X-Annotation-Count"] = str(written)
    return response


def _start_job(format_name: str, filters: Filters) -> tuple[Response, int, dict[str, str]]:
    """`async=1`: an export job (annotator.jobs.exports), after the same count limit; 202."""
    selection = Selection(
        database=database(),
        filters=filters,
        taxonomy=services.taxonomy(),
        images_dir=Path(current_app.config["IMAGES_DIR"]),
        role=actor().role,
    )
    _check_count(selection)
    params = export_params(filters, format_name, _options(format_name))
    job = start_export(params, actor().name)
    return jsonify(job), 202, {"Location": url_for("jobs_api.show", job_id=job["id"])}


def _check_count(selection: Selection) -> None:
    limit = int(current_app.config["EXPORT_MAX_FEATURES"])
    total = count(selection)
    if total > limit:
        raise RequestError(
            f"{total} annotations match; an export over HTTP holds at most {limit} "
            "(ANNOTATOR_EXPORT_MAX_FEATURES): narrow the filters or use 'annotator export'",
            status=413,
            code="too_large",
            details={"matched": total, "limit": limit},
        )


def _options(format_name: str) -> dict[str, str]:
    options = {k: request.args[k] for k in FORMAT_OPTIONS if request.args.get(k)}
    if format_name == "stac":
        # the catalogue leaves this server: its image assets point at the COG download here,
        # never at a path on the server's disk
        # on the public URL or an allowed host, never on whatever Host the client sent
        options["image_url"] = external_url("images.cog", image_id=stac.IMAGE_ID)
    return options


def _stream(handle: BinaryIO) -> Iterator[bytes]:
    """The file in 1 MiB blocks; closed when sent, or when the client goes away."""
    with handle:
        while block := handle.read(1 << 20):
            yield block
