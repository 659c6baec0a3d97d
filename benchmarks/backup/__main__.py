"""Backup benchmark: `annotator backup` of 1,000,000 annotations (with their history) and
20 GB of COGs, side by side with SQLite's own `.backup` plus `cp -al` of the images, while
`annotator serve` answers tile requests.

`python -m benchmarks.backup [--smoke]` (with the app's venv). It:

1. builds (once; reused while benchmarks/out/backup/state.json says the same scale) a data
   folder of 100 captures the app ingested as COGs of noise (~200 MB each) and 1,000,000
   annotations with one revision per version (see benchmarks.backup.data);
2. serves it with `annotator serve --workers 2` and keeps one client fetching PNG tiles of
   one image in a loop through the whole run (benchmarks.backup.load);
3. in each round: tile latency with nothing else running (idle), then one backup each way,
   the order alternating between rounds (benchmarks.backup.runs): first the cold rounds
   (hash cache and page cache of the data forgotten before each backup), then the warm ones
   (a repeat backup, as a nightly cron job makes);
4. runs our backup once more under cProfile, cold and warm, to say where its time goes;
5. prints the report and writes its section of docs/benchmarks.md.

Targets (issue 17): our backup <= 1.2 x the peer's time; tile p95 during our backup <= 2 x
the idle p95. The backups go to benchmarks/out/backup/backups (the same filesystem) and are
deleted after each run; the data folder (~29 GB) stays for the next run: delete
benchmarks/out/backup to free the disk.
"""

from __future__ import annotations

import importlib.util
import io
import json
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.backup.data import FULL, SMOKE, Bench, Data, describe, prepare
from benchmarks.backup.load import TileLoad, summary, tile_paths
from benchmarks.backup.runs import APP_BIN, Run, as_dict, make_cold, sqlite3_version, timed
from benchmarks.common.options import OUT, options, parser
from benchmarks.common.report import render, verdict, write_section
from benchmarks.common.servers import app_server
from benchmarks.common.system import machine, package_versions
from benchmarks.common.timing import Noise, log

TARGET_TIME_RATIO = 1.2
TARGET_TILE_RATIO = 2.0
#: seconds the whole run may wait, 10 s at most before each round, for a quieter machine
QUIET_BUDGET_S = 90.0
WHO = ("ours", "peer")


def served_cog(bench: Bench, image_id: str) -> Path:
    con = sqlite3.connect(f"file:{bench.database}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT cog_name FROM images WHERE id = ?", (image_id,)).fetchone()
    finally:
        con.close()
    return bench.images / row[0]


def has_backup_command() -> bool:
    """Whether this checkout has `annotator backup` (its package; without a process)."""
    return importlib.util.find_spec("annotations.backup") is not None


def measure(bench: Bench, data: Data, only: tuple[str, ...]) -> dict[str, Any]:
    """Every round, with the tile client running throughout."""
    scale = bench.scale
    server = app_server(
        "app", "annotator serve", bench.data_dir, bench.logs, token=data.token, workers=2
    )
    server.tracked = True
    cog = served_cog(bench, data.tile_image)
    paths = tile_paths(data.tile_image, cog)
    runs: list[Run] = []
    # the smoke mode does not wait for a quiet machine: its figures mean nothing
    quiet_s = 0.0 if bench.options.smoke else QUIET_BUDGET_S
    noise = Noise(time.perf_counter(), retry_budget_s=0.0, quiet_budget_s=quiet_s)
    server.start()
    load = TileLoad(server, paths)
    load.start()
    try:
        time.sleep(min(5.0, scale.idle_s))  # the workers open the image before anything counts
        for kind, rounds in (("cold", scale.cold_rounds), ("warm", scale.warm_rounds)):
            for number in range(rounds):
                noise.wait_for_quiet()  # bounded: a shared machine may never be quiet
                load.phase = f"idle-{kind}-{number}"
                time.sleep(scale.idle_s)
                load.wait_for(load.phase, 5, 30.0)
                load.phase = ""
                order = only if number % 2 == 0 else tuple(reversed(only))
                for who in order:
                    if kind == "cold":
                        make_cold(bench, keep=cog)
                    load.phase = f"{who}-{kind}-{number}"
                    runs.append(timed(bench, who, kind, number))
                    load.phase = ""
    finally:
        load.stop()
        server.stop()
    tiles = {"idle": summary(load.of("idle"))}
    for who in only:
        for kind in ("cold", "warm"):
            tiles[f"{who}-{kind}"] = summary(load.of(f"{who}-{kind}"))
    return {
        "runs": [as_dict(r) for r in runs],
        "tiles": tiles,
        "tile_errors": load.errors,
        "tile_paths": len(paths),
        "served_cog_mb": cog.stat().st_size / 1e6,
    }


#: where `annotator backup` spends its time: (what, file, function) as cProfile names them
PHASES = (
    ("the command (after start-up)", "annotator/cli/operations.py", "backup"),
    ("make_backup", "backup/make.py", "make_backup"),
    ("database snapshot, hashed as written", "backup/snapshot.py", "copy_sqlite"),
    ("of which the backup API's copy", "backup/snapshot.py", "_copy"),
    ("of which rows counted, COGs listed", "backup/snapshot.py", "contents"),
    ("of which waiting for the hashing to reach the end", "backup/following.py", "finish"),
    ("fsync (snapshot, folders)", "backup/writers.py", "fsync_path"),
    ("COGs: link, hash cache", "backup/make.py", "_images"),
    ("sha256 read in the main thread (COGs not in the cache)", "manifest.py", "sha256_stream"),
    ("waiting for the snapshot's sha256 (its own thread)", "concurrent/futures/_base.py", "result"),
)


