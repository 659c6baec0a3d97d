"""Running one job, and cleaning up after workers that died.

A worker takes a job id off the queue and calls `run_job`: the row goes from queued to
running (a job cancelled while queued, or already taken, is left alone), the job's kind
runs with a `JobContext`, and the row ends done, failed or cancelled. Whatever the ending,
the job's own folder (`<jobs root>/work/<id>/`, where its inputs and temporary files live)
is removed.

Stopping a running job is cooperative: the kind calls `JobContext.progress` between steps,
which records how far it is and raises `JobStopped` when someone cancelled the job or the
job has run longer than its kind's time limit.

A worker killed mid-job (SIGKILL, the OOM killer, a lost machine) cannot tidy up. So every
worker, when it starts, calls `recover`: running jobs whose worker process is gone (same
host, no such process) or silent (no heartbeat for `STALE_AFTER_S`) become failed with a
message, job folders of jobs no longer queued or running are removed, and so are the
`.ingest-*` folders that killed processes left in the image store.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from annotations.db import Database, utcnow
from annotations.jobs.tables import OPEN, Job, Status
from imagery.sandbox import remove_leftovers

log = logging.getLogger(__name__)

#: a running job's worker writes its heartbeat this often
HEARTBEAT_S = 10.0
#: a running job whose heartbeat is older than this has lost its worker
STALE_AFTER_S = 120.0
#: a job folder with no job row (its request died before the row was written) goes after this
ORPHAN_AFTER_S = 3600.0
#: progress is written at most this often (the last call before an ending always counts)
PROGRESS_EVERY_S = 0.25


#: a file in a running job's folder that asks it to stop (`ask_to_stop`)
STOP_FILE = ".stop"


def ask_to_stop(folder: Path) -> None:
    """Ask the running job of this folder to stop, writing nothing to the database: on SQLite
    a job inside a long write transaction holds the only write lock, so the cancel's own
    write would wait for the job to end. The job's next check finds the file and stops (its
    transaction rolls back, the lock is free), then the cancel is recorded."""
    if folder.is_dir():
        (folder / STOP_FILE).touch()


class JobStopped(Exception):
    """Raised by `JobContext.progress` when the job must stop: cancelled, or out of time."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class JobFailed(Exception):
    """A kind's own refusal, with a message for the job's owner (the job ends failed)."""


@dataclass
class JobContext:
    """What a running job's kind gets: its parameters, its folder, and `progress`."""

    database: Database
    job_id: str
    kind: str
    owner: str
    params: dict[str, Any]
    folder: Path
    settings: Mapping[str, Any]
    time_limit_s: float | None
    started: float = field(default_factory=time.monotonic)
    _written: float = 0.0

    def progress(self, fraction: float, message: str = "", *, now: bool = False) -> None:
        """Record how far the job is (0..1) and stop it if it was cancelled or is out of time.
        Written at most every `PROGRESS_EVERY_S`, unless `now`."""
        self._check_time()
        if (self.folder / STOP_FILE).exists():
            raise JobStopped(Status.cancelled, "cancelled while running")
        if not now and time.monotonic() - self._written < PROGRESS_EVERY_S and fraction < 1.0:
            if self._cancelled():
                raise JobStopped(Status.cancelled, "cancelled while running")
            return
        self._written = time.monotonic()
        with self.database.write() as session:
            job = session.get(Job, self.job_id)
            if job is None or job.cancelling:
                raise JobStopped(Status.cancelled, "cancelled while running")
            job.progress = max(0.0, min(1.0, float(fraction)))
            if message:
                job.message = message[:500]
            job.heartbeat_at = utcnow()

    def check(self) -> None:
        """Stop the job (`JobStopped`) if it was cancelled or is out of time, writing nothing:
        for a step inside a transaction that holds SQLite's only write lock."""
        self._check_time()
        if self._cancelled():
            raise JobStopped(Status.cancelled, "cancelled while running")

    def _check_time(self) -> None:
        elapsed = time.monotonic() - self.started
        if self.time_limit_s is not None and elapsed > self.time_limit_s:
            raise JobStopped(
                Status.failed,
                f"stopped after {elapsed:.0f} s: {self.kind} jobs may run at most "
                f"{self.time_limit_s:g} s",
            )

    def _cancelled(self) -> bool:
        if (self.folder / STOP_FILE).exists():
            return True
        with self.database.read() as session:
            return bool(session.scalar(select(Job.cancelling).where(Job.id == self.job_id)))


#: a kind: runs the job, reporting progress, and returns its result (links to what it made)
Runner = Callable[[JobContext], dict[str, Any]]


@dataclass
class Runtime:
    """What a worker needs to run any job: the catalogue, where job folders live, the kinds
    it knows, their time limits, and the settings the kinds read."""

    database: Database
    root: Path
    kinds: Mapping[str, Runner]
    time_limits: Mapping[str, float] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def folder(self, job_id: str) -> Path:
        return self.root / "work" / job_id


