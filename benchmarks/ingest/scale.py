"""Part 1: the CLI's ingest of a large scene against `rio cogeo create`, time and peak memory."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common.servers import APP_BIN, ROOT, Annotator, base_env
from benchmarks.common.system import status_kb
from benchmarks.common.timing import CpuMeter, log

_PR_SET_CHILD_SUBREAPER = 36
ORPHANS_S = 60.0  # how long the orphans of a finished run may take to end
SAMPLE_S = 0.25  # how often the resident sets of a run's processes are summed

#: `rio cogeo create` with the profile imagery.ingest.write_cog writes
PEER_ARGS = (
    "--cog-profile",
    "zstd",
    "--co",
    "ZSTD_LEVEL=9",
    "--co",
    "PREDICTOR=2",
    "--blocksize",
    "256",
    "--overview-blocksize",
    "256",
    "--co",
    "BIGTIFF=IF_SAFER",
    "--overview-resampling",
    "average",
    "--threads",
    "ALL_CPUS",
    "--no-in-memory",
    "--quiet",
)


@dataclass(frozen=True)
class Run:
    """One child process: its wall time, peak RSS and CPU, and how busy others kept the machine."""

    seconds: float
    peak_rss_mb: float
    cpu_s: float
    other_cpu: float
    #: the largest sum of the resident sets of all its processes at once, sampled
    peak_sum_mb: float = 0.0


def _subreaper(on: bool) -> None:
    """Make this process the one that orphaned descendants are given to (Linux): the ingest's
    sandbox child is forked by a multiprocessing forkserver that `annotator` never waits for,
    so without this its memory and CPU would be missing from wait4's figures."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), "prctl(PR_SET_CHILD_SUBREAPER)")


def _orphans(known: set[int]) -> tuple[float, float]:
    """Wait for the orphans given to this process (its children but those in `known`, such
    as a server it runs): their largest peak RSS (MB) and their CPU."""
    peak_mb, cpu_s = 0.0, 0.0
    deadline = time.monotonic() + ORPHANS_S
    while left := set(_children().get(os.getpid(), [])) - known:
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                done, _status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    peak_mb = max(peak_mb, usage.ru_maxrss / 1024)
                    cpu_s += usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            raise RuntimeError(f"a child of the measured run lived on after {ORPHANS_S} s")
        time.sleep(0.05)
    return peak_mb, cpu_s


def _children() -> dict[int, list[int]]:
    """Each live process's children (from /proc's parent pids)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    return children


def descendants(root: int) -> list[int]:
    """The live processes below `root`."""
    children = _children()
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _sum_sampler(root: int, stop: threading.Event, peak: list[int]) -> None:
    """Until `stop`: the largest sum of VmRSS (kB) over the processes below `root`, in peak[0]."""
    while not stop.is_set():
        peak[0] = max(peak[0], sum(status_kb(pid, "VmRSS") for pid in [root, *descendants(root)]))
        stop.wait(SAMPLE_S)


def measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run `argv` to its end: its wall time, and (wait4) the peak RSS and CPU of it and of
    every descendant, those it waited for and those it left behind (see _subreaper)."""
    meter = CpuMeter()
    known = set(_children().get(os.getpid(), []))
    stop, peak_sum = threading.Event(), [0]
    _subreaper(True)
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except BaseException:
        _subreaper(False)
        raise
    sampler = threading.Thread(target=_sum_sampler, args=(process.pid, stop, peak_sum))
    sampler.start()
    try:
        assert process.stderr is not None
        err = process.stderr.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        orphans_mb, orphans_cpu_s = _orphans(known)
    finally:
        stop.set()
        sampler.join()
        _subreaper(False)
    if process.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {err.decode(errors='replace')[-800:]}")
    return Run(
        seconds=seconds,
        peak_rss_mb=max(usage.ru_maxrss / 1024, orphans_mb),
        cpu_s=usage.ru_utime + usage.ru_stime + orphans_cpu_s,
        other_cpu=meter.other_share(),
        peak_sum_mb=peak_sum[0] / 1024,
    )


def peer(source: Path, work: Path) -> Run:
    out = work / "peer.tif"
    out.unlink(missing_ok=True)
    try:
        return measured(
            [str(APP_BIN / "rio"), "cogeo", "create", str(source), str(out), *PEER_ARGS], base_env()
        )
    finally:
        out.unlink(missing_ok=True)


def ours(source: Path, work: Path) -> Run:
    """`annotator images import` into a fresh data folder (the store dedupes by content)."""
    folder = work / "instance-scale"
    shutil.rmtree(folder, ignore_errors=True)
    app = Annotator(folder)
    app("init")
    try:
        return measured(
            [str(APP_BIN / "annotator"), "images", "import", str(source), "--json"], app.env()
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compare(source: Path, work: Path, rounds: int) -> list[tuple[Run, Run]]:
    """`rounds` pairs, the peer first in each."""
    pairs = []
    for number in range(1, rounds + 1):
        log(f"scale round {number}: rio cogeo create")
        theirs = peer(source, work)
        log(f"  {theirs.seconds:.1f} s, {theirs.peak_rss_mb:.0f} MB; annotator images import")
        mine = ours(source, work)
        log(f"  {mine.seconds:.1f} s, {mine.peak_rss_mb:.0f} MB")
        pairs.append((theirs, mine))
    return pairs
