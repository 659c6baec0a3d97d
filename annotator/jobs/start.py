"""Starting jobs from a request: the files are received into the job's own folder, the job
is written (within its owner's limit) and put on the queue; the answer is the queued job.
Nothing is left behind when any step fails: no folder, no row, no message."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from annotations.catalogue.images import Provenance
from annotations.catalogue.sites import get_site
from annotations.db import utcnow
from annotations.exchange.imports import ImportOptions
from annotations.jobs import records
from annotations.jobs.tables import Job, Status
from annotations.uploads.sidecars import SidecarError, place
from annotator.errors import RequestError
from annotator.jobs.exports import EXPORT
from annotator.jobs.imports import IMPORT, SOURCE, import_params
from annotator.jobs.kinds import INGEST, Received, ingest_params
from annotator.jobs.setup import queue
from annotator.jobs.story import STORY
from annotator.services import database

log = logging.getLogger(__name__)


def _limit() -> int:
    return int(current_app.config["JOBS_PER_USER"])


def _room(owner: str) -> None:
    with _refused_when_full(), database().read() as session:
        records.check_room(session, owner, _limit())


@contextlib.contextmanager
def _refused_when_full() -> Iterator[None]:
    """A user with as many jobs as allowed is told so (429) rather than given another."""
    try:
        yield
    except records.TooManyJobs as exc:
        raise RequestError(
            exc.message, status=429, code="too_many_jobs", details=exc.details
        ) from None


def _create(session: Session, kind: str, owner: str, params: dict[str, Any], **given: Any) -> Job:
    """The job's record, within the user's limit (429 beyond it)."""
    with _refused_when_full():
        return records.create(session, kind, owner, params, per_user=_limit(), **given)


#: puts a job's input files into its folder; returns each image received
Receive = Callable[[Path], list[Received]]
CHUNK = 1 << 20


def save_parts(files: list[FileStorage], folder: Path) -> list[Received]:
    """Save a multipart upload's files into `folder`, each sidecar next to its image under
    our own names (annotations.uploads.sidecars); returns each image with its sha256,
    computed from the bytes as they are written (the ingest need not read it once more)."""
    try:
        placements = place([storage.filename or "" for storage in files])
    except SidecarError as exc:
        raise RequestError(str(exc), status=422, code="invalid") from None
    digests: dict[int, str] = {}
    for placement in placements:
        for index, stored in placement.stored_names().items():
            digests[index] = save_hashed(files[index], folder / stored)
    return [
        Received(placement.stored, placement.name, digests.get(placement.index))
        for placement in placements
    ]


def save_hashed(storage: FileStorage, target: Path) -> str:
    """`storage.save(target)`, and the sha256 of what was written."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := storage.stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def start_ingest(
    files: list[FileStorage],
    provenance: Provenance,
    *,
    sites: tuple[str, ...],
    captured: datetime | None,
    owner: str,
    height: float | None = None,
) -> dict[str, Any]:
    """Receive the upload's files into a new ingest job and queue it; returns the job."""
    return start_ingest_from(
        lambda folder: save_parts(files, folder),
        provenance,
        sites=sites,
        captured=captured,
        owner=owner,
        height=height,
    )


def start_ingest_from(
    receive: Receive,
    provenance: Provenance,
    *,
    sites: tuple[str, ...],
    captured: datetime | None,
    owner: str,
    url: str | None = None,
    max_bytes: int | None = None,
    height: float | None = None,
) -> dict[str, Any]:
    """Queue an ingest job whose files `receive` puts into its folder (or, with `url`, that
    the job copies first); returns the job."""
    with database().read() as session:
        for slug in sites:
            get_site(session, slug)  # an unknown site is refused now, not in the job

    def fill(folder: Path) -> dict[str, Any]:
        # never trust the client's file names for a path: stored under our own names
        names = receive(folder)
        return ingest_params(
            names,
            provenance,
            sites=sites,
            captured=captured,
            url=url,
            max_bytes=max_bytes,
            height=height,
        )

    return start_with_files(INGEST, owner, fill)


def start_import(
    receive: Callable[[Path], object], name: str, options: ImportOptions, owner: str
) -> dict[str, Any]:
    """Queue an import job of the GIS file `receive` writes (to the path it is given, under
    our own name, never the client's); returns the job."""

    def fill(folder: Path) -> dict[str, Any]:
        receive(folder / SOURCE)
        return import_params(name, options)

    return start_with_files(IMPORT, owner, fill)


def start_with_files(
    kind: str, owner: str, fill: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """Queue a job of `kind` whose files `fill` writes into the job's new folder; `fill`
    returns the job's parameters. The owner's room is checked first (a refusal costs no
    disk), and whatever `fill` raises leaves no folder and no job."""
    _room(owner)
    job_id = records.new_id()
    folder = queue().runtime.folder(job_id)
    folder.mkdir(parents=True)
    try:
        params = fill(folder)
        with database().write() as session:
            body = _create(session, kind, owner, params, job_id=job_id).to_dict()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _submit(job_id)
    return body


def start_export(params: dict[str, Any], owner: str) -> dict[str, Any]:
    """Queue an export job (annotator.jobs.exports); returns the job."""
    _room(owner)
    with database().write() as session:
        body = _create(session, EXPORT, owner, params).to_dict()
    _submit(body["id"])
    return body


def start_story(params: dict[str, Any], owner: str) -> dict[str, Any]:
    """Queue a story job (annotator.jobs.story); returns the job."""
    _room(owner)
    with database().write() as session:
        body = _create(session, STORY, owner, params).to_dict()
    _submit(body["id"])
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