def profile(bench: Bench, kind: str) -> dict[str, Any]:
    """Our backup once more under cProfile (not timed with the rounds): where its time goes."""
    target = bench.backups / f"profile-{kind}"
    shutil.rmtree(target, ignore_errors=True)
    if kind == "cold":
        make_cold(bench)
    stats_file = bench.out / f"profile-{kind}.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats_file)]
    argv += [str(APP_BIN / "annotator"), "backup", str(target), "--json"]
    started = time.perf_counter()
    subprocess.run(
        argv, env=bench.cli.env(), capture_output=True, text=True, check=True, timeout=3600
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    text = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=text)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    (bench.out / f"profile-{kind}.txt").write_text(text.getvalue())
    return breakdown(stats, seconds)


def breakdown(stats: pstats.Stats, seconds: float) -> dict[str, Any]:
    """The phases' cumulative seconds, start-up (imports) as the rest, and the functions
    with the most time of their own."""
    table = stats.stats  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    for what, file, function in PHASES:
        for (path, _, name), entry in table.items():
            if name == function and path.endswith(file):
                found[what] = found.get(what, 0.0) + float(entry[3])
    command = found.get(PHASES[0][0], 0.0)
    own = sorted(
        ((float(e[2]), int(e[1]), f"{Path(p).name}:{n}({f})") for (p, n, f), e in table.items()),
        reverse=True,
    )[:8]
    return {
        "wall_s": seconds,
        "startup_s": max(0.0, float(stats.total_tt) - command),  # type: ignore[attr-defined]
        "phases": found,
        "own": [{"seconds": s, "calls": c, "where": w} for s, c, w in own],
    }


# ------------------------------------------------------------------------------- report


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values) if values else float("nan"),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "n": len(values),
    }


def figures(results: dict[str, Any]) -> dict[str, Any]:
    """The tables of the report from the raw results."""
    runs = results["runs"]
    times: dict[str, Any] = {}
    for kind in ("cold", "warm"):
        row: dict[str, Any] = {}
        for who in WHO:
            mine = [r for r in runs if r["who"] == who and r["kind"] == kind]
            row[who] = spread([r["seconds"] for r in mine])
            row[who]["parts"] = {
                part: statistics.median(r["parts"][part] for r in mine)
                for part in (mine[0]["parts"] if mine else {})
            }
            row[who]["other_cpu"] = max((r["other_cpu"] for r in mine), default=0.0)
        ours, peer = row["ours"]["median"], row["peer"]["median"]
        row["ratio"] = ours / peer if peer and row["ours"]["n"] else float("nan")
        # each round's own ratio: the two ran in the same minute, under the same load
        seconds = {(r["who"], r["round"]): r["seconds"] for r in runs if r["kind"] == kind}
        row["paired"] = spread(
            [
                seconds[("ours", n)] / seconds[("peer", n)]
                for (who, n) in seconds
                if who == "ours" and seconds.get(("peer", n))
            ]
        )
        row["met"] = verdict(row["ratio"] <= TARGET_TIME_RATIO)
        times[kind] = row
    tiles = results["tiles"]
    idle = tiles["idle"]["p95"]
    for entry in tiles.values():
        entry["ratio"] = entry["p95"] / idle if idle else float("nan")
        entry["met"] = verdict(entry["ratio"] <= TARGET_TILE_RATIO)
    shares = [r["other_cpu"] for r in runs]
    loads = [r["load"][0] for r in runs]
    return {
        "times": times,
        "tiles": tiles,
        "other_cpu_max": max(shares, default=0.0),
        "other_cpu_median": statistics.median(shares) if shares else 0.0,
        "load_min": min(loads, default=0.0),
        "load_max": max(loads, default=0.0),
        "failed_tiles": sum(int(t["failed"]) for t in tiles.values()),
    }


def report(results: dict[str, Any], smoke: bool) -> str:
    return render(
        "backup.md.j2",
        r=results,
        f=figures(results),
        smoke=smoke,
        time_target=TARGET_TIME_RATIO,
        tile_target=TARGET_TILE_RATIO,
    )


def main(argv: list[str] | None = None) -> int:
    cli = parser((__doc__ or "").split("\n\n")[0])
    cli.add_argument(
        "--report-only", action="store_true", help="write the report from results.json"
    )
    cli.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    args = cli.parse_args(argv)
    opts = options(args, "backup", OUT / "backup")
    bench = Bench(opts, SMOKE if opts.smoke else FULL)
    results_file = bench.out / "results.json"
    if not args.report_only:
        if not has_backup_command():
            raise SystemExit("`annotator backup` does not exist in this checkout")
        began = time.perf_counter()
        data = prepare(bench)
        measured = measure(bench, data, WHO)
        profiles = {}
        if not args.no_profile:
            for kind in ("warm",) if opts.smoke else ("cold", "warm"):
                log(f"profiling our backup ({kind})")
                profiles[kind] = profile(bench, kind)
        results = {
            "when": datetime.now(UTC).isoformat(timespec="minutes"),
            "elapsed_s": time.perf_counter() - began,
            "data": describe(data),
            "scale": bench.scale.__dict__,
            **measured,
            "profiles": profiles,
            "profile_phases": [what for what, _, _ in PHASES],
            "machine": machine(),
            "versions": {**package_versions("annotator"), "sqlite3 shell": sqlite3_version()},
        }
        results_file.write_text(json.dumps(results, indent=2))
    results = json.loads(results_file.read_text())
    text = report(results, opts.smoke)
    print(text)
    write_section("backup", text, opts.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
