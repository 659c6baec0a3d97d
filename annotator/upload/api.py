"""Resumable uploads: `POST /api/v1/uploads` starts one (name and size), `PUT` on it sends a
chunk (`Content-Range`), `GET` says how much arrived, `DELETE` drops it, `GET .../header`
reads a finished file's header, and `POST /api/v1/uploads/ingest` hands finished uploads to
an ingest job (202, like `POST /api/v1/images`). Each request is one chunk, so none is long.
An upload is its starter's alone: to anyone else it does not exist (404)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role
from annotations.times import parse_time
from annotations.uploads.chunks import Chunks, Incomplete, UploadError
from annotations.uploads.sidecars import SidecarError, place
from annotator.api.contract import operation
from annotator.auth import actor, role_required
from annotator.errors import RequestError
from annotator.intake import ingest_limits
from annotator.jobs.kinds import Received
from annotator.jobs.models import JobOut
from annotator.jobs.start import start_ingest_from
from annotator.upload.models import Header, UploadIngest, UploadOut, UploadStart
from imagery.sandbox import read_header_isolated

bp = Blueprint("uploads", __name__, url_prefix="/api/v1/uploads")
#: the largest chunk one request may carry (the client sends 8 MiB)
MAX_CHUNK_BYTES = 64 * 1024 * 1024
LOCATION = {"Location": {"$ref": "#/components/headers/Location"}}


def chunks() -> Chunks:
    config = current_app.config
    return Chunks(
        # the data folder's tmp/ itself, not this process's folder in it: every server
        # process sees the same uploads, and one outlives the process that started it
        root=Path(config.get("TMP_ROOT") or config["TMP_DIR"]) / "uploads",
        max_bytes=int(config["UPLOAD_FILE_MAX_MB"]) * 1024 * 1024,
        max_chunk_bytes=min(MAX_CHUNK_BYTES, int(config["MAX_CONTENT_LENGTH"])),
        expire_s=float(config["UPLOAD_EXPIRE_HOURS"]) * 3600,
    )


def refused(error: UploadError) -> RequestError:
    return RequestError(
        error.message, status=error.status, code=error.code, details=dict(error.details)
    )


@bp.post("")
@role_required(Role.analyst)
@operation(
    "startUpload",
    summary="Start a resumable upload (analyst)",
    description="Give the file's name and size; send its bytes with PUT in chunks.",
    tags=("uploads",),
    body=UploadStart,
    responses={201: {"description": "Started.", "headers": LOCATION, "content": UploadOut}},
    errors=(400, 413, 422),
    security="write",
)
def start(body: UploadStart) -> tuple[Response, int, dict[str, str]]:
    try:
        upload = chunks().start(actor().name, body.name, body.size)
    except UploadError as error:
        raise refused(error) from None
    location = url_for("uploads.show", upload_id=upload.id)
    return jsonify(upload.to_dict()), 201, {"Location": location}


@bp.get("/<upload_id>")
@role_required(Role.analyst)
@operation(
    "getUpload",
    summary="How much of an upload arrived",
    description="`received` is where the next chunk starts (after a dropped connection too).",
    tags=("uploads",),
    responses={200: UploadOut},
    errors=(404,),
)
def show(upload_id: str) -> Response:
    try:
        return jsonify(chunks().get(actor().name, upload_id).to_dict())
    except UploadError as error:
        raise refused(error) from None


@bp.put("/<upload_id>")
@role_required(Role.analyst)
@operation(
    "sendChunk",
    summary="Send one chunk of an upload",
    description="The body is the bytes `Content-Range: bytes <first>-<last>/<size>` names. "
    "A chunk must start at `received`: any other start is 409 with `details.offset`.",
    tags=("uploads",),
    responses={200: UploadOut},
    errors=(400, 404, 409, 413),
    security="write",
    extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def send(upload_id: str) -> Response:
    try:
        upload = chunks().append(
            actor().name, upload_id, request.headers.get("Content-Range", ""), request.stream
        )
    except UploadError as error:
        raise refused(error) from None
    return jsonify(upload.to_dict())


@bp.delete("/<upload_id>")
@role_required(Role.analyst)
@operation(
    "cancelUpload",
    summary="Drop an upload and what arrived of it",
    tags=("uploads",),
    responses={204: "Dropped."},
    errors=(404,),
    security="write",
)
def cancel(upload_id: str) -> tuple[str, int]:
    try:
        chunks().cancel(actor().name, upload_id)
    except UploadError as error:
        raise refused(error) from None
    return "", 204


@bp.get("/<upload_id>/header")
@role_required(Role.analyst)
@operation(
    "readUploadHeader",
    summary="What a finished upload's header says (to prefill the form)",
    description="The TIFF date tag and GDAL metadata (sensor, provider, copyright); no pixel "
    "is read. Fields the file does not give are null.",
    tags=("uploads",),
    responses={200: Header},
    errors=(404, 409),
)
def header(upload_id: str) -> Response:
    path, _name = finished_upload(upload_id)
    # a hostile header costs a child under limits, not this worker (imagery.sandbox)
    found = read_header_isolated(path, ingest_limits(current_app.config))
    return jsonify(Header.model_validate(found).model_dump())


def finished_upload(upload_id: str) -> tuple[Path, str]:
    """A finished upload of the caller's: its file and the name they gave it (404 for
    another's or an unknown one, 409 with the offset for one not finished)."""
    store = chunks()
    try:
        upload = store.get(actor().name, upload_id)
        if not upload.complete:
            raise Incomplete(
                f"{upload.name} has {upload.received} of {upload.size} bytes",
                offset=upload.received,
            )
    except UploadError as error:
        raise refused(error) from None
    return store.root / upload.id / "data", upload.name


