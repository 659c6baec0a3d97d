"""Jobs API: `GET /api/v1/jobs` (yours; everyone's for an admin), `GET /api/v1/jobs/<id>`
(another user's job is 404 unless you are an admin), `DELETE /api/v1/jobs/<id>` (cancel) and
`GET /api/v1/jobs/<id>/download` (an export job's file, for its owner)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, send_file

from annotations.catalogue.users import Role
from annotations.errors import NotFound
from annotations.jobs import records
from annotations.jobs.running import ask_to_stop
from annotations.newsroom.reports import get_report
from annotations.newsroom.withdrawal import withdrawal_of
from annotator.api.contract import operation
from annotator.auth import actor, login_required
from annotator.errors import RequestError
from annotator.jobs.exports import EXPORT, expired, exports_root, finished_file
from annotator.jobs.models import JobList, JobOut, JobQuery
from annotator.jobs.story import STORY
from annotator.services import database

bp = Blueprint("jobs_api", __name__, url_prefix="/api/v1/jobs")


@bp.get("")
@login_required
@operation(
    "listJobs",
    summary="List background jobs",
    description="Your jobs, newest first (an admin sees everyone's), at most "
    f"{records.LIST_LIMIT}. Poll it to follow progress.",
    tags=("jobs",),
    query=JobQuery,
    responses={200: JobList},
    errors=(422,),
)
def index(query: JobQuery) -> Response:
    with database().read() as session:
        jobs = records.listed(session, actor(), status=query.status, kind=query.kind)
        return jsonify({"jobs": [job.to_dict() for job in jobs]})


@bp.get("/<job_id>")
@login_required
@operation(
    "getJob",
    summary="Read one background job",
    tags=("jobs",),
    responses={200: JobOut},
    errors=(404,),
)
def show(job_id: str) -> Response:
    with database().read() as session:
        return jsonify(records.get(session, actor(), job_id).to_dict())


@bp.delete("/<job_id>")
@login_required
@operation(
    "cancelJob",
    summary="Cancel a background job",
    description="A queued job is cancelled at once and never starts (200). A running one is "
    "asked to stop (202, `cancelling` true) and ends `cancelled` at its next step. An ended "
    "job cannot be cancelled (409).",
    tags=("jobs",),
    responses={200: JobOut, 202: JobOut},
    errors=(404, 409),
    security="write",
)
def cancel(job_id: str) -> tuple[Response, int]:
    who = actor()
    with database().read() as session:
        running = records.get(session, who, job_id).status == "running"
    if running:  # asked first by a file: on SQLite its write may hold the lock this needs
        jobs_root = Path(current_app.config["DATA_DIR"]) / "jobs"
        ask_to_stop(jobs_root / "work" / records.parse_id(job_id))
    with database().write() as session:
        try:
            job = records.cancel(session, who, job_id)
        except records.AlreadyEnded as exc:
            if running and records.get(session, who, job_id).status == "cancelled":
                return jsonify(records.get(session, who, job_id).to_dict()), 200
            raise RequestError(exc.message, status=409, code="conflict") from None
        body = job.to_dict()
    return jsonify(body), 202 if body["status"] == "running" else 200


@bp.get("/<job_id>/download")
@login_required
@operation(
    "downloadExport",
    summary="Download a finished export or story job's file",
    description="Only the job's owner, while their role still covers the one the job ran "
    "with (and, for a report's bundle, figure or map, while they may still see the report and "
    "it is not withdrawn); the file is kept ANNOTATOR_EXPORT_KEEP_HOURS after the job (410 "
    "after).",
    tags=("jobs",),
    responses={200: {"description": "The file, as an attachment."}},
    errors=(403, 404, 409, 410),
)
def download(job_id: str) -> Response:
    who = actor()
    with database().read() as session:
        job = records.get(session, who, job_id).to_dict()
    if job["owner"] != who.name:  # an admin sees the job, but the file is its owner's
        raise RequestError("only the job's owner may download its file", status=403)
    result = job["result"] or {}
    if job["kind"] not in (EXPORT, STORY) or job["status"] != "done" or "name" not in result:
        raise RequestError("this job made no file to download", status=409, code="conflict")
    if who.role < Role[result["role"]]:
        raise RequestError(
            "your role no longer covers what this file holds; make it again", status=403
        )
    if job["kind"] == STORY:
        _still_readable(who.role, result["report_id"])
    path = finished_file(
        exports_root(Path(current_app.config["DATA_DIR"]) / "jobs"), job_id, str(result["name"])
    )
    if path is None or expired(result):
        raise RequestError(
            "this export's file was removed (kept for ANNOTATOR_EXPORT_KEEP_HOURS); export again",
            status=410,
            code="gone",
        )
    return send_file(
        path, mimetype=result.get("media_type"), as_attachment=True, download_name=path.name
    )


def _still_readable(role: Role, report_id: int) -> None:
    """A story job's file is the report's: refused once the report is hidden from the owner
    (403) or withdrawn (410)."""
    with database().read() as session:
        try:
            report = get_report(session, report_id, role)
        except NotFound:
            raise RequestError(
                "this report is no longer yours to see; its file cannot be downloaded", status=403
            ) from None
        if withdrawal_of(session, report) is not None:
            raise RequestError(
                "this report was withdrawn; its outputs are gone", status=410, code="gone"
            )