def parse_time_limits(text: str) -> dict[str, float]:
    """'ingest=3600,export=900' -> {'ingest': 3600.0, 'export': 900.0}."""
    limits: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        kind, _, seconds = part.partition("=")
        try:
            value = float(seconds)
        except ValueError:
            raise ValueError(f"{part!r} is not kind=seconds") from None
        if not kind.strip() or value <= 0:
            raise ValueError(f"{part!r} is not kind=seconds (a positive number)")
        limits[kind.strip()] = value
    return limits


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _take(runtime: Runtime, job_id: str) -> JobContext | None:
    """Mark the job running (if it is still queued) and return its context."""
    with runtime.database.write() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != Status.queued.value:
            return None
        job.status = Status.running.value
        job.started_at = job.heartbeat_at = utcnow()
        job.worker = worker_name()
        job.message = "started"
        return JobContext(
            database=runtime.database,
            job_id=job.id,
            kind=job.kind,
            owner=job.owner,
            params=job.parameters,
            folder=runtime.folder(job.id),
            settings=runtime.settings,
            time_limit_s=runtime.time_limits.get(job.kind),
        )


def _end(runtime: Runtime, job_id: str, status: Status, message: str, **values: Any) -> None:
    with runtime.database.write() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.status = status.value
        job.message = message[:500]
        job.ended_at = utcnow()
        job.cancelling = False
        for key, value in values.items():
            setattr(job, key, value)


def _heartbeat(database: Database, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            with database.write() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == Status.running.value)
                    .values(heartbeat_at=utcnow())
                )
        except Exception:  # a busy database: the next beat tries again
            log.warning("job %s: heartbeat not written", job_id, exc_info=True)


def run_job(runtime: Runtime, job_id: str) -> None:
    """Run one job to its end (see the module). Never raises for the job's own failures."""
    context = _take(runtime, job_id)
    if context is None:
        return  # cancelled while queued, unknown, or run already
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(runtime.database, job_id, stop), daemon=True)
    beat.start()
    try:
        runner = runtime.kinds.get(context.kind)
        if runner is None:
            raise JobFailed(f"this worker does not know jobs of kind {context.kind!r}")
        context.folder.mkdir(parents=True, exist_ok=True)
        result = runner(context)
        _end(runtime, job_id, Status.done, "done", progress=1.0, result=json.dumps(result))
    except JobStopped as stopped:
        _end(runtime, job_id, stopped.status, stopped.message, error=stopped.message)
    except Exception as exc:  # the job fails; the worker goes on with the next one
        message = _one_line(exc)
        if not isinstance(exc, JobFailed):
            log.exception("job %s (%s) failed", job_id, context.kind)
        _end(runtime, job_id, Status.failed, "failed", error=message)
    finally:
        stop.set()
        shutil.rmtree(context.folder, ignore_errors=True)


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    return " ".join(text.split())[:1000]


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process is only starting: nothing of its own is running yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_gone(worker: str | None, heartbeat_age_s: float | None) -> bool:
    if heartbeat_age_s is None or heartbeat_age_s > STALE_AFTER_S:
        return True
    host, _, pid = (worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_alive(int(pid))
    return False


def recover(runtime: Runtime) -> list[str]:
    """At a worker's start: fail running jobs whose worker died, and remove the folders of
    jobs that have ended (see the module). Returns the ids of the jobs it failed."""
    failed: list[str] = []
    now = utcnow()
    with runtime.database.write() as session:
        running = session.scalars(select(Job).where(Job.status == Status.running.value))
        for job in running:
            beat = job.heartbeat_at or job.started_at
            age = None if beat is None else (now - beat) / timedelta(seconds=1)
            if _worker_gone(job.worker, age):
                job.status = Status.failed.value
                job.ended_at = now
                job.cancelling = False
                job.error = job.message = (
                    f"the worker running this job ({job.worker}) stopped before it ended; "
                    "nothing it made was kept: start it again"
                )
                failed.append(job.id)
    work = runtime.root / "work"
    if work.is_dir():
        with runtime.database.read() as session:
            open_ids = set(
                session.scalars(select(Job.id).where(Job.status.in_([s.value for s in OPEN])))
            )
            known = set(session.scalars(select(Job.id)))
        for folder in work.iterdir():
            if folder.name in open_ids:
                continue
            if folder.name not in known and time.time() - _mtime(folder) < ORPHAN_AFTER_S:
                continue  # a request may be writing it before its row exists
            shutil.rmtree(folder, ignore_errors=True)
    images = runtime.settings.get("IMAGES_DIR")
    if images:  # the ingest folders of killed processes (imagery.sandbox)
        remove_leftovers(Path(images))
    for job_id in failed:
        log.warning("job %s failed: its worker stopped before it ended", job_id)
    return failed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
