"""A throwaway Redis for the tests: Debian's redis-server on a free local port, with its own
folder, nothing saved to disk, gone at the end (as tests/postgis.py's PostGIS cluster).

`stop()` runs from the fixture and again from `atexit`; a small watchdog process stops the
server and removes the folder if the test process dies without running either.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import require

# Runs in its own session; stops the server once the test process has gone.
_WATCHDOG = """
import os, shutil, signal, sys, time
parent, server, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
try:
    os.kill(server, signal.SIGKILL)
except ProcessLookupError:
    pass
shutil.rmtree(folder, ignore_errors=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayRedis:
    def __init__(self, binary: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="redis-test-"))
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()),
             str(self.server.pid), str(self.folder)],
            start_new_session=True,
        )  # fmt: skip
        atexit.register(self.stop)
        client = redis.Redis.from_url(self.url)
        for _ in range(200):  # up to 20 s for the server to answer
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if self.server.poll() is not None:
                raise RuntimeError(f"redis-server ended at start ({self.server.returncode})")
            time.sleep(0.1)
        else:
            raise RuntimeError("redis-server did not answer within 20 s")
        client.close()

    def flush(self) -> None:
        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()

    def stop(self) -> None:
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.watchdog.poll() is None:
            self.watchdog.terminate()
            self.watchdog.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    require(Path(binary).is_file(), "redis-server is not installed (make test installs it)")
    server = ThrowawayRedis(binary)
    try:
        yield server
    finally:
        server.stop()
