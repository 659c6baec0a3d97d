"""The tile benchmark over HTTP: the app (`annotator serve`) and TiTiler (uvicorn, from
.venv-bench), each started afresh for every (format, concurrency) run, loaded from this
process over keep-alive connections; then the app's cache path."""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common.servers import (
    APP_BIN,
    BLAS_VARS,
    REQUEST_TIMEOUT_S,
    ROOT,
    Client,
    Reply,
    Server,
    app_server,
    base_env,
    free_port,
)
from benchmarks.common.timing import CpuMeter, Noise, group_cpu_s, log, percentile
from benchmarks.tiles.inprocess import MAX_ATTEMPTS, check_image
from benchmarks.tiles.source import WORKERS, Bench, Prepared, Tile
from imagery.gdal import GDAL_SETTINGS

BENCH_VENV = ROOT / ".venv-bench"


@dataclass
class LoadRun:
    server: str
    fmt: str
    concurrency: int
    start_s: float
    first_ms: float
    first_status: int
    wall_s: float
    latencies: list[float]
    sizes: list[int]
    errors: int
    server_cpu_ms: float = float("nan")
    client_cpu_ms: float = float("nan")
    worker_split: list[float] = field(default_factory=list)
    other_share: float = 0.0
    attempts: int = 1
    error_examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s > 0 else 0.0


def load(
    server: Server, paths: list[str], concurrency: int, deadline_s: float
) -> tuple[float, list[Reply | None]]:
    """Request every path once from `concurrency` keep-alive connections; wall time, replies."""
    replies: list[Reply | None] = [None] * len(paths)
    lock = threading.Lock()
    cursor = iter(range(len(paths)))
    gate = threading.Barrier(concurrency + 1)
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        client = Client(server.port, server.headers)
        with contextlib.suppress(OSError):
            client.connect()  # connected before the clock starts
        gate.wait()
        while time.monotonic() < stop_at:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            replies[index] = client.get(paths[index])
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(deadline_s + REQUEST_TIMEOUT_S)
    return time.perf_counter() - started, replies


def problems_in(replies: list[Reply | None], fmt: str) -> list[str]:
    found = []
    for reply in replies:
        if reply is None:
            found.append("not sent (deadline)")
        elif reply.status != 200:
            found.append(f"HTTP {reply.status} {reply.error or reply.body[:120]!r}")
        else:
            problem = check_image(reply.body, fmt)
            if problem:
                found.append(problem)
    return found


def measure_once(
    bench: Bench, server: Server, tiles: list[Tile], warm: list[Tile], fmt: str, conc: int
) -> LoadRun:
    deadline_s = bench.scale.run_deadline_s
    meter = CpuMeter()
    kept = server.process is not None  # the smoke mode starts each server once
    start_s = server.start_s if kept else server.start(f"{fmt}-c{conc}")
    try:
        assert server.process is not None
        pgid = server.process.pid
        first = Client(server.port, server.headers)
        first_reply = first.get(server.tile_path(warm[0], fmt))
        first.close()
        load(server, [server.tile_path(t, fmt) for t in warm[1:]], 4, deadline_s)  # warm-up
        before, mine = group_cpu_s(pgid), resource.getrusage(resource.RUSAGE_SELF)
        wall, replies = load(server, [server.tile_path(t, fmt) for t in tiles], conc, deadline_s)
        after, mine_after = group_cpu_s(pgid), resource.getrusage(resource.RUSAGE_SELF)
    finally:
        if not kept:
            server.stop()
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(used.values())
    workers = sorted((v for pid, v in used.items() if pid != pgid), reverse=True)
    client_s = (mine_after.ru_utime + mine_after.ru_stime) - (mine.ru_utime + mine.ru_stime)
    problems = problems_in(replies, fmt)
    done = [r for r in replies if r is not None]
    return LoadRun(
        server=server.name,
        fmt=fmt,
        concurrency=conc,
        start_s=start_s,
        first_ms=first_reply.ms,
        first_status=first_reply.status,
        wall_s=wall,
        latencies=[r.ms for r in done],
        sizes=[len(r.body) for r in done],
        errors=len(problems),
        server_cpu_ms=total * 1000 / max(1, len(done)),
        client_cpu_ms=client_s * 1000 / max(1, len(done)),
        worker_split=[v / total for v in workers if total > 0 and v / total >= 0.005],
        other_share=meter.other_share(),
        error_examples=problems[:3],
    )


def measure(
    bench: Bench,
    server: Server,
    tiles: list[Tile],
    warm: list[Tile],
    fmt: str,
    conc: int,
    noise: Noise,
) -> LoadRun:
    best: LoadRun | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        suffix = f" (attempt {attempt})" if attempt > 1 else ""
        log(f"HTTP: {server.title}, {fmt}, concurrency {conc}{suffix}")
        noise.wait_for_quiet()
        run = measure_once(bench, server, tiles, warm, fmt, conc)
        run.attempts = attempt
        if best is None or run.other_share < best.other_share:
            best = run
        if not noise.again(run.other_share, f"{server.title} {fmt} c{conc}"):
            break
    assert best is not None
    return best


