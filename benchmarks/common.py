"""What every benchmark here shares: logging, percentiles, CPU-noise accounting, a keep-alive
HTTP client and the machine report. Imported as `common` (the benchmarks run as scripts from
this folder)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NPROC = os.cpu_count() or 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")

#: A measurement during which other processes took more than DISTURBED of the machine is taken
#: again while the run is younger than its retry budget. Before measuring, wait (at most
#: QUIET_WAIT_S each time, QUIET_BUDGET_S in all) for the machine to be less than QUIET_SHARE busy.
DISTURBED = 0.10
QUIET_SHARE = 0.25
QUIET_WAIT_S = 10.0
QUIET_BUDGET_S = 45.0
REQUEST_TIMEOUT_S = 60.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


# ----------------------------------------------------------------- CPU and memory accounting


def machine_busy_s() -> float:
    """CPU-seconds the machine has been busy (steal included) since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields)
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu_s() -> float:
    """CPU-seconds of this process and of every child it has waited for."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _stat_fields(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def group_pids(pgid: int) -> list[int]:
    """The live processes of a process group (a server and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(_stat_fields(entry.name)[2]) == pgid:
                    found.append(int(entry.name))
    return found


def process_cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    return 0.0


def group_cpu_s(pgid: int) -> dict[int, float]:
    """CPU-seconds of each live process in a process group."""
    return {pid: process_cpu_s(pid) for pid in group_pids(pgid)}


def status_kb(pid: int, key: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


#: process groups of the servers a benchmark runs, and the PostgreSQL cluster folders it started:
#: their CPU is the benchmark's own, though they are not children it has waited for
TRACKED_GROUPS: set[int] = set()
TRACKED_CLUSTERS: list[Path] = []


def tracked_pids() -> list[int]:
    postmasters = set()
    for folder in TRACKED_CLUSTERS:
        with contextlib.suppress(OSError, ValueError, IndexError):
            postmasters.add(int((folder / "postmaster.pid").read_text().splitlines()[0]))
    if not TRACKED_GROUPS and not postmasters:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = _stat_fields(entry.name)
                pid, ppid, pgid = int(entry.name), int(fields[1]), int(fields[2])
                if pgid in TRACKED_GROUPS or pid in postmasters or ppid in postmasters:
                    found.append(pid)
    return found


class CpuMeter:
    """The share of the machine that processes other than ours used while it ran. Ours are
    this process, its waited-for children, and the tracked servers and PostgreSQL cluster.

    Other sessions may run tests on the same machine; a measurement they disturbed is taken
    again (see Noise), and the share is reported next to every figure.
    """

    def __init__(self) -> None:
        self.busy = machine_busy_s()
        self.own = own_cpu_s()
        self.tracked = {pid: process_cpu_s(pid) for pid in tracked_pids()}
        self.started = time.monotonic()

    def other_share(self) -> float:
        wall = time.monotonic() - self.started
        tracked = sum(process_cpu_s(pid) - self.tracked.get(pid, 0.0) for pid in tracked_pids())
        other = (machine_busy_s() - self.busy) - (own_cpu_s() - self.own) - tracked
        return max(0.0, other / (wall * NPROC)) if wall > 0 else 0.0


class Noise:
    """Waits (a bounded time) for a quiet machine and decides whether to measure again."""

    def __init__(self, began: float, retry_budget_s: float) -> None:
        self.began = began
        self.retry_budget_s = retry_budget_s
        self.waited = 0.0
        self.retries = 0

    def wait_for_quiet(self) -> None:
        deadline = time.monotonic() + QUIET_WAIT_S
        while time.monotonic() < deadline and self.waited < QUIET_BUDGET_S:
            busy = machine_busy_s()
            time.sleep(0.5)
            if (machine_busy_s() - busy) / (0.5 * NPROC) < QUIET_SHARE:
                return
            self.waited += 0.5

    def again(self, share: float, what: str) -> bool:
        if share <= DISTURBED or time.perf_counter() - self.began > self.retry_budget_s:
            return False
        self.retries += 1
        log(f"{what}: other processes took {share:.0%} of the CPU; measuring again")
        return True


# ---------------------------------------------------------------------------- HTTP harness


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


# --------------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": str(NPROC),
        "CPU": cpu,
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
    }


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


# ------------------------------------------------------------------------ docs/benchmarks.md

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
DOC_TITLE = (
    "# Benchmarks\n\n"
    "Written by `make bench` (see `benchmarks/README.md`). Each benchmark rewrites only its own "
    "section, between its `begin`/`end` markers; re-run a benchmark rather than editing it.\n"
)


def _demoted(markdown: str) -> str:
    """Headings one level down (outside code fences), so a report nests under the title."""
    lines, fenced = [], False
    for line in markdown.strip("\n").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        lines.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Put one benchmark's report into docs/benchmarks.md, replacing its previous section and
    leaving every other benchmark's section as it was."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{_demoted(markdown)}\n{end}"
    text = doc.read_text() if doc.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        if not text.startswith("# Benchmarks"):
            text = DOC_TITLE  # an old single-report file: start the sectioned one afresh
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
