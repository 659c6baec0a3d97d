"""One timed backup each way, into a fresh folder on the data folder's filesystem:

- the peer: SQLite's own shell, `sqlite3 annotator.db ".backup TARGET/database.sqlite"`,
  then `cp -al images TARGET/images` (hard links), timed together;
- ours: `annotator backup TARGET --json`, the real command in its own process (interpreter
  start included).

A cold round first forgets what a previous backup left: the image store's hash cache
(DATA_DIR/cache/store-hashes.json) and, for both sides alike, the page cache of the database
and the COGs (posix_fadvise DONTNEED on our own files only), so the first backup reads
everything from the disk. Between runs, `sync` (untimed) so one run's dirty pages are not
written back during the next."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.backup.data import Bench
from benchmarks.common.servers import APP_BIN, ROOT
from benchmarks.common.timing import CpuMeter, log

SQLITE3 = shutil.which("sqlite3") or "/usr/bin/sqlite3"
HASH_CACHE = Path("cache") / "store-hashes.json"
TIMEOUT_S = 3600


@dataclass
class Run:
    who: str  # "ours" | "peer"
    kind: str  # "cold" | "warm"
    round: int
    seconds: float
    parts: dict[str, float] = field(default_factory=dict)
    other_cpu: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    files: int = 0
    bytes: int = 0
    checked: str = ""


def evict(paths: list[Path]) -> None:
    """Drop these files' pages from the page cache (they are clean: nothing is lost)."""
    for path in paths:
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def make_cold(bench: Bench, keep: Path | None = None) -> None:
    """Forget the hash cache, and evict the database and the COGs from the page cache, but
    `keep` (the image the tile client loads stays cached, as on a running server)."""
    (bench.data_dir / HASH_CACHE).unlink(missing_ok=True)
    os.sync()
    files = [bench.database, *sorted(p for p in bench.images.iterdir() if p != keep)]
    files += [bench.database.with_name(bench.database.name + s) for s in ("-wal", "-shm")]
    evict(files)


def sqlite3_version() -> str:
    result = subprocess.run([SQLITE3, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.split(" ")[0] if result.returncode == 0 else "missing"


def _run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:3])} exited {result.returncode}: {result.stderr[-400:]}"
        )
    return result


def peer(bench: Bench, target: Path) -> tuple[dict[str, float], dict[str, Any]]:
    target.mkdir(parents=True)
    started = time.perf_counter()
    _run([SQLITE3, str(bench.database), f'.backup "{target / "database.sqlite"}"'])
    snapshot = time.perf_counter()
    _run(["cp", "-al", str(bench.images), str(target / "images")])
    ended = time.perf_counter()
    return {
        "total": ended - started,
        "sqlite3 .backup": snapshot - started,
        "cp -al": ended - snapshot,
    }, {}


def ours(bench: Bench, target: Path) -> tuple[dict[str, float], dict[str, Any]]:
    env = bench.cli.env()
    started = time.perf_counter()
    result = _run([str(APP_BIN / "annotator"), "backup", str(target), "--json"], env)
    total = time.perf_counter() - started
    manifest: dict[str, Any] = json.loads(result.stdout)
    return {"total": total}, manifest


def check(bench: Bench, who: str, target: Path, manifest: dict[str, Any]) -> tuple[int, int, str]:
    """What the backup holds (files, bytes) and a one-line check that it is whole."""
    images = target / "images"
    cogs = sorted(images.iterdir()) if images.is_dir() else []
    linked = sum(1 for p in cogs if p.stat().st_ino == (bench.images / p.name).stat().st_ino)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    expected = len(list(bench.images.iterdir()))
    if len(cogs) != expected:
        raise RuntimeError(f"{who}'s backup holds {len(cogs)} COGs, not {expected}")
    note = f"{len(cogs)} COGs ({linked} hard-linked)"
    if who == "ours":
        counts = manifest.get("counts", {})
        note += f", manifest counts {counts.get('annotations')} annotations"
        note += f" and {counts.get('revisions')} revisions"
        if not (target / "manifest.json").exists():
            raise RuntimeError("our backup has no manifest.json")
    files = sum(1 for p in target.rglob("*") if p.is_file())
    return files, size, note


def timed(bench: Bench, who: str, kind: str, number: int) -> Run:
    target = bench.backups / f"{who}-{kind}-{number}"
    shutil.rmtree(target, ignore_errors=True)
    bench.backups.mkdir(parents=True, exist_ok=True)
    meter = CpuMeter()
    load = os.getloadavg()
    parts, manifest = (ours if who == "ours" else peer)(bench, target)
    run = Run(
        who=who,
        kind=kind,
        round=number,
        seconds=parts.pop("total"),
        parts=parts,
        other_cpu=meter.other_share(),
        load=load,
    )
    run.files, run.bytes, run.checked = check(bench, who, target, manifest)
    log(f"{kind} {number} {who}: {run.seconds:.2f} s ({run.other_cpu:.0%} other CPU)")
    shutil.rmtree(target)
    os.sync()
    return run


def as_dict(run: Run) -> dict[str, Any]:
    return asdict(run)
