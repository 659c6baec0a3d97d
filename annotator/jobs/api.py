"""Jobs API: `GET /api/v1/jobs` (yours; everyone's for an admin), `GET /api/v1/jobs/<id>`
(another user's job is 404 unless you are an admin) and `DELETE /api/v1/jobs/<id>` (cancel)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from annotations.jobs import records
from annotator.api.contract import operation
from annotator.auth import actor, login_required
from annotator.errors import RequestError
from annotator.jobs.models import JobList, JobOut, JobQuery
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
    with database().write() as session:
        try:
            job = records.cancel(session, actor(), job_id)
        except records.AlreadyEnded as exc:
            raise RequestError(exc.message, status=409, code="conflict") from None
        body = job.to_dict()
    return jsonify(body), 202 if body["status"] == "running" else 200
