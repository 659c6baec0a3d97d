"""Helpers for tests of background jobs: a consumer in threads of the test process, and waiting
for a job to end (bounded: a job that never ends fails the test with what it last said)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from annotations.jobs.queue import BackgroundConsumer, JobQueue
from annotator.jobs.setup import queue

ENDED = ("done", "failed", "cancelled")
#: a job in a test ends well within this (bounded waits, not timed assertions)
WAIT_S = 120.0


@contextlib.contextmanager
def consuming(target: Flask | JobQueue, threads: int = 1) -> Iterator[BackgroundConsumer]:
    """Run jobs from the app's (or this) queue in threads of this process, as a worker would."""
    jobs = queue(target) if isinstance(target, Flask) else target
    consumer = BackgroundConsumer(jobs, threads).start()
    try:
        yield consumer
    finally:
        consumer.stop()


def wait_until(read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + WAIT_S
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = read()
        if done(seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"still waiting after {WAIT_S:g} s; last seen: {seen}")


def wait_for_job(client: FlaskClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """The job once it has ended, read through the API."""

    def read() -> dict[str, Any]:
        response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.get_json()
        found: dict[str, Any] = response.get_json()
        return found

    ended: dict[str, Any] = wait_until(read, lambda job: job["status"] in ENDED)
    return ended


def ingested_image(client: FlaskClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """Wait for an ingest job and return its (first) image as GET /api/v1/images/<id> has it."""
    job = wait_for_job(client, headers, job_id)
    assert job["status"] == "done", job
    href = job["result"]["images"][0]["href"]
    image: dict[str, Any] = client.get(href, headers=headers).get_json()
    return image
