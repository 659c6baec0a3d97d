"""The servers a benchmark starts and the client that loads them, written once: the app's CLI
(`Annotator`), a server process in its own process group that is ready when a path answers
200 (`Server`, with `app_server` for `annotator serve`), a keep-alive HTTP `Client`, and
`stop_group`."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from benchmarks.common.timing import TRACKED_GROUPS, group_pids

ROOT = Path(__file__).resolve().parents[2]
APP_BIN = ROOT / ".venv" / "bin"
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")
REQUEST_TIMEOUT_S = 60.0
START_TIMEOUT_S = 90.0


def base_env() -> dict[str, str]:
    """This environment without BLAS/OpenMP thread settings, so defaults are measured."""
    return {k: v for k, v in os.environ.items() if k not in BLAS_VARS}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Reply:
    status: int
    body: bytes
    ms: float
    etag: str | None = None
    error: str | None = None


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.headers = {"Accept-Encoding": "identity", **headers}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)

    def connect(self) -> None:
        self.conn.connect()

    def request(
        self, method: str, path: str, body: bytes | None = None, extra: dict[str, str] | None = None
    ) -> Reply:
        headers = self.headers if extra is None else {**self.headers, **extra}
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            ms = (time.perf_counter() - started) * 1000
            return Reply(0, b"", ms, error=f"{type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - started) * 1000
        return Reply(response.status, data, ms, etag=response.getheader("ETag"))

    def get(self, path: str, extra: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, extra=extra)

    def post_json(self, path: str, payload: Any) -> Reply:
        body = json.dumps(payload).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def close(self) -> None:
        self.conn.close()


def stop_group(process: subprocess.Popen[bytes] | None, timeout_s: float = 20.0) -> None:
    """Stop a server started in its own process group: SIGTERM, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


class Annotator:
    """The app's command line (`annotator ...` from the app's venv) on one data folder."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url

    def env(self) -> dict[str, str]:
        env = base_env()
        env["ANNOTATOR_DATA_DIR"] = str(self.data_dir)
        env.pop("ANNOTATOR_DATABASE_URL", None)
        if self.database_url:
            env["ANNOTATOR_DATABASE_URL"] = self.database_url
        return env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(APP_BIN / "annotator"), *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=ROOT,
        )

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        """Run it; its standard output, or RuntimeError with its standard error."""
        result = self.run(*args, stdin=stdin)
        if result.returncode != 0:
            raise RuntimeError(f"annotator {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result.stdout

    def batch(self, *commands: tuple[tuple[str, ...], str | None]) -> list[str]:
        """Several commands, (args, stdin) each, one after the other in one process (see
        benchmarks.common.cli_batch: the app's import paid once): each one's standard output,
        or RuntimeError with the standard error of the first that failed. A `users add` of a
        user who exists already is not a failure (as in `add_user`)."""
        result = subprocess.run(
            [str(APP_BIN / "python"), "-m", "benchmarks.common.cli_batch"],
            env=self.env(),
            input=json.dumps(
                [
                    [list(args), stdin, "exists already" if args[:2] == ("users", "add") else None]
                    for args, stdin in commands
                ]
            ),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=ROOT,
        )
        if result.returncode != 0:
            raise RuntimeError(f"annotator set-up failed: {result.stderr.strip()[-2000:]}")
        outputs: list[dict[str, Any]] = json.loads(result.stdout)
        for (args, _), output in zip(commands, outputs, strict=False):
            if output["code"] != 0:
                raise RuntimeError(
                    f"annotator {' '.join(args[:3])} failed: {output['stderr'].strip()}"
                )
        if len(outputs) != len(commands):
            raise RuntimeError(f"annotator set-up ran {len(outputs)} of {len(commands)} commands")
        return [output["stdout"] for output in outputs]

    @staticmethod
    def token_of(output: str) -> str:
        """The token in the output of `tokens create`."""
        return output.strip().splitlines()[-1].strip()

    def add_user(self, name: str, password: str, role: str) -> None:
        """The user, unless it exists already."""
        added = self.run("users", "add", name, "--role", role, "--password-stdin", stdin=password)
        if added.returncode != 0 and "exists already" not in added.stderr:
            raise RuntimeError(f"annotator users add failed: {added.stderr.strip()}")

    def token(self, name: str) -> str:
        return self.token_of(self("tokens", "create", name))


@dataclass
class Server:
    """A server process in its own process group (so its workers stop with it), ready when
    `ready_path` answers 200; its output goes to `log_dir/<name>-<label>.log`."""

    name: str
    title: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    headers: dict[str, str]
    log_dir: Path
    tile_path: Callable[[Any, str], str] = lambda _tile, _fmt: ""
    #: processes to wait for once it answers (the master and its workers), 0 for none
    processes: int = 0
    #: count its CPU as the benchmark's own (see timing.CpuMeter)
    tracked: bool = False
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)
    start_s: float = 0.0

    def start(self, label: str = "") -> float:
        """Start it and wait until it answers; return the seconds that took."""
        name = f"{self.name}-{label}" if label else self.name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = (self.log_dir / f"{name}.log").open("wb")
        began = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.tracked:
            TRACKED_GROUPS.add(self.process.pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_file.name}")
            client = Client(self.port, self.headers)
            reply = client.get(self.ready_path)
            client.close()
            if reply.status == 200:
                self.start_s = time.perf_counter() - began
                while len(group_pids(self.process.pid)) < self.processes:
                    time.sleep(0.1)  # every worker up before anything is measured
                return self.start_s
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self, timeout_s: float = 20.0) -> None:
        process, self.process = self.process, None
        stop_group(process, timeout_s)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def app_server(
    name: str,
    title: str,
    data_dir: Path,
    log_dir: Path,
    *,
    token: str | None = None,
    workers: int | None = None,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    ready_path: str = "/login",
) -> Server:
    """`annotator serve` on a free port of 127.0.0.1 (bearer `token` on every request)."""
    port = free_port()
    argv = [str(APP_BIN / "annotator"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return Server(
        name=name,
        title=title,
        argv=[*argv, *extra],
        env=(env if env is not None else Annotator(data_dir).env()),
        port=port,
        ready_path=ready_path,
        headers={"Authorization": f"Bearer {token}"} if token else {},
        log_dir=log_dir,
        processes=(workers + 1) if workers else 0,
    )
