"""A pause inside a real job, for tests that must act while it runs: `gated_queue(app, kind)`
is the app's own queue and kinds, except that the job of `kind` stops at its first step
`where(fraction, writing)` picks and waits there (bounded) until someone asks it to cancel;
then it goes on, and its next check finds the cancel. Nothing is replaced: the real job runs
on the real catalogue; only its timing is held."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from flask import Flask

from annotations.jobs.queue import JobQueue
from annotations.jobs.running import JobContext
from annotator.jobs.setup import queue
from tests.jobs import wait_until


class Gate:
    def __init__(self) -> None:
        self.reached = threading.Event()
        self.fraction = 0.0

    def hold(self, context: JobContext, fraction: float) -> None:
        if self.reached.is_set():
            return
        self.fraction = fraction
        self.reached.set()

        def cancelling() -> dict[str, Any]:
            return {"cancelling": context._cancelled()}  # the stop file, or the row's flag

        wait_until(cancelling, lambda seen: seen["cancelling"])


def gated_queue(
    app: Flask, kind: str, *, writing: bool, settings: dict[str, Any] | None = None
) -> tuple[JobQueue, Gate]:
    """The app's queue whose `kind` jobs hold at their first step past the start of the
    planning (`writing` False) or after their first write batch (`writing` True)."""
    jobs = queue(app)
    gate = Gate()
    run = jobs.runtime.kinds[kind]

    def gated(context: JobContext) -> dict[str, Any]:
        progress, check = context.progress, context.check

        def held_progress(fraction: float, message: str = "", *, now: bool = False) -> None:
            progress(fraction, message, now=True)  # written, so the page sees it
            if not writing and 0.1 < fraction < 0.5:
                gate.hold(context, fraction)
            if writing and fraction > 0.5:
                gate.hold(context, fraction)

        def held_check() -> None:  # SQLite's write phase checks read-only
            if writing:
                gate.hold(context, 0.5)
            check()

        context.progress = held_progress  # type: ignore[method-assign]
        context.check = held_check  # type: ignore[method-assign]
        return run(context)

    runtime = replace(
        jobs.runtime,
        kinds={**jobs.runtime.kinds, kind: gated},
        settings={**jobs.runtime.settings, **(settings or {})},
    )
    return JobQueue(runtime, jobs.url), gate
