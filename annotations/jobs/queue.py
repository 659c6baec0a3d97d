"""The queue that carries job ids to workers: Huey, with its SQLite storage in the jobs
folder by default (no other service), or Redis when a `redis://` URL is given (then any
number of `annotator worker` processes, on any machines that share the data folder and the
database, take jobs from it).

The queue holds only "run job <id>"; the jobs table holds everything else, so a message
delivered twice, or for a job cancelled meanwhile, runs nothing (`running.run_job`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from huey import RedisHuey, SqliteHuey  # type: ignore[import-untyped]
from huey.api import Huey  # type: ignore[import-untyped]
from huey.consumer import Consumer  # type: ignore[import-untyped]

from annotations.jobs.running import Runtime, recover, run_job

log = logging.getLogger(__name__)

QUEUE_NAME = "annotator-jobs"
TASK_NAME = "annotator.run_job"
#: how long an idle consumer waits between looks at an empty queue, at most (seconds)
MAX_POLL_S = 1.0


class QueueError(ValueError):
    """The queue's URL cannot be used."""


def check_url(url: str | None) -> None:
    scheme = urlsplit(url).scheme if url else ""
    if url and scheme not in ("redis", "rediss", "unix"):
        raise QueueError(f"the jobs URL must be redis://, rediss:// or unix://, not {scheme}://")


def storage(url: str | None, runtime: Runtime) -> Huey:
    """Huey with Redis storage for a redis:// (or rediss://) URL, else SQLite in the jobs
    folder. Results are not kept by Huey: they go into the jobs table."""
    check_url(url)
    if url:
        return RedisHuey(QUEUE_NAME, url=url, results=False, read_timeout=1)
    runtime.root.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(runtime.root / "queue.db"), results=False)


class JobQueue:
    """Submit job ids (the web app, the CLI) and consume them (a worker)."""

    def __init__(self, runtime: Runtime, url: str | None = None) -> None:
        check_url(url)
        self.runtime = runtime
        self.url = url
        self._huey: Huey | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        """Made when first used, so an app that never queues a job (a command refused before
        `annotator init`) makes no queue file."""
        with self._lock:
            if self._huey is None:
                self._huey = storage(self.url, self.runtime)
                self._task = self._huey.task(name=TASK_NAME)(self._run)
            return self._huey

    def _run(self, job_id: str) -> None:
        run_job(self.runtime, job_id)

    def submit(self, job_id: str) -> None:
        """Put the job on the queue (its row must be written, queued, first)."""
        self.huey.enqueue(self._task.s(job_id))

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def consumer(self, threads: int = 1) -> Consumer:
        """A Huey consumer with `threads` worker threads (no periodic tasks)."""
        return self.huey.create_consumer(
            workers=threads,
            periodic=False,
            worker_type="thread",
            max_delay=MAX_POLL_S,
            check_worker_health=True,
        )

    def run_worker(self, threads: int = 1) -> None:
        """Tidy up after dead workers, then consume until a signal stops the process (INT or
        TERM: the job in hand finishes first). Call from the main thread."""
        recover(self.runtime)
        self.consumer(threads).run()


class BackgroundConsumer:
    """A consumer in threads of this process, without signal handlers (for tests and for
    embedding); `stop()` lets the job in hand finish."""

    def __init__(self, queue: JobQueue, threads: int = 1) -> None:
        self.queue = queue
        self.consumer = queue.consumer(threads)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> BackgroundConsumer:
        with self._lock:
            if not self._started:
                recover(self.queue.runtime)
                self.consumer.scheduler.start()
                for _, thread in self.consumer.worker_threads:
                    thread.start()
                self._started = True
        return self

    def stop(self) -> None:
        with self._lock:
            if self._started:
                self.consumer.stop(graceful=True)
                self._started = False
