"""Starting jobs from a request: the files are received into the job's own folder, the job
is written (within its owner's limit) and put on the queue; the answer is the queued job.
Nothing is left behind when any step fails: no folder, no row, no message."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage

from annotations.catalogue.images import Provenance
from annotations.catalogue.sites import get_site
from annotations.db import utcnow
from annotations.jobs import records
from annotations.jobs.tables import Job, Status
from annotator.errors import RequestError
from annotator.jobs.kinds import INGEST, ingest_params
from annotator.jobs.setup import queue
from annotator.services import database

log = logging.getLogger(__name__)


def _limit() -> int:
    return int(current_app.config["JOBS_PER_USER"])


def _room(owner: str) -> None:
    try:
        with database().read() as session:
            records.check_room(session, owner, _limit())
    except records.TooManyJobs as exc:
        raise RequestError(
            exc.message, status=429, code="too_many_jobs", details=exc.details
        ) from None


def start_ingest(
    files: list[FileStorage],
    provenance: Provenance,
    *,
    sites: tuple[str, ...],
    captured: datetime | None,
    owner: str,
) -> dict[str, Any]:
    """Receive the upload's files into a new ingest job and queue it; returns the job."""
    with database().read() as session:
        for slug in sites:
            get_site(session, slug)  # an unknown site is refused now, not in the job
    _room(owner)  # before the files are copied: a refusal costs no disk
    jobs = queue()
    job_id = records.new_id()
    folder = jobs.runtime.folder(job_id)
    folder.mkdir(parents=True)
    try:
        names = []
        for index, storage in enumerate(files):
            # never trust the client's file name for a path: store under our own name
            storage.save(folder / f"{index}.tif")
            names.append((f"{index}.tif", storage.filename or f"file #{index + 1}"))
        params = ingest_params(names, provenance, sites=sites, captured=captured)
        with database().write() as session:
            try:
                job = records.create(
                    session, INGEST, owner, params, per_user=_limit(), job_id=job_id
                )
            except records.TooManyJobs as exc:
                raise RequestError(
                    exc.message, status=429, code="too_many_jobs", details=exc.details
                ) from None
            body = job.to_dict()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _submit(job_id)
    return body


def _submit(job_id: str) -> None:
    """Queue the job; if the queue cannot take it, the job ends failed and its files go."""
    jobs = queue()
    try:
        jobs.submit(job_id)
    except Exception as exc:
        log.exception("job %s could not be queued", job_id)
        with database().write() as session:
            job = session.get(Job, job_id)
            if job is not None:
                job.status = Status.failed.value
                job.ended_at = utcnow()
                job.error = job.message = "the job queue could not be reached"
        shutil.rmtree(jobs.runtime.folder(job_id), ignore_errors=True)
        raise RequestError(
            "the job queue cannot be reached; try again later", status=503, code="busy"
        ) from exc
