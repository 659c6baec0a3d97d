"""The job worker `annotator serve` runs beside gunicorn, kept alive.

`annotator serve` starts this supervisor just before it becomes gunicorn's arbiter (an exec:
same process), so the arbiter is its parent and no gunicorn worker ever forks it: one job
worker per serve. The supervisor imports nothing heavy. It runs `annotator worker` as its
child and starts another when that one dies (killed, out of memory), at most every
`RESTART_AFTER_S`; the new worker fails the jobs the dead one left running and removes their
folders (annotations.jobs.running.recover). When the server stops, so does the worker:
SIGINT, so the jobs in hand finish first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

#: a worker that died is replaced, but no sooner than this after the last start
RESTART_AFTER_S = 2.0
_WORKER = "from annotator.cli import main; main()"
_SUPERVISOR = "from annotator.jobs.supervisor import supervise; supervise()"


def start(threads: int) -> subprocess.Popen[bytes]:
    """Start the supervisor as a child of this process (`annotator serve`, before its exec)."""
    return subprocess.Popen([sys.executable, "-c", _SUPERVISOR, str(os.getpid()), str(threads)])


def supervise() -> None:
    """argv: the server's pid, the worker's threads. Runs until the server has gone or this
    process is told to stop."""
    parent, threads = int(sys.argv[1]), int(sys.argv[2])
    told: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        told.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    child: subprocess.Popen[bytes] | None = None
    started = -RESTART_AFTER_S
    while not told and os.getppid() == parent:
        if child is None or child.poll() is not None:
            if time.monotonic() - started < RESTART_AFTER_S:
                time.sleep(0.2)
                continue
            if child is not None:
                ended = f"job worker {child.pid} ended ({child.returncode}); starting another"
                print(ended, file=sys.stderr, flush=True)
            started = time.monotonic()
            argv = ["worker", "--threads", str(threads), "--parent", str(os.getpid())]
            child = subprocess.Popen([sys.executable, "-c", _WORKER, *argv])
        time.sleep(0.2)
    if child is None or child.poll() is not None:
        return
    if signal.SIGINT not in told:  # a Ctrl-C reached the worker already (same process group)
        child.send_signal(signal.SIGINT)
    child.wait()
