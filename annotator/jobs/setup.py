"""The app's job queue, built once from its settings, and the worker commands.

`annotator serve` starts one worker process beside gunicorn (`start_embedded`): one per
serve, not one per gunicorn worker, and it ends when the server does. `annotator worker`
runs one on its own (with Redis, on as many machines as wanted).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from annotations.jobs.queue import JobQueue, QueueError
from annotations.jobs.running import Runtime, parse_time_limits
from annotator import services
from annotator.config import ConfigError
from annotator.intake import INGEST_SETTINGS
from annotator.jobs import api, page, supervisor
from annotator.jobs.kinds import KINDS
from imagery.sandbox import prepare

_QUEUE = "annotator.jobs"


def jobs_root(settings: Mapping[str, Any]) -> Path:
    """Where the SQLite queue and each job's folder live: <data folder>/jobs."""
    return Path(settings["DATA_DIR"]) / "jobs"


def time_limits(settings: Mapping[str, Any]) -> dict[str, float]:
    try:
        return parse_time_limits(str(settings.get("JOBS_TIME_LIMITS") or ""))
    except ValueError as exc:
        raise ConfigError(f"ANNOTATOR_JOBS_TIME_LIMITS: {exc}") from None


def init_app(app: Flask) -> None:
    """Give the app its queue (checked now: a bad URL or limit stops the start in one line),
    the jobs API and the Jobs page."""
    settings = app.config
    runtime = Runtime(
        database=services.database(app),
        root=jobs_root(settings),
        kinds=KINDS,
        time_limits=time_limits(settings),
        settings={
            "IMAGES_DIR": Path(settings["IMAGES_DIR"]),
            "MAX_IMAGE_PIXELS": int(settings["MAX_IMAGE_PIXELS"]),
            **{key: settings.get(key) for key in INGEST_SETTINGS},
            "DEM": settings.get("DEM"),
            # for import jobs (annotator.jobs.imports)
            "TAXONOMY": services.taxonomy(app),
            "TMP_DIR": Path(settings["TMP_DIR"]),
            "MAX_UPLOAD_MB": int(settings["MAX_UPLOAD_MB"]),
            # for export jobs (annotator.jobs.exports)
            "JOBS_ROOT": jobs_root(settings),
            "EXPORT_MAX_CHIPS": int(settings["EXPORT_MAX_CHIPS"]),
            "EXPORT_MAX_MB": float(settings["EXPORT_MAX_MB"]),
            "EXPORT_KEEP_HOURS": float(settings["EXPORT_KEEP_HOURS"]),
            # for story jobs (annotator.jobs.story)
            "SIGNING_KEY_FILE": Path(settings["SIGNING_KEY_FILE"]),
        },
    )
    try:
        app.extensions[_QUEUE] = JobQueue(runtime, settings.get("JOBS_URL") or None)
    except QueueError as exc:
        raise ConfigError(f"ANNOTATOR_JOBS_URL: {exc}") from None
    app.register_blueprint(api.bp)
    app.register_blueprint(page.bp)


def queue(app: Flask | None = None) -> JobQueue:
    found: JobQueue = (app or current_app).extensions[_QUEUE]
    return found


def run_worker(app: Flask, threads: int | None = None, parent: int | None = None) -> None:
    """`annotator worker`: consume jobs until INT or TERM (the job in hand finishes first),
    with `threads` at once (ANNOTATOR_JOBS_THREADS by default). With `parent`, also stop once
    that process has gone (the worker `annotator serve` starts)."""
    jobs = queue(app)
    count = threads or int(app.config["JOBS_THREADS"])
    where = app.config.get("JOBS_URL") or "the data folder's queue"
    print(f"job worker {os.getpid()}: {count} thread(s), jobs from {where}", file=sys.stderr)
    if parent is not None:
        threading.Thread(target=_stop_with, args=(parent,), daemon=True).start()
    threading.Thread(target=prepare, name="forkserver", daemon=True).start()
    jobs.run_worker(count)


def _stop_with(parent: int) -> None:
    """Send this process SIGINT (Huey's graceful stop: the jobs in hand finish) once `parent`
    is no longer its parent."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)


def start_embedded(threads: int) -> subprocess.Popen[bytes]:
    """The job worker `annotator serve` runs, kept alive (annotator.jobs.supervisor)."""
    return supervisor.start(threads)


def terminal_progress() -> Callable[[float, str], None] | None:
    """For `annotator images import` on a terminal: one line rewritten in place (a bar, the
    percentage, the step), ended once the last step is reached. None when stderr is no
    terminal (a script's log gets the result lines only)."""
    if not sys.stderr.isatty():
        return None

    def show(fraction: float, message: str) -> None:
        filled = round(fraction * 30)
        line = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message}"
        end = "\n" if fraction >= 0.99 else ""
        print(f"\r{line[:100]:<100}", end=end, file=sys.stderr, flush=True)

    return show
