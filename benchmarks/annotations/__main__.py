"""`python -m benchmarks.annotations [--smoke]`: see the package's docstring."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.annotations import __doc__ as about
from benchmarks.annotations.backends import Backend, load_postgis, load_sqlite, prepare
from benchmarks.annotations.data import (
    FULL,
    RETRY_BUDGET_S,
    SMOKE,
    Bench,
    site_layout,
    write_images,
)
from benchmarks.annotations.floor import floor_worker, run_floor
from benchmarks.annotations.inprocess import inprocess, naive_sql, profile_insert
from benchmarks.annotations.over_http import Answer, http_runs
from benchmarks.annotations.report import ensure_index_link, render_report
from benchmarks.common.options import options, parser
from benchmarks.common.timing import TRACKED_CLUSTERS, CpuMeter, Noise, log
from tests.postgis import ThrowawayCluster, missing


def raw_results(res: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Answer):
            return value.__dict__
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {
        "count": res["count"],
        "floor": plain(dict(res["floor"].items())),
        "backends": {b.name: plain(b.results) for b in res["backends"]},
    }


def run_backend(bench: Bench, backend: Backend, floor: dict[str, Any], noise: Noise) -> None:
    count = bench.scale.count
    boxes = [item["box"] for item in floor["boxes"]]
    warm = [item["box"] for item in floor["warm"]]
    log(f"{backend.title}: loading {count:,} annotations")
    noise.wait_for_quiet()
    meter = CpuMeter()
    load = load_sqlite(backend, count) if backend.name == "sqlite" else load_postgis(backend, count)
    load["other_share"] = meter.other_share()
    backend.results["load"] = load
    log(f"{backend.title}: {load['rows_per_s']:,.0f} rows/s")
    log(f"{backend.title}: in-process breakdown and profile")
    backend.results["inprocess"] = inprocess(bench, backend, boxes)
    log(f"{backend.title}: naive SQL scan")
    backend.results["naive"] = naive_sql(bench, backend, boxes)
    log(f"{backend.title}: HTTP queries and inserts")
    backend.results["http"] = http_runs(bench, backend, boxes, warm, noise)
    log(f"{backend.title}: profile of one POST of {bench.scale.api_batch:,} features")
    backend.results["insert_profile"] = profile_insert(bench, backend)


def main(argv: list[str] | None = None) -> int:
    cli = parser((about or "").split("\n\n")[0])
    cli.add_argument("--count", type=int, help="annotations per backend")
    cli.add_argument("--backends", default="sqlite,postgis", help="comma-separated")
    cli.add_argument("--no-doc", action="store_true", help="do not write the docs")
    cli.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    args = cli.parse_args(argv)
    opts = options(args, "annotations")
    scale = SMOKE if opts.smoke else FULL
    if args.count:
        scale = dataclasses.replace(scale, count=args.count)
    bench = Bench(opts, scale)
    if args.floor_worker:
        print(json.dumps(floor_worker(args.floor_worker, scale)))
        return 0

    began = time.perf_counter()
    when = datetime.now(UTC)
    noise = Noise(began, 0.0, 0.0) if opts.smoke else Noise(began, RETRY_BUDGET_S)
    bench.logs.mkdir(parents=True, exist_ok=True)
    wanted = [name.strip() for name in args.backends.split(",") if name.strip()]
    note = None
    if "postgis" in wanted:
        why = missing()
        if why and opts.smoke:  # the smoke mode runs what it can, and says what it left out
            wanted.remove("postgis")
            note = f"PostGIS was left out of this run: {why}."
            log(note)
        elif why:
            cli.error(f"cannot start PostgreSQL + PostGIS: {why}; or run --backends sqlite")
    backends = []
    if "sqlite" in wanted:
        backends.append(Backend("sqlite", "SQLite", opts.out / "sqlite"))
    if "postgis" in wanted:
        backends.append(Backend("postgis", "PostGIS", opts.out / "postgis"))
    if not backends:
        cli.error("--backends: give sqlite, postgis or both")
    sources = write_images(site_layout(scale.sites), bench.sources)

    cluster = None
    floor: dict[str, Any] | None = None
    try:
        for backend in backends:
            if backend.name == "postgis":
                log("starting a throwaway PostgreSQL + PostGIS cluster")
                cluster = ThrowawayCluster().start()
                assert cluster.directory is not None
                TRACKED_CLUSTERS.append(cluster.directory)
                backend.url = cluster.url
            prepare(backend, sources)
            if floor is None:
                floor = run_floor(bench, backend.catalogue, noise)
            run_backend(bench, backend, floor, noise)
    finally:
        if cluster is not None:
            cluster.stop()
    assert floor is not None
    res: dict[str, Any] = {
        "when": when,
        "count": scale.count,
        "floor": floor,
        "backends": backends,
        "noise": noise,
        "elapsed_s": time.perf_counter() - began,
        "missing": note,
    }
    bench.results_file.write_text(json.dumps(raw_results(res), default=str))
    report = render_report(bench, res)
    print(report)
    if not args.no_doc:
        bench.page.parent.mkdir(parents=True, exist_ok=True)
        bench.page.write_text(report)
        ensure_index_link(bench)
        log(f"wrote {bench.page}")
    log(f"done in {res['elapsed_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