def measure_cache(
    bench: Bench, server: Server, tiles: list[Tile], warm: list[Tile]
) -> dict[str, Any]:
    """One connection (so one worker): render, then repeats from memory, then 304s."""
    log("HTTP: app cache path")
    meter = CpuMeter()
    kept = server.process is not None
    if not kept:
        server.start("cache")
    figures: dict[str, Any] = {}
    try:
        load(server, [server.tile_path(t, "png") for t in warm[1:]], 4, bench.scale.run_deadline_s)
        client = Client(server.port, server.headers)
        for fmt, tile in zip(bench.scale.formats, tiles, strict=False):
            path = server.tile_path(tile, fmt)
            miss = client.get(path)
            hits = [client.get(path) for _ in range(bench.scale.cache_repeats)]
            etag = miss.etag or ""
            cond = [
                client.get(path, {"If-None-Match": etag}) for _ in range(bench.scale.cache_repeats)
            ]
            bad = sum(1 for r in hits if r.status != 200 or r.body != miss.body)
            bad += sum(1 for r in cond if r.status != 304)
            bad += 0 if miss.status == 200 and not check_image(miss.body, fmt) else 1
            figures[fmt] = {
                "tile": list(tile),
                "miss_ms": miss.ms,
                "hit_ms": percentile([r.ms for r in hits], 50),
                "hit_p90_ms": percentile([r.ms for r in hits], 90),
                "not_modified_ms": percentile([r.ms for r in cond], 50),
                "not_modified_p90_ms": percentile([r.ms for r in cond], 90),
                "errors": bad,
            }
        client.close()
    finally:
        if not kept:
            server.stop()
    figures["other_share"] = meter.other_share()
    return figures


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def titiler_works() -> bool:
    probe = [str(bench_python()), "-c", "import titiler.application.main, uvicorn"]
    return bench_python().exists() and not subprocess.run(probe, capture_output=True).returncode


def ensure_titiler() -> None:
    """Create .venv-bench with TiTiler and uvicorn unless it works already."""
    if titiler_works():
        return
    log("creating .venv-bench with titiler.application and uvicorn (about a minute)")
    subprocess.run(["python3", "-m", "venv", str(BENCH_VENV)], check=True, timeout=300)
    subprocess.run(
        [str(BENCH_VENV / "bin" / "pip"), "install", "--quiet", "titiler.application", "uvicorn"],
        check=True,
        timeout=900,
    )


def titiler_tile_route(port: int) -> str:
    """The COG tile route from TiTiler's own OpenAPI document, as a format string."""
    client = Client(port, {})
    spec: dict[str, Any] = {}
    for path in ("/api", "/openapi.json"):
        reply = client.get(path)
        if reply.status == 200:
            spec = json.loads(reply.body)
            break
    client.close()
    routes: list[str] = [
        p
        for p in spec.get("paths", {})
        if p.startswith("/cog/tiles/{tileMatrixSetId}/{z}/{x}/{y}") and "{format}" in p
    ]
    if not routes:
        raise RuntimeError("TiTiler's OpenAPI has no /cog/tiles/{tileMatrixSetId}/{z}/{x}/{y}.fmt")
    route: str = min(routes, key=len)  # without "@{scale}x" when that form exists
    return (
        route.replace("{tileMatrixSetId}", "WebMercatorQuad")
        .replace("{scale}", "1")
        .replace("{format}", "{fmt}")
    )


# --------------------------------------------------------------------------- report


def start_all(servers: list[Server]) -> None:
    """Start the servers side by side and keep them (the smoke mode: one start each)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(lambda server: server.start("smoke"), servers))


def make_servers(bench: Bench, prepared: Prepared) -> list[Server]:
    """The app and TiTiler with 2 workers each, then the reference setups."""

    def tile_path(t: Tile, fmt: str) -> str:
        return f"/tiles/{prepared.image_id}/{t.z}/{t.x}/{t.y}.{fmt}"

    def app(name: str, title: str, extra: tuple[str, ...]) -> Server:
        server = app_server(
            name,
            title,
            bench.data_dir,
            bench.logs,
            token=prepared.token,
            workers=WORKERS,
            extra=extra,
            env=base_env() | {"ANNOTATOR_DATA_DIR": str(bench.data_dir)},
        )
        server.tile_path = tile_path
        server.processes = 0
        return server

    def gthread(name: str, title: str) -> Server:
        """The app as `annotator serve` ran it before issue 10 (BLAS pools at one thread,
        as `annotator serve` sets them)."""
        port = free_port()
        return Server(
            name=name,
            title=title,
            argv=[
                *(str(APP_BIN / "python"), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
                *("--workers", str(WORKERS), "--threads", "4", "--worker-class", "gthread"),
                *("--access-logfile", "-", "--timeout", "120", "annotator.wsgi:app"),
            ],
            env=base_env()
            | {"ANNOTATOR_DATA_DIR": str(bench.data_dir)}
            | dict.fromkeys(BLAS_VARS[:3], "1"),
            port=port,
            ready_path="/login",
            headers={"Authorization": f"Bearer {prepared.token}"},
            log_dir=bench.logs,
            tile_path=tile_path,
        )

    def titiler(name: str, title: str, workers: int) -> Server:
        port = free_port()
        return Server(
            name=name,
            title=title,
            argv=[
                *(str(BENCH_VENV / "bin" / "uvicorn"), "titiler.application.main:app"),
                *("--workers", str(workers), "--host", "127.0.0.1", "--port", str(port)),
            ],
            env=base_env() | GDAL_SETTINGS,
            port=port,
            ready_path="/healthz",
            headers={},
            log_dir=bench.logs,  # its tile_path is set once the route is known
        )

    return [
        app("app", "app", ()),
        titiler("titiler", "TiTiler", WORKERS),
        app("app-1t", "app, --threads 1", ("--threads", "1")),
        titiler("titiler-1w", "TiTiler, 1 worker", 1),
        gthread("app-gthread", "app, gunicorn gthread (before issue 10)"),
    ]
