"""Logging, percentiles and CPU-noise accounting: how much of the machine other processes used
while a benchmark measured (`CpuMeter`), and whether to measure again (`Noise`)."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

NPROC = os.cpu_count() or 1
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: A measurement during which other processes took more than DISTURBED of the machine is taken
#: again while the run is younger than its retry budget. Before measuring, wait (at most
#: QUIET_WAIT_S each time, QUIET_BUDGET_S in all) for the machine to be less than QUIET_SHARE busy.
DISTURBED = 0.10
QUIET_SHARE = 0.25
QUIET_WAIT_S = 10.0
QUIET_BUDGET_S = 45.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


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

    def __init__(
        self, began: float, retry_budget_s: float, quiet_budget_s: float = QUIET_BUDGET_S
    ) -> None:
        self.began = began
        self.retry_budget_s = retry_budget_s
        self.quiet_budget_s = quiet_budget_s
        self.waited = 0.0
        self.retries = 0

    def wait_for_quiet(self) -> None:
        deadline = time.monotonic() + QUIET_WAIT_S
        while time.monotonic() < deadline and self.waited < self.quiet_budget_s:
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
