"""`python -m benchmarks.ingest [--smoke] [--part scale|http|all]`: see the package's docstring."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from benchmarks.common.options import Workplace, options, parser
from benchmarks.common.report import render, write_section
from benchmarks.common.servers import Annotator, app_server
from benchmarks.common.system import machine, package_versions
from benchmarks.common.timing import log
from benchmarks.ingest import __doc__ as about
from benchmarks.ingest.over_http import TileLoad, load_tiles, tile_paths, timeouts_in, upload
from benchmarks.ingest.scale import compare, peer
from benchmarks.ingest.source import scene

#: (scale scene side, HTTP scene side, tile scene side, tile window s, scale rounds)
FULL = (44_720, 12_000, 4_096, 20.0, 3)
SMOKE = (600, 400, 512, 2.0, 1)
TIME_RATIO, RSS_MB, HTTP_RATIO = 1.0, 1536, 1.5
BUSY_CAP_S = 3600.0  # tiles are fetched while the upload's job runs, at most this long
OTHER_SEED = 7  # the scene uploaded while tiles are fetched (the store dedupes the first)


def http_part(work: Workplace, http_side: int, tile_side: int, window_s: float) -> dict[str, Any]:
    """The upload alone (its time against the peer's, both with no other load from us), then
    a second upload of another scene of the same size while tiles are fetched: a tile load
    on the same cores would slow the job it measures, so the two are measured apart."""
    sources = work.out / "sources"
    big, other = scene(sources, http_side), scene(sources, http_side, seed=OTHER_SEED)
    small = scene(sources, tile_side)
    folder = work.out / "instance-http"
    shutil.rmtree(folder, ignore_errors=True)
    app = Annotator(folder)
    *_, listed, created = app.batch(  # one process: the app's import paid once
        (("init",), None),
        (
            ("users", "add", "bench", "--role", "analyst", "--password-stdin"),
            "a long benchmark password",
        ),
        (("images", "import", str(small)), None),
        (("images", "list", "--json"), None),
        (("tokens", "create", "bench"), None),
    )
    image = json.loads(listed)[0]
    token = app.token_of(created)
    server = app_server("annotator", "annotator serve", folder, work.logs, token=token, workers=2)
    server.start("ingest")
    try:
        # the peer just before and just after the upload, with the server up and idle: the
        # machine's load drifts by the minute, and their mean is what the upload is held to
        before = peer(big, work.out)
        alone = upload(server, big, threading.Event())
        after = peer(big, work.out)
        peer_s = (before.seconds + after.seconds) / 2
        log(f"rio cogeo create: {before.seconds:.1f} s before, {after.seconds:.1f} s after")
        cog = folder / "images" / f"{image['sha256']}.tif"
        paths = tile_paths(image["id"], cog, range(15, 19), 400)
        idle = load_tiles(server, paths, window_s, threading.Event())
        received, done = threading.Event(), threading.Event()
        result: dict[str, Any] = {}

        def send() -> None:
            try:
                result["upload"] = upload(server, other, received)
            finally:
                received.set()
                done.set()

        sender = threading.Thread(target=send)
        sender.start()
        received.wait()
        busy = load_tiles(server, paths, BUSY_CAP_S, done)  # until the job ends
        sender.join()
    finally:
        server.stop()
    log_path = work.logs / "annotator-ingest.log"
    return {
        "side": http_side,
        "peer_s": peer_s,
        "peers_s": [before.seconds, after.seconds],
        "upload": asdict(alone),
        "ratio": alone.ready_s / peer_s,
        "under_tiles": asdict(result["upload"]),
        "timeouts": timeouts_in(log_path),
        "idle": _tiles(idle),
        "busy": _tiles(busy),
    }


def _load() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (others run tests on it too)."""
    return [round(value, 2) for value in os.getloadavg()]


def _part(work: Workplace, name: str, smoke: bool, run: Callable[[], dict[str, Any]]) -> Any:
    """Run one part with the load average before and after; a full run keeps its figures in
    `<out>/<name>.json`, so a part run alone (`--part`) reports beside the other's last run."""
    before, began = _load(), time.perf_counter()
    log(f"{name} part begins, load average {before}")
    figures = {**run(), "load_before": before, "load_after": _load()}
    figures["minutes"] = (time.perf_counter() - began) / 60
    log(f"{name} part ends, load average {figures['load_after']}")
    if not smoke:
        (work.out / f"{name}.json").write_text(json.dumps(figures, indent=1))
    return figures


def _kept(work: Workplace, name: str, smoke: bool) -> Any:
    """The figures of a part's last full run, or None."""
    saved = work.out / f"{name}.json"
    return None if smoke or not saved.exists() else json.loads(saved.read_text())


def _tiles(load: TileLoad) -> dict[str, float]:
    return {
        "per_second": load.per_second,
        "p50": load.p50,
        "p95": load.p95,
        "count": len(load.latencies_ms),
        "errors": load.errors,
        "seconds": load.seconds,
    }


def main(argv: list[str] | None = None) -> None:
    cli = parser((about or "").splitlines()[0])
    cli.add_argument(
        "--part",
        choices=("scale", "http", "all", "report"),
        default="all",
        help="run one part, both, or none (report: rewrite the section from the kept figures)",
    )
    args = cli.parse_args(argv)
    opts = options(args, "ingest")
    work = Workplace(opts)
    side, http_side, tile_side, window_s, rounds = SMOKE if opts.smoke else FULL

    def scale_part() -> dict[str, Any]:
        source = scene(work.out / "sources", side)
        pairs = compare(source, work.out, rounds)
        return {
            "side": side,
            "pixels": side * side,
            "pairs": [(asdict(theirs), asdict(mine)) for theirs, mine in pairs],
            "ratio": statistics.median(m.seconds / t.seconds for t, m in pairs),
            "peak_rss_mb": max(m.peak_rss_mb for _, m in pairs),
        }

    def over_http() -> dict[str, Any]:
        return http_part(work, http_side, tile_side, window_s)

    smoke = opts.smoke
    scale = (
        _part(work, "scale", smoke, scale_part)
        if args.part in ("scale", "all")
        else _kept(work, "scale", smoke)
    )
    http = (
        _part(work, "http", smoke, over_http)
        if args.part in ("http", "all")
        else _kept(work, "http", smoke)
    )
    report = render(
        "ingest.md.j2",
        scale=scale,
        http=http,
        time_ratio=TIME_RATIO,
        rss_mb=RSS_MB,
        http_ratio=HTTP_RATIO,
        machine=machine(),
        versions=package_versions("rasterio", "rio-cogeo", "rio-tiler", "huey"),
        smoke=opts.smoke,
    )
    write_section("ingest", report, opts.doc)
    log(f"wrote the ingest section of {opts.doc}")
    if opts.smoke:
        shutil.rmtree(work.out / "sources", ignore_errors=True)


if __name__ == "__main__":
    main()
