"""Background jobs without the web app: the queue on Huey's SQLite storage and on a real
Redis, cancelling, time limits, per-user limits, who sees what, and a worker killed with
SIGKILL mid-job (the next worker fails the job and removes its folder)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotations.annotation import Actor
from annotations.catalogue.users import Role
from annotations.db import Database, sqlite_url
from annotations.errors import NotFound
from annotations.jobs import records
from annotations.jobs.queue import JobQueue, QueueError
from annotations.jobs.running import JobContext, Runtime, parse_time_limits, recover
from annotations.jobs.tables import Job
from annotations.schema import upgrade
from tests.jobs import consuming, wait_until
from tests.redis_server import ThrowawayRedis, redis_server  # noqa: F401  (the fixture)

ANALYST = Actor("analyst", Role.analyst)
OTHER = Actor("other", Role.editor)
ADMIN = Actor("root", Role.admin)
#: what the test kinds saw, by job id
CALLS: dict[str, list[float]] = {}
#: the "wait" kind runs until this is set (or it is stopped)
RELEASE = threading.Event()


def count(context: JobContext) -> dict[str, Any]:
    """Three steps, then a result naming what it made."""
    for step in range(3):
        context.progress(step / 3, f"step {step + 1} of 3")
        CALLS.setdefault(context.job_id, []).append(step / 3)
    (context.folder / "scratch.bin").write_bytes(b"x" * 1000)
    return {"made": [f"thing-{context.params['n']}"]}


def wait(context: JobContext) -> dict[str, Any]:
    """Checks in every 20 ms until released: stopped only by a cancel or its time limit."""
    (context.folder / "partial.bin").write_bytes(b"y" * 1000)
    CALLS.setdefault(context.job_id, [])
    while not RELEASE.is_set():
        context.progress(0.5, "waiting")
        time.sleep(0.02)
    return {}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("jobs-db")
    db = Database(sqlite_url(folder / "annotator.db"))
    upgrade(db)
    yield db
    db.dispose()


def runtime(database: Database, root: Path, **limits: float) -> Runtime:
    return Runtime(database, root, {"count": count, "wait": wait}, time_limits=limits)


def read(database: Database, job_id: str) -> dict[str, Any]:
    with database.read() as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found.to_dict()


def start(database: Database, kind: str, owner: str = "analyst", **params: Any) -> str:
    with database.write() as session:
        return records.create(session, kind, owner, params, per_user=100).id


@pytest.fixture(params=["sqlite", "redis"])
def jobs(request: pytest.FixtureRequest, database: Database, tmp_path: Path) -> Iterator[JobQueue]:
    url = None
    if request.param == "redis":
        server: ThrowawayRedis = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    yield JobQueue(runtime(database, tmp_path / "jobs"), url)


def test_a_job_runs_to_done_and_its_folder_goes(jobs: JobQueue, database: Database) -> None:
    job_id = start(database, "count", n=7)
    assert read(database, job_id)["status"] == "queued"
    jobs.submit(job_id)
    with consuming(jobs):
        done = wait_until(lambda: read(database, job_id), lambda j: j["status"] == "done")
    assert done["progress"] == 1.0 and done["result"] == {"made": ["thing-7"]}
    assert done["started_at"] and done["ended_at"] and done["error"] is None
    assert CALLS[job_id] == [0.0, 1 / 3, 2 / 3]
    assert not jobs.runtime.folder(job_id).exists()
    assert jobs.pending() == 0


def test_a_queued_job_cancelled_never_starts(jobs: JobQueue, database: Database) -> None:
    kept, dropped = start(database, "count", n=1), start(database, "count", n=2)
    jobs.submit(kept)
    jobs.submit(dropped)
    with database.write() as session:
        assert records.cancel(session, ANALYST, dropped).status == "cancelled"
    with consuming(jobs):
        wait_until(lambda: read(database, kept), lambda j: j["status"] == "done")
        wait_until(lambda: jobs.pending(), lambda pending: pending == 0)
    cancelled = read(database, dropped)
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
    assert dropped not in CALLS
    with database.write() as session, pytest.raises(records.AlreadyEnded):
        records.cancel(session, ANALYST, dropped)


def test_a_running_job_stops_at_its_next_check(jobs: JobQueue, database: Database) -> None:
    RELEASE.clear()
    job_id = start(database, "wait")
    jobs.submit(job_id)
    with consuming(jobs):
        wait_until(lambda: read(database, job_id), lambda j: j["status"] == "running")
        assert jobs.runtime.folder(job_id).is_dir()
        with database.write() as session:
            asked = records.cancel(session, ANALYST, job_id).to_dict()
        assert asked["status"] == "running" and asked["cancelling"] is True
        ended = wait_until(lambda: read(database, job_id), lambda j: j["status"] != "running")
    assert ended["status"] == "cancelled" and ended["error"] == "cancelled while running"
    assert not jobs.runtime.folder(job_id).exists()


def test_a_job_past_its_kinds_time_limit_fails(jobs: JobQueue, database: Database) -> None:
    RELEASE.clear()
    jobs.runtime.time_limits = {"wait": 1.0}
    job_id = start(database, "wait")
    jobs.submit(job_id)
    with consuming(jobs):
        ended = wait_until(lambda: read(database, job_id), lambda j: j["ended_at"] is not None)
    assert ended["status"] == "failed"
    assert "wait jobs may run at most 1 s" in ended["error"]
    assert not jobs.runtime.folder(job_id).exists()


def test_an_unknown_kind_fails_with_a_message(database: Database, tmp_path: Path) -> None:
    jobs = JobQueue(runtime(database, tmp_path / "jobs"))
    job_id = start(database, "teleport")
    jobs.submit(job_id)
    with consuming(jobs):
        ended = wait_until(lambda: read(database, job_id), lambda j: j["ended_at"] is not None)
    assert ended["status"] == "failed"
    assert ended["error"] == "this worker does not know jobs of kind 'teleport'"


def test_limits_and_who_sees_what(database: Database) -> None:
    with database.write() as session:
        first = records.create(session, "count", "limited", {}, per_user=2).id
        records.create(session, "count", "limited", {}, per_user=2)
    with database.write() as session, pytest.raises(records.TooManyJobs, match="at most 2"):
        records.create(session, "count", "limited", {}, per_user=2)
    with database.write() as session:
        records.cancel(session, Actor("limited", Role.analyst), first)
        records.create(session, "count", "limited", {}, per_user=2)  # room again
    mine = Actor("limited", Role.analyst)
    with database.read() as session:
        assert {j.owner for j in records.listed(session, mine)} == {"limited"}
        assert len(records.listed(session, mine, status="queued")) == 2
        assert records.get(session, ADMIN, first).id == first
        assert len({j.owner for j in records.listed(session, ADMIN)}) > 1
        for actor, job_id in ((OTHER, first), (ANALYST, first), (ANALYST, "nope")):
            with pytest.raises(NotFound):
                records.get(session, actor, job_id)
    with database.write() as session, pytest.raises(NotFound):
        records.cancel(session, OTHER, first)


def test_settings_are_checked() -> None:
    assert parse_time_limits("ingest=3600, export=90.5,") == {"ingest": 3600, "export": 90.5}
    for bad in ("ingest", "ingest=soon", "=5", "ingest=-1"):
        with pytest.raises(ValueError, match="kind=seconds"):
            parse_time_limits(bad)
    with pytest.raises(QueueError, match="redis://"):
        JobQueue(Runtime(Database("sqlite://"), Path("/nonexistent"), {}), "http://example.org")


@pytest.fixture
def data_folder(tmp_path: Path) -> Iterator[tuple[Path, Database]]:
    folder = tmp_path / "instance"
    folder.mkdir()
    db = Database(sqlite_url(folder / "annotator.db"))
    upgrade(db)
    yield folder, db
    db.dispose()


def worker(folder: Path, log: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "ANNOTATOR_DATA_DIR": str(folder)}
    command = "from annotator.cli import main; main()"
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", command, "worker"], env=environment, stderr=stderr
        )


def test_a_worker_killed_mid_job_is_cleaned_up_by_the_next(
    data_folder: tuple[Path, Database],
) -> None:
    """A real `annotator worker` takes an ingest job whose file is a FIFO nobody writes to,
    so it is mid-job for as long as we like; SIGKILL; the next worker, as it starts, fails
    the job with a message and removes its folder, then runs the next job as usual."""
    folder, database = data_folder
    jobs = JobQueue(runtime(database, folder / "jobs"))
    stuck = records.new_id()
    work = jobs.runtime.folder(stuck)
    work.mkdir(parents=True)
    os.mkfifo(work / "0.tif")
    with database.write() as session:
        params = {"files": [{"path": "0.tif", "name": "stuck.tif"}], "sites": []}
        records.create(session, "ingest", "analyst", params, per_user=5, job_id=stuck)
    jobs.submit(stuck)
    log = folder.parent / "workers.log"
    first = worker(folder, log)
    try:
        running = wait_until(lambda: read(database, stuck), lambda j: j["status"] != "queued")
        assert running["status"] == "running", running
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert read(database, stuck)["status"] == "running"  # nobody told the table
    assert work.is_dir()
    after = start(database, "count", n=2)  # a job for the next worker
    jobs.submit(after)
    with consuming(jobs):  # a worker starting (`annotator worker` does the same, in its process)
        failed = read(database, stuck)
        wait_until(lambda: read(database, after), lambda j: j["status"] == "done")
    assert failed["status"] == "failed"
    assert "stopped before it ended" in failed["error"] and failed["ended_at"]
    assert not work.exists()
    assert b"job worker" in log.read_bytes() and b"Traceback" not in log.read_bytes()


def test_recover_leaves_live_workers_jobs_alone(database: Database, tmp_path: Path) -> None:
    """A running job whose worker is alive (this process) and beating keeps running; a job
    folder with no row yet (a request still writing it) stays; ended jobs' folders go."""
    here = runtime(database, tmp_path / "jobs")
    alive = start(database, "count")
    with database.write() as session:
        job = session.get(Job, alive)
        assert job is not None
        job.status, job.worker = "running", f"{os.uname().nodename}:{os.getppid()}"
        job.started_at = job.heartbeat_at = job.created_at
    ended = start(database, "count")
    with database.write() as session:
        records.cancel(session, ANALYST, ended)
    for job_id in (alive, ended, records.new_id()):
        here.folder(job_id).mkdir(parents=True)
    assert alive not in recover(here)
    assert read(database, alive)["status"] == "running"
    remaining = {p.name for p in (tmp_path / "jobs" / "work").iterdir()}
    assert alive in remaining and ended not in remaining and len(remaining) == 2
