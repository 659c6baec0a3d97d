"""Part 1: the CLI's ingest of a large scene against `rio cogeo create`, time and peak memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common.servers import APP_BIN, ROOT, Annotator, base_env
from benchmarks.common.timing import CpuMeter, log

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


def measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run `argv` to its end: its wall time, and (wait4) the peak RSS and CPU of it and of the
    children it waited for."""
    meter = CpuMeter()
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {err.decode(errors='replace')[-800:]}")
    return Run(
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
        other_cpu=meter.other_share(),
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