@bp.post("/ingest")
@role_required(Role.analyst)
@operation(
    "ingestUploads",
    summary="Ingest finished uploads as one job (analyst)",
    description="Sidecars (`.msk`, `.aux.xml`, `.tfw`/`.wld`, `_rpc.txt`, `.IMD`/`.XML`) go "
    "beside the image of their stem. The uploads are used up; the answer is the queued job.",
    tags=("uploads",),
    body=UploadIngest,
    responses={202: {"description": "Queued.", "headers": LOCATION, "content": JobOut}},
    errors=(404, 409, 422, 429, 503),
    security="write",
)
def ingest(body: UploadIngest) -> tuple[Response, int, dict[str, str]]:
    store = chunks()
    owner = actor().name
    if len(set(body.uploads)) != len(body.uploads):
        raise RequestError("an upload is listed twice", status=422, code="invalid")
    try:
        uploads = [store.get(owner, upload_id) for upload_id in body.uploads]
        for upload in uploads:
            if not upload.complete:
                raise Incomplete(
                    f"{upload.name} has {upload.received} of {upload.size} bytes; "
                    "send the rest first",
                    offset=upload.received,
                )
        placements = place([upload.name for upload in uploads])
    except UploadError as error:
        raise refused(error) from None
    except SidecarError as error:
        raise RequestError(str(error), status=422, code="invalid") from None

    def receive(folder: Path) -> list[Received]:
        for placement in placements:
            for index, stored in placement.stored_names().items():
                store.take(owner, uploads[index].id, folder / stored)
        return [Received(placement.stored, placement.name) for placement in placements]

    provenance = Provenance(
        provider=body.provider or None,
        sensor=body.sensor or None,
        licence=body.licence or None,
        attribution=body.attribution or None,
        description=body.description or None,
    )
    captured = parse_time(body.captured, "captured") if body.captured else None
    try:
        job = start_ingest_from(
            receive,
            provenance,
            sites=tuple(s for s in body.sites if s),
            captured=captured,
            owner=owner,
            height=body.height,
        )
    except UploadError as error:
        raise refused(error) from None
    return jsonify(job), 202, {"Location": url_for("jobs_api.show", job_id=job["id"])}
