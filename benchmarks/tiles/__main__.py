"""`python -m benchmarks.tiles [--smoke]`: see the package's docstring."""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

from benchmarks.common.options import OUT, options, parser
from benchmarks.common.report import write_section
from benchmarks.common.timing import Noise, log
from benchmarks.tiles import __doc__ as about
from benchmarks.tiles.inprocess import RETRY_BUDGET_S, inprocess_worker, run_inprocess
from benchmarks.tiles.over_http import (
    LoadRun,
    Server,
    ensure_titiler,
    make_servers,
    measure,
    measure_cache,
    start_all,
    titiler_tile_route,
    titiler_works,
)
from benchmarks.tiles.report import INPROC_TITLES, Results, render_report
from benchmarks.tiles.source import FULL, SMOKE, Bench, Tile, prepare, select_tiles

PEER_MISSING = (
    "TiTiler is not installed (.venv-bench, which `make bench` creates): the smoke run "
    "measured the app alone, and TiTiler's rows are empty."
)


def main(argv: list[str] | None = None) -> int:
    cli = parser((about or "").splitlines()[0])
    cli.add_argument("--inprocess-worker", nargs=2, metavar=("KIND", "FMT"), help="internal")
    args = cli.parse_args(argv)
    opts = options(args, "tiles", default_out=OUT)
    bench = Bench(opts, SMOKE if opts.smoke else FULL)
    scale = bench.scale
    if args.inprocess_worker:
        kind, fmt = args.inprocess_worker
        print(json.dumps(inprocess_worker(bench, kind, fmt)))
        return 0

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    began = time.perf_counter()
    when = datetime.now(UTC)
    noise = Noise(began, 0.0, 0.0) if opts.smoke else Noise(began, RETRY_BUDGET_S)
    prepared = prepare(bench)
    spec = select_tiles(prepared.cog, scale)
    bench.tiles_file.write_text(json.dumps(spec))
    tiles = [Tile(*t) for t in spec["tiles"]]
    warm = [Tile(*t) for t in spec["warm"]]
    log(f"{len(tiles)} tiles: {spec['per_zoom']}")

    inproc = {
        (k, f): run_inprocess(bench, k, f, noise) for k in INPROC_TITLES for f in scale.formats
    }

    peer = True
    if not opts.smoke:
        ensure_titiler()
    elif not titiler_works():
        peer = False
        log(PEER_MISSING)
    servers = make_servers(bench, prepared)
    app, titiler, app_1t, titiler_1w, app_gthread = servers
    runs: list[LoadRun] = []

    def run(server: Server, fmt: str, conc: int) -> None:
        if peer or not server.name.startswith("titiler"):
            runs.append(measure(bench, server, tiles, warm, fmt, conc, noise))
        else:
            runs.append(LoadRun(server.name, fmt, conc, 0.0, 0.0, 0, 0.0, [], [], 0))

    route = "-"
    try:
        if opts.smoke:
            start_all([s for s in servers if peer or not s.name.startswith("titiler")])
        if peer:
            if titiler.process is None:
                titiler.start("openapi")
            route = titiler_tile_route(titiler.port)
            if not opts.smoke:
                titiler.stop()
        cog_url = prepared.cog.resolve().as_posix()
        for server in (titiler, titiler_1w):
            server.tile_path = lambda t, fmt: (
                route.format(z=t.z, x=t.x, y=t.y, fmt=fmt) + f"?url={cog_url}"
            )
        for fmt in scale.formats:
            for conc in scale.concurrency:
                for server in (app, titiler):
                    run(server, fmt, conc)
        for fmt in scale.formats:
            run(app_1t, fmt, max(scale.concurrency))
            run(titiler_1w, fmt, 1)
        for fmt in scale.formats:
            for conc in scale.concurrency:
                run(app_gthread, fmt, conc)
        cache = measure_cache(bench, app, tiles, warm)
    finally:
        for server in servers:
            server.stop()

    results = Results(
        when=when,
        scale=scale,
        spec=spec,
        prepared=prepared,
        inproc=inproc,
        runs=runs,
        titles={s.name: s.title for s in servers},
        cache=cache,
        route=route,
        elapsed_s=time.perf_counter() - began,
        noise=noise,
        peer_missing=None if peer else PEER_MISSING,
    )
    report = render_report(results)
    write_section("tiles", report, opts.doc)
    print(report)
    (bench.out / "results.json").write_text(
        json.dumps(
            {
                "inprocess": {f"{k}-{f}": v for (k, f), v in inproc.items()},
                "http": [asdict(r) | {"tiles_per_s": r.rate} for r in runs],
                "cache": cache,
            }
        )
    )
    log(f"done in {results.elapsed_s / 60:.1f} min; wrote its section of {opts.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
