"""Tile-serving benchmark: the app's renderer in-process and over HTTP, next to TiTiler.

`make bench` runs this file with the app's venv. On a fresh machine it:

1. writes a synthetic 8000 x 8000, 3-band, 0.5 m GeoTIFF in UTM 36N into benchmarks/out/ and
   ingests it with the app's own CLI (`annotator init`, `images import`, `users add`,
   `tokens create`) into benchmarks/out/instance;
2. picks a fixed, seeded, zoom-stratified list of unique tiles z14-z19 inside the image;
3. times `imagery.tiles.TileRenderer` in-process (and naive rio-tiler for reference), each
   renderer and format in a fresh process so that GDAL's block cache starts empty;
4. serves the stored COG with `annotator serve` (gunicorn, 2 worker processes, each
   buffering requests with waitress: annotator/serving.py) and with TiTiler (uvicorn, 2
   workers, from its own venv .venv-bench, created when missing) and loads both from this
   process over 127.0.0.1 at concurrency 1 and 4, PNG and JPEG, restarting the server for
   every measured run so that no run is served from an earlier run's caches; then, as
   diagnostics, the app with one thread per worker, TiTiler with one worker, and the app
   under the serving setup it had before issue 10 (gunicorn's gthread workers), so that
   the two setups are compared on the same machine in the same run;
5. measures the app's cache path (a repeated tile, and a 304 for If-None-Match);
6. prints the figures and overwrites docs/benchmarks.md with them (raw figures go to
   benchmarks/out/results.json, server logs to benchmarks/out/logs/).

The machine may be shared: CPU used by other processes during each measurement is read from
/proc/stat and reported, and a disturbed measurement is repeated (bounded). Everything is
bounded in time and every server it starts is stopped on the way out. Linux only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from common import (
    BLAS_VARS,
    DISTURBED,
    REQUEST_TIMEOUT_S,
    Client,
    CpuMeter,
    Noise,
    Reply,
    base_env,
    free_port,
    group_cpu_s,
    log,
    machine,
    percentile,
    stop_group,
    table,
    verdict,
    write_section,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
DATA_DIR = OUT / "instance"
LOGS = OUT / "logs"
SOURCE = OUT / "bench-8000px-0.5m-utm36n.tif"
STATE = OUT / "state.json"
TILES_FILE = OUT / "tiles.json"
APP_BIN = ROOT / ".venv" / "bin"
BENCH_VENV = ROOT / ".venv-bench"

SIZE = 8000
GSD = 0.5
CENTRE_LON_LAT = (35.95, 35.40)
CRS = "EPSG:32636"
SEED = 20240611
ZOOMS = tuple(range(14, 20))
PER_ZOOM = 35
MIN_TILES = 210
#: A tile counts as "inside" when at least this share of its square is covered by the image;
#: this drops the edge tiles that only touch the border (or a sliver of it).
MIN_OVERLAP = 0.10
WARM_PER_ZOOM = 6
WARM_ZOOMS = (16, 17, 18, 19)
FORMATS = ("png", "jpg")
CONCURRENCY = (1, 4)
WORKERS = 2
CACHE_REPEATS = 50
RUN_DEADLINE_S = 240.0
START_TIMEOUT_S = 90.0
USER = "bench"
PASSWORD = "benchpassword1"

TARGET_INPROCESS_MS = {"png": 15.0, "jpg": 6.0}
TARGET_RATIO = {"png": 3.0, "jpg": 5.0}
TARGET_CACHE_MS = 2.0
PIL_FORMAT = {"png": "PNG", "jpg": "JPEG"}

#: The app's figures under the previous serving setup (gunicorn gthread, 2 workers x 4
#: threads), as published in docs/benchmarks.md from the run of 2026-11-25 17:58 UTC on a
#: quiet machine (0% other CPU): tiles/s by (format, concurrency).
PREVIOUS_GTHREAD_RUN = "2026-11-25 17:58 UTC"
PREVIOUS_GTHREAD_RATE = {("png", 1): 159, ("png", 4): 340, ("jpg", 1): 196, ("jpg", 4): 359}

#: A disturbed measurement (see common.Noise) is taken again, up to MAX_ATTEMPTS times, while
#: the whole run is younger than RETRY_BUDGET_S.
MAX_ATTEMPTS = 3
RETRY_BUDGET_S = 360.0


class Tile(NamedTuple):
    z: int
    x: int
    y: int


# --------------------------------------------------------------------------- test image


def _parcels(rng: np.random.Generator) -> Iterator[tuple[int, int, int, int]]:
    """Fields: split the square recursively into rectangles of 150-900 px (75-450 m)."""
    stack = [(0, SIZE, 0, SIZE)]
    while stack:
        r0, r1, c0, c1 = stack.pop()
        h, w = r1 - r0, c1 - c0
        limit = rng.uniform(300, 900)
        if max(h, w) < limit or min(h, w) < 300:
            yield r0, r1, c0, c1
            continue
        if h >= w:
            cut = r0 + int(h * rng.uniform(0.3, 0.7))
            stack += [(r0, cut, c0, c1), (cut, r1, c0, c1)]
        else:
            cut = c0 + int(w * rng.uniform(0.3, 0.7))
            stack += [(r0, r1, c0, cut), (r0, r1, cut, c1)]


def generate_source(path: Path) -> None:
    """Fields with furrows, tracks, roads, a village, smooth haze and sensor noise."""
    import rasterio
    from PIL import Image, ImageDraw
    from pyproj import Transformer
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    east, north = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(*CENTRE_LON_LAT)
    half = SIZE * GSD / 2
    transform = from_origin(round(east - half), round(north + half), GSD, GSD)

    base = np.empty((3, SIZE, SIZE), dtype=np.uint8)
    base[0], base[1], base[2] = 176, 158, 126  # bare tracks between fields
    palette = np.array(
        [
            [96, 118, 62],  # young wheat
            [120, 134, 70],
            [74, 98, 52],  # orchard
            [150, 128, 96],  # ploughed
            [168, 146, 108],
            [196, 178, 130],  # stubble
            [132, 112, 84],
        ],
        dtype=np.float32,
    )
    for r0, r1, c0, c1 in _parcels(rng):
        r0, r1, c0, c1 = r0 + 4, r1 - 4, c0 + 4, c1 - 4
        colour = palette[rng.integers(len(palette))] + rng.uniform(-14, 14, 3).astype(np.float32)
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(6, 28)
        depth = rng.uniform(0, 16)
        rows = np.arange(r0, r1, dtype=np.float32)[:, np.newaxis]
        cols = np.arange(c0, c1, dtype=np.float32)[np.newaxis, :]
        phase = (cols * np.cos(angle) + rows * np.sin(angle)) * np.float32(2 * np.pi / period)
        furrows = np.sin(phase) * np.float32(depth)
        for band in range(3):
            base[band, r0:r1, c0:c1] = np.clip(colour[band] + furrows, 0, 255)

    roads = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(roads)
    for _ in range(4):
        points = [tuple(int(v) for v in rng.integers(0, SIZE, 2)) for _ in range(3)]
        draw.line(points, fill=255, width=int(rng.integers(10, 18)))
    on_road = np.asarray(roads) > 0
    for band, value in enumerate((112, 110, 108)):
        base[band][on_road] = value
    del roads, draw, on_road

    village_r, village_c = (int(v) for v in rng.integers(1500, SIZE - 1500, 2))
    roofs = np.array([[178, 92, 64], [222, 218, 210], [150, 150, 146], [196, 120, 80]])
    for _ in range(600):
        r = int(np.clip(rng.normal(village_r, 350), 0, SIZE - 80))
        c = int(np.clip(rng.normal(village_c, 350), 0, SIZE - 80))
        h, w = (int(v) for v in rng.integers(16, 60, 2))
        base[:, r + 4 : r + h + 6, c + 4 : c + w + 6] = 48  # shadow
        base[:, r : r + h, c : c + w] = roofs[rng.integers(len(roofs))][:, None, None]

    haze_small = Image.fromarray(rng.normal(0.0, 1.0, (24, 24)).astype(np.float32), mode="F")
    haze = np.asarray(haze_small.resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    profile = {
        "driver": "GTiff",
        "dtype": "uint8",
        "count": 3,
        "width": SIZE,
        "height": SIZE,
        "crs": CRS,
        "transform": transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "interleave": "pixel",
        "photometric": "RGB",
    }
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.update_tags(TIFFTAG_DATETIME="2024:06:01 08:30:00")
        for r0 in range(0, SIZE, 512):
            r1 = min(SIZE, r0 + 512)
            gain = 1.0 + 0.07 * haze[np.newaxis, r0:r1]
            noise = rng.standard_normal((3, r1 - r0, SIZE), dtype=np.float32) * np.float32(6)
            strip = base[:, r0:r1].astype(np.float32) * gain + noise
            dst.write(np.clip(strip, 0, 255).astype(np.uint8), window=Window(0, r0, SIZE, r1 - r0))
    tmp.replace(path)
    took = time.perf_counter() - started
    log(f"wrote {path.name} ({path.stat().st_size >> 20} MiB) in {took:.1f} s")


# ------------------------------------------------------------------------ app ingest


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env["ANNOTATOR_DATA_DIR"] = str(DATA_DIR)
    return env


def annotator(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APP_BIN / "annotator"), *args],
        env=app_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )


def checked(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args)} failed: {result.stderr.strip()}")
    return result.stdout


@dataclass
class Prepared:
    image_id: str
    cog: Path
    token: str
    import_s: float | None


def prepare() -> Prepared:
    OUT.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    if not SOURCE.exists():
        log("generating the test image")
        generate_source(SOURCE)
    checked(annotator("init"))
    state: dict[str, Any] = json.loads(STATE.read_text()) if STATE.exists() else {}
    import_s: float | None = None
    cog = Path(state.get("cog", "/nonexistent"))
    if state.get("source_bytes") != SOURCE.stat().st_size or not cog.exists():
        log("importing it with `annotator images import`")
        started = time.perf_counter()
        payload = json.loads(
            checked(annotator("images", "import", str(SOURCE), "--json", "--provider", "benchmark"))
        )
        import_s = time.perf_counter() - started if payload[0]["created"] else None
        cog = DATA_DIR / "images" / f"{payload[0]['sha256']}.tif"
        state = {
            "image_id": payload[0]["id"],
            "cog": str(cog),
            "source_bytes": SOURCE.stat().st_size,
            "import_s": import_s,
        }
        STATE.write_text(json.dumps(state, indent=2))
    if not cog.exists():
        raise RuntimeError(f"the stored COG {cog} is missing")
    added = annotator("users", "add", USER, "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    if added.returncode != 0 and "exists already" not in added.stderr:
        checked(added)
    token = checked(annotator("tokens", "create", USER)).strip().splitlines()[-1].strip()
    return Prepared(state["image_id"], cog, token, state.get("import_s"))


# ------------------------------------------------------------------------- tile list


def select_tiles(cog: Path) -> dict[str, Any]:
    """A seeded, zoom-stratified sample of tiles covered at least MIN_OVERLAP by the image."""
    import morecantile
    import rasterio
    import shapely
    from pyproj import Transformer

    tms = morecantile.tms.get("WebMercatorQuad")
    with rasterio.open(cog) as dataset:
        left, bottom, right, top = dataset.bounds
        crs = dataset.crs
        overviews = dataset.overviews(1)
        blocks = dataset.block_shapes[0]
        compression = dataset.compression.name if dataset.compression else "none"
    edge = np.linspace(0.0, 1.0, 65)
    xs = np.concatenate([left + (right - left) * edge, np.full(65, right)])
    xs = np.concatenate([xs, right - (right - left) * edge, np.full(65, left)])
    ys = np.concatenate([np.full(65, top), top - (top - bottom) * edge])
    ys = np.concatenate([ys, np.full(65, bottom), bottom + (top - bottom) * edge])
    mx, my = Transformer.from_crs(crs, "EPSG:3857", always_xy=True).transform(xs, ys)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    footprint = shapely.Polygon(np.column_stack([mx, my]))
    west, east = float(lon.min()), float(lon.max())
    south, north = float(lat.min()), float(lat.max())

    eligible: dict[int, list[tuple[Tile, float]]] = {}
    for z in ZOOMS:
        found = []
        for t in sorted(tms.tiles(west, south, east, north, [z]), key=lambda t: (t.x, t.y)):
            square = shapely.box(*tms.xy_bounds(t))
            share = footprint.intersection(square).area / square.area
            if share >= MIN_OVERLAP:
                found.append((Tile(z, t.x, t.y), share))
        eligible[z] = found
    quota = {z: min(PER_ZOOM, len(eligible[z])) for z in ZOOMS}
    short = MIN_TILES - sum(quota.values())
    while short > 0:  # zooms with too few tiles lend their share to the deepest ones
        open_zooms = [z for z in reversed(ZOOMS[2:]) if quota[z] < len(eligible[z])]
        if not open_zooms:
            break
        for z in open_zooms[:short]:
            quota[z] += 1
            short -= 1
    rng = random.Random(SEED)
    chosen: list[tuple[Tile, float]] = []
    warm: list[Tile] = []
    for z in ZOOMS:
        picked = rng.sample(eligible[z], quota[z])
        chosen += picked
        if z in WARM_ZOOMS:
            rest = [item[0] for item in eligible[z] if item not in picked]
            warm += rng.sample(rest, WARM_PER_ZOOM)
    rng.shuffle(chosen)
    tiles = [item[0] for item in chosen]
    assert len(set(tiles)) == len(tiles) >= 200 and not set(tiles) & set(warm)
    return {
        "cog": str(cog),
        "tiles": [list(t) for t in tiles],
        "warm": [list(t) for t in warm],
        "per_zoom": {str(z): quota[z] for z in ZOOMS},
        "eligible_per_zoom": {str(z): len(eligible[z]) for z in ZOOMS},
        "partial": sum(1 for _, share in chosen if share < 0.999),
        "bounds_wgs84": [west, south, east, north],
        "overviews": list(overviews),
        "block": list(blocks),
        "compression": compression,
    }


# ----------------------------------------------------------------- CPU accounting


# ----------------------------------------------------------------- in-process workers


def check_image(body: bytes, fmt: str) -> str | None:
    """None when `body` is a 256 x 256 image of the expected format, else why not."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as image:
            image.load()
            if image.format != PIL_FORMAT[fmt]:
                return f"format {image.format}, expected {PIL_FORMAT[fmt]}"
            if image.size != (256, 256):
                return f"size {image.size}"
    except Exception as exc:  # any decoding failure is what we count
        return f"not an image: {type(exc).__name__}: {exc}"
    return None


def inprocess_worker(kind: str, fmt: str) -> dict[str, Any]:
    """Time one renderer on the tile list in this (fresh) process; return JSON-able figures."""
    from imagery.gdal import configure_gdal

    spec = json.loads(TILES_FILE.read_text())
    cog: str = spec["cog"]
    tiles = [Tile(*t) for t in spec["tiles"]]
    warm = Tile(*spec["warm"][0])
    configure_gdal()  # the same GDAL settings for every renderer
    warnings.simplefilter("ignore")
    render: Callable[[Tile], bytes]
    if kind.startswith("app"):
        from imagery.display import Display
        from imagery.tiles import TileRenderer, TileSource

        renderer = TileRenderer()
        source = TileSource(cog, Display(bands=(1, 2, 3)))

        def render(t: Tile) -> bytes:
            return renderer.tile(source, t.z, t.x, t.y, fmt)

    else:
        from rio_tiler.io import Reader

        def render(t: Tile) -> bytes:
            with Reader(cog) as reader:  # a new Reader per tile, like a naive handler
                image = reader.tile(t.x, t.y, t.z)
            return bytes(image.render(img_format=PIL_FORMAT[fmt]))

    started = time.perf_counter()
    render(warm)
    first_ms = (time.perf_counter() - started) * 1000
    passes: list[list[float]] = []
    bodies: list[bytes] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(2):
        times = []
        for t in tiles:
            started = time.perf_counter()
            body = render(t)
            times.append((time.perf_counter() - started) * 1000)
            if len(bodies) < len(tiles):
                bodies.append(body)
        passes.append(times)
    cpu_per_wall = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    problems = [p for p in (check_image(b, fmt) for b in bodies) if p]
    result: dict[str, Any] = {
        "kind": kind,
        "fmt": fmt,
        "first_ms": first_ms,
        "pass1": passes[0],
        "pass2": passes[1],
        "cpu_per_wall": cpu_per_wall,
        "errors": len(problems),
        "error_examples": problems[:3],
        "mean_bytes": float(np.mean([len(b) for b in bodies])),
    }
    if kind == "app" and fmt == "png":
        result["agreement"] = agreement_with_rio_tiler(cog, tiles, bodies)
    return result


def agreement_with_rio_tiler(cog: str, tiles: list[Tile], bodies: list[bytes]) -> dict[str, Any]:
    """Share of identical pixels between the app's PNG tiles and rio-tiler's, where both
    have data: a check that the fast path draws the same picture."""
    from PIL import Image
    from rio_tiler.io import Reader

    identical: list[float] = []
    mean_abs: list[float] = []
    with Reader(cog) as reader:
        for t, body in zip(tiles, bodies, strict=True):
            reference = reader.tile(t.x, t.y, t.z)
            ours = np.asarray(Image.open(io.BytesIO(body)))
            ours_mask = ours[..., 3] > 0 if ours.shape[-1] == 4 else np.ones(ours.shape[:2], bool)
            valid = ours_mask & (np.asarray(reference.mask) > 0)
            if not valid.any():
                continue
            a = ours[..., :3][valid].astype(np.int16)
            b = np.moveaxis(np.asarray(reference.data[:3]), 0, -1)[valid].astype(np.int16)
            identical.append(float(np.mean(np.all(a == b, axis=1))))
            mean_abs.append(float(np.mean(np.abs(a - b))))
    return {
        "median_identical": percentile(identical, 50),
        "min_identical": min(identical),
        "median_mean_abs": percentile(mean_abs, 50),
        "compared": len(identical),
    }


def run_inprocess(kind: str, fmt: str, noise: Noise) -> dict[str, Any]:
    env = base_env()
    best: dict[str, Any] | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        log(f"in-process: {kind} {fmt}" + (f" (attempt {attempt})" if attempt > 1 else ""))
        noise.wait_for_quiet()
        meter = CpuMeter()
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--inprocess-worker", kind, fmt],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=ROOT,
            env=env,
        )
        if result.returncode != 0:
            raise RuntimeError(f"in-process worker {kind} {fmt} failed:\n{result.stderr}")
        figures: dict[str, Any] = json.loads(result.stdout)
        figures["other_share"] = meter.other_share()
        figures["attempts"] = attempt
        if best is None or figures["other_share"] < best["other_share"]:
            best = figures
        if not noise.again(figures["other_share"], f"in-process {kind} {fmt}"):
            break
    assert best is not None
    return best


# ---------------------------------------------------------------------- HTTP harness


@dataclass
class Server:
    name: str
    title: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    headers: dict[str, str]
    tile_path: Callable[[Tile, str], str]
    process: subprocess.Popen[bytes] | None = None
    log_file: Any = None

    def start(self, label: str) -> float:
        """Start it and wait until it answers; return the seconds that took."""
        self.log_file = (LOGS / f"{self.name}-{label}.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its workers stop with it
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_file.name}")
            client = Client(self.port, self.headers)
            reply = client.get(self.ready_path)
            client.close()
            if reply.status == 200:
                return time.perf_counter() - started
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process, 15)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


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


def load(server: Server, paths: list[str], concurrency: int) -> tuple[float, list[Reply | None]]:
    """Request every path once from `concurrency` keep-alive connections; wall time, replies."""
    replies: list[Reply | None] = [None] * len(paths)
    lock = threading.Lock()
    cursor = iter(range(len(paths)))
    gate = threading.Barrier(concurrency + 1)
    stop_at = time.monotonic() + RUN_DEADLINE_S

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
        thread.join(RUN_DEADLINE_S + REQUEST_TIMEOUT_S)
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
    server: Server, tiles: list[Tile], warm: list[Tile], fmt: str, conc: int
) -> LoadRun:
    meter = CpuMeter()
    start_s = server.start(f"{fmt}-c{conc}")
    try:
        assert server.process is not None
        pgid = server.process.pid
        first = Client(server.port, server.headers)
        first_reply = first.get(server.tile_path(warm[0], fmt))
        first.close()
        load(server, [server.tile_path(t, fmt) for t in warm[1:]], 4)  # warm-up
        before, mine = group_cpu_s(pgid), resource.getrusage(resource.RUSAGE_SELF)
        wall, replies = load(server, [server.tile_path(t, fmt) for t in tiles], conc)
        after, mine_after = group_cpu_s(pgid), resource.getrusage(resource.RUSAGE_SELF)
    finally:
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
    server: Server, tiles: list[Tile], warm: list[Tile], fmt: str, conc: int, noise: Noise
) -> LoadRun:
    best: LoadRun | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        suffix = f" (attempt {attempt})" if attempt > 1 else ""
        log(f"HTTP: {server.title}, {fmt}, concurrency {conc}{suffix}")
        noise.wait_for_quiet()
        run = measure_once(server, tiles, warm, fmt, conc)
        run.attempts = attempt
        if best is None or run.other_share < best.other_share:
            best = run
        if not noise.again(run.other_share, f"{server.title} {fmt} c{conc}"):
            break
    assert best is not None
    return best


def measure_cache(server: Server, tiles: list[Tile], warm: list[Tile]) -> dict[str, Any]:
    """One connection (so one worker): render, then repeats from memory, then 304s."""
    log("HTTP: app cache path")
    meter = CpuMeter()
    server.start("cache")
    figures: dict[str, Any] = {}
    try:
        load(server, [server.tile_path(t, "png") for t in warm[1:]], 4)
        client = Client(server.port, server.headers)
        for fmt, tile in zip(FORMATS, tiles[:2], strict=True):
            path = server.tile_path(tile, fmt)
            miss = client.get(path)
            hits = [client.get(path) for _ in range(CACHE_REPEATS)]
            etag = miss.etag or ""
            cond = [client.get(path, {"If-None-Match": etag}) for _ in range(CACHE_REPEATS)]
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
        server.stop()
    figures["other_share"] = meter.other_share()
    return figures


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def ensure_titiler() -> None:
    """Create .venv-bench with TiTiler and uvicorn unless it works already."""
    probe = [str(bench_python()), "-c", "import titiler.application.main, uvicorn"]
    works = bench_python().exists() and not subprocess.run(probe, capture_output=True).returncode
    if works:
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


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import rasterio

    found = {"Python": platform.python_version(), "GDAL (app venv)": rasterio.__gdal_version__}
    for name in ("rasterio", "rio-tiler", "morecantile", "Pillow", "numpy", "gunicorn"):
        found[name] = version(name)
    for name in ("waitress", "Flask"):
        found[name] = version(name)
    script = (
        "import json, rasterio; from importlib.metadata import version as v; "
        "print(json.dumps({'titiler.application': v('titiler.application'), "
        "'titiler.core': v('titiler.core'), 'uvicorn': v('uvicorn'), "
        "'fastapi': v('fastapi'), 'rio-tiler (TiTiler venv)': v('rio-tiler'), "
        "'GDAL (TiTiler venv)': rasterio.__gdal_version__}))"
    )
    probe = subprocess.run(
        [str(bench_python()), "-c", script], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        found.update(json.loads(probe.stdout))
    return found


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def pct(value: float) -> str:
    return f"{value:.0%}"


INPROC_TITLES = {
    "app": "app TileRenderer",
    "riotiler": "rio-tiler Reader per tile",
}


@dataclass
class Results:
    when: datetime
    spec: dict[str, Any]
    prepared: Prepared
    inproc: dict[tuple[str, str], dict[str, Any]]
    runs: list[LoadRun]
    titles: dict[str, str]
    cache: dict[str, Any]
    route: str
    elapsed_s: float
    noise: Noise

    def run(self, server: str, fmt: str, conc: int) -> LoadRun:
        return next(r for r in self.runs if (r.server, r.fmt, r.concurrency) == (server, fmt, conc))

    def ratio(self, server: str, fmt: str, conc: int) -> float:
        ours, theirs = self.run(server, fmt, conc), self.run("titiler", fmt, conc)
        return ours.rate / theirs.rate if theirs.rate else float("nan")


def target_rows(res: Results) -> list[list[str]]:
    rows: list[list[str]] = []
    for fmt in FORMATS:
        f = res.inproc[("app", fmt)]
        first, again = percentile(f["pass1"], 50), percentile(f["pass2"], 50)
        goal = TARGET_INPROCESS_MS[fmt]
        rows.append(
            [
                f"in-process {fmt.upper()} median, first render",
                f"≤ {goal:g} ms",
                f"{ms(first)} ms (blocks cached: {ms(again)} ms)",
                verdict(first <= goal),
            ]
        )
    for fmt in FORMATS:
        for conc in CONCURRENCY:
            app, ti = res.run("app", fmt, conc), res.run("titiler", fmt, conc)
            ratio = res.ratio("app", fmt, conc)
            rows.append(
                [
                    f"HTTP {fmt.upper()} tiles/s app/TiTiler, {WORKERS} workers each, "
                    f"concurrency {conc}",
                    f"≥ {TARGET_RATIO[fmt]:g}x",
                    f"{ratio:.2f}x ({app.rate:.0f} vs {ti.rate:.0f} tiles/s)",
                    verdict(ratio >= TARGET_RATIO[fmt]),
                ]
            )
    for fmt in FORMATS:
        hit, nm = res.cache[fmt]["hit_ms"], res.cache[fmt]["not_modified_ms"]
        rows.append(
            [
                f"repeated {fmt.upper()} tile from the app's cache, median of {CACHE_REPEATS}",
                f"< {TARGET_CACHE_MS:g} ms",
                f"{ms(hit)} ms (304: {ms(nm)} ms)",
                verdict(hit < TARGET_CACHE_MS),
            ]
        )
    return rows


def inproc_section(res: Results) -> str:
    rows = []
    for kind, title in INPROC_TITLES.items():
        for fmt in FORMATS:
            f = res.inproc[(kind, fmt)]
            rows.append(
                [
                    title,
                    fmt.upper(),
                    ms(f["first_ms"]),
                    ms(percentile(f["pass1"], 50)),
                    ms(percentile(f["pass1"], 90)),
                    ms(percentile(f["pass2"], 50)),
                    ms(percentile(f["pass2"], 90)),
                    f"{f['cpu_per_wall']:.2f}",
                    f"{f['mean_bytes'] / 1024:.1f}",
                    f["errors"],
                    pct(f["other_share"]),
                ]
            )
    header = ["renderer", "format", "warm-up call", "first render median", "p90"]
    header += ["blocks cached median", "p90", "CPU/wall", "mean KiB", "errors", "other CPU"]
    tiles = [Tile(*t) for t in res.spec["tiles"]]
    zoom_rows = []
    for z in ZOOMS:
        idx = [i for i, t in enumerate(tiles) if t.z == z]
        row: list[Any] = [z, len(idx)]
        for kind in INPROC_TITLES:
            for fmt in FORMATS:
                row.append(ms(percentile([res.inproc[(kind, fmt)]["pass1"][i] for i in idx], 50)))
        zoom_rows.append(row)
    zoom_header = ["zoom", "tiles"]
    zoom_header += [f"{short} {fmt.upper()}" for short in ("app", "rio-tiler") for fmt in FORMATS]
    agreement = res.inproc[("app", "png")].get("agreement", {})
    same = (
        f"median {agreement.get('median_identical', float('nan')):.2%} of pixels identical "
        f"(lowest {agreement.get('min_identical', float('nan')):.2%}), median mean absolute "
        f"difference {agreement.get('median_mean_abs', float('nan')):.3f} grey levels over "
        f"{agreement.get('compared', 0)} tiles"
    )
    return f"""## In-process (ms per tile)

{table(header, rows)}

"CPU/wall" is the worker process's CPU time over wall time for both passes: above 1.0 the
renderer keeps more than one core busy (NumPy's OpenBLAS threads, for instance).

Median ms per zoom, first render:

{table(zoom_header, zoom_rows)}

Picture check, app PNG against rio-tiler on the same tiles where both have data: {same}.
"""


def http_rows(res: Results, runs: Sequence[LoadRun], with_ratio: bool = False) -> list[list[Any]]:
    rows = []
    for r in runs:
        row: list[Any] = [
            res.titles[r.server],
            r.fmt.upper(),
            r.concurrency,
            f"{r.rate:.1f}",
            ms(percentile(r.latencies, 50)),
            ms(percentile(r.latencies, 90)),
            ms(percentile(r.latencies, 99)),
            ms(r.server_cpu_ms),
            " / ".join(f"{share:.0%}" for share in r.worker_split) or "-",
            f"{np.mean(r.sizes) / 1024:.1f}" if r.sizes else "-",
            r.errors,
            pct(r.other_share),
        ]
        if with_ratio:
            row.insert(4, f"{res.ratio(r.server, r.fmt, r.concurrency):.2f}x")
        rows.append(row)
    return rows


def http_section(res: Results) -> str:
    header = ["server", "format", "concurrency", "tiles/s", "p50 ms", "p90 ms", "p99 ms"]
    header += ["server CPU ms/tile", "CPU split by worker", "mean KiB", "errors", "other CPU"]
    main_runs = [
        res.run(name, fmt, conc)
        for fmt in FORMATS
        for conc in CONCURRENCY
        for name in ("app", "titiler")
    ]
    ratio_rows = []
    for fmt in FORMATS:
        for conc in CONCURRENCY:
            app, ti = res.run("app", fmt, conc), res.run("titiler", fmt, conc)
            ratio = res.ratio("app", fmt, conc)
            ratio_rows.append(
                [
                    fmt.upper(),
                    conc,
                    f"{app.rate:.1f}",
                    f"{ti.rate:.1f}",
                    f"{ratio:.2f}x",
                    f"≥ {TARGET_RATIO[fmt]:g}x",
                    verdict(ratio >= TARGET_RATIO[fmt]),
                ]
            )
    ratio_header = ["format", "concurrency", "app tiles/s", "TiTiler tiles/s", "app/TiTiler"]
    ratio_header += ["target", "status"]
    extra_runs = [r for r in res.runs if r.server not in ("app", "titiler", "app-gthread")]
    extra_header = [*header[:4], "vs TiTiler (2 workers)", *header[4:]]
    first_rows = [
        [
            res.titles[r.server],
            r.fmt.upper(),
            r.concurrency,
            f"{r.start_s:.2f}",
            ms(r.first_ms),
            r.first_status,
            r.attempts,
        ]
        for r in res.runs
    ]
    first_header = ["server", "format", "concurrency", "start s", "first request ms", "status"]
    first_header += ["attempts"]
    return f"""## HTTP, {WORKERS} workers each

{table(header, http_rows(res, main_runs))}

"server CPU ms/tile" is the CPU time of the server's processes during the run divided by the
tiles; "CPU split by worker" shows how that CPU was shared between the worker processes (a
keep-alive connection stays with the worker that accepted it, so 100 % means one worker
served every connection while the other idled).

Ratio of the app's throughput to TiTiler's:

{table(ratio_header, ratio_rows)}

### Reference runs (diagnostics, not targets)

The app with one thread per gunicorn worker instead of 4 (`annotator serve --threads 1`) at
the higher concurrency, and TiTiler with one uvicorn worker at concurrency 1:

{table(extra_header, http_rows(res, extra_runs, with_ratio=True))}

{serving_section(res)}
### Server start and first request

Seconds from launching the server until it answers (`/login` for the app, `/healthz` for
TiTiler), and the first tile request after that (opens the COG, fills lazy imports):

{table(first_header, first_rows)}
"""


def serving_section(res: Results) -> str:
    """The app under its serving setup against the one it had before issue 10."""
    rows = []
    for fmt in FORMATS:
        for conc in CONCURRENCY:
            new, old = res.run("app", fmt, conc), res.run("app-gthread", fmt, conc)
            rows.append(
                [
                    fmt.upper(),
                    conc,
                    f"{new.rate:.1f}",
                    f"{old.rate:.1f}",
                    f"{new.rate / old.rate:.2f}x" if old.rate else "-",
                    f"{ms(percentile(new.latencies, 50))} / {ms(percentile(old.latencies, 50))}",
                    f"{ms(percentile(new.latencies, 99))} / {ms(percentile(old.latencies, 99))}",
                    f"{ms(new.server_cpu_ms)} / {ms(old.server_cpu_ms)}",
                    PREVIOUS_GTHREAD_RATE.get((fmt, conc), "-"),
                    f"{pct(new.other_share)} / {pct(old.other_share)}",
                ]
            )
    header = ["format", "concurrency", "tiles/s now", "tiles/s gthread", "now/gthread"]
    header += ["p50 ms now / gthread", "p99 ms now / gthread", "server CPU ms/tile now / gthread"]
    header += [f"tiles/s gthread, run of {PREVIOUS_GTHREAD_RUN}", "other CPU now / gthread"]
    return f"""### Serving setup: now and before issue 10

Issue 10 (item 3) changed how `annotator serve` serves: eight clients that sent their
headers slowly used to hold all 8 request threads (2 gunicorn gthread workers x 4 threads)
and stop the server. It is still gunicorn with 2 worker processes of 4 threads, but each
worker now runs waitress's channel layer (`annotator/serving.py`): requests are read,
headers and body, by each process's event loop and reach a thread only when complete, and
responses are buffered and sent by the loop, so slow clients hold sockets, never threads;
slow or idle connections are closed after the client timeout (30 s). The table compares the
app under this setup ("now") with the same app under the previous one (`gunicorn
--worker-class gthread`, as `annotator serve` ran it before, "gthread"), each started afresh
in this run like the other servers, and with the gthread figures published before the change.

{table(header, rows)}
"""


def observations(res: Results) -> list[str]:
    """Plain statements about this run's figures, each only when the figures show it."""
    notes: list[str] = []
    for fmt in FORMATS:
        app = res.inproc[("app", fmt)]
        if app["cpu_per_wall"] > 1.3:
            notes.append(
                f"In-process {fmt.upper()}: the app's renderer kept {app['cpu_per_wall']:.1f} "
                "cores busy (CPU/wall) while rendering one tile at a time: helper threads (such "
                "as NumPy's OpenBLAS pool) burn CPU that other workers could use."
            )
    conc = max(CONCURRENCY)
    for fmt in FORMATS:
        run, one = res.run("app", fmt, conc), res.run("app-1t", fmt, conc)
        if one.rate > 1.1 * run.rate:
            notes.append(
                f"HTTP {fmt.upper()} concurrency {conc}: with one thread per worker the app "
                f"served {one.rate:.0f} tiles/s ({res.ratio('app-1t', fmt, conc):.2f}x "
                f"TiTiler) instead of {run.rate:.0f} with 4, at {ms(one.server_cpu_ms)} ms "
                f"of server CPU per tile instead of {ms(run.server_cpu_ms)}."
            )
    for fmt in FORMATS:
        in_process = percentile(res.inproc[("app", fmt)]["pass1"], 50)
        run = res.run("app", fmt, 1)
        notes.append(
            f"HTTP {fmt.upper()} concurrency 1: the app's workers spent {ms(run.server_cpu_ms)} "
            f"ms of CPU per tile against a {ms(in_process)} ms median in-process render; "
            f"a cached tile costs {ms(res.cache[fmt]['hit_ms'])} ms end to end."
        )
    for r in res.runs:
        if r.concurrency > 1 and r.worker_split and r.worker_split[0] > 0.9:
            notes.append(
                f"{res.titles[r.server]}, {r.fmt.upper()} at concurrency {r.concurrency}: one "
                f"worker did {r.worker_split[0]:.0%} of the server's CPU work, so the "
                f"{WORKERS} workers acted as one: a keep-alive connection stays with the worker "
                "that accepted it, and that worker had accepted (nearly) all of them."
            )
    pairs = [
        (res.run("app", f, c), res.run("app-gthread", f, c)) for f in FORMATS for c in CONCURRENCY
    ]
    cpu = [now.server_cpu_ms / old.server_cpu_ms for now, old in pairs if old.server_cpu_ms > 0]
    rate = [now.rate / old.rate for now, old in pairs if old.rate > 0]
    if cpu and rate:
        notes.append(
            "Serving setup (waitress channels in gunicorn's processes, against gthread): over "
            f"the {len(pairs)} format and concurrency runs the app's server CPU per tile was "
            f"{min(cpu):.2f}x to {max(cpu):.2f}x, and its tiles/s {min(rate):.2f}x to "
            f"{max(rate):.2f}x, what the same app gave under gthread in this run."
        )
    for fmt in FORMATS:
        two, one = res.run("titiler", fmt, 1), res.run("titiler-1w", fmt, 1)
        gap = percentile(two.latencies, 50) - percentile(one.latencies, 50)
        if gap > 25:
            notes.append(
                f"TiTiler {fmt.upper()} at concurrency 1: median latency "
                f"{ms(percentile(two.latencies, 50))} ms with {WORKERS} uvicorn workers but "
                f"{ms(percentile(one.latencies, 50))} ms with one, for about the same CPU per "
                f"tile ({ms(two.server_cpu_ms)} and {ms(one.server_cpu_ms)} ms). The "
                f"{ms(gap)} ms gap is idle time, consistent with a delayed-ACK stall between "
                "the headers and the body of each response, so the concurrency-1 ratios "
                "flatter the app; against one TiTiler worker the app's "
                f"rate is {res.run('app', fmt, 1).rate / one.rate:.2f}x."
            )
    return notes


def load_note(res: Results) -> str:
    """A warning, up front, when other people's processes loaded the machine during the run."""
    shares = sorted(
        [r.other_share for r in res.runs]
        + [f["other_share"] for f in res.inproc.values()]
        + [res.cache["other_share"]]
    )
    if shares[-1] <= DISTURBED:
        return ""
    busy = sum(1 for share in shares if share > DISTURBED)
    return f"""
**Load: this run was disturbed.** The machine was shared, and other processes used more than
{DISTURBED:.0%} of its CPU during {busy} of the {len(shares)} measurements (from
{shares[0]:.0%} to {shares[-1]:.0%}, median {percentile(shares, 50):.0%}; "other CPU" in
every table), even after {res.noise.retries} repeats and {res.noise.waited:.0f} s of waiting
for a quiet machine. Rates and latencies are therefore well below what a quiet machine gives,
and ratios between servers measured at different moments are only indicative; "server CPU
ms/tile" is the figure the load distorts least.
"""


def render_report(res: Results) -> str:
    spec, prepared, cache = res.spec, res.prepared, res.cache
    tiles = [Tile(*t) for t in spec["tiles"]]
    cache_rows = [
        [
            fmt.upper(),
            "/".join(str(v) for v in cache[fmt]["tile"]),
            ms(cache[fmt]["miss_ms"]),
            ms(cache[fmt]["hit_ms"]),
            ms(cache[fmt]["hit_p90_ms"]),
            ms(cache[fmt]["not_modified_ms"]),
            ms(cache[fmt]["not_modified_p90_ms"]),
            cache[fmt]["errors"],
        ]
        for fmt in FORMATS
    ]
    cache_header = ["format", "tile z/x/y", "first (render) ms", "repeat median ms"]
    cache_header += ["repeat p90 ms", "304 median ms", "304 p90 ms", "errors"]
    errors = sum(r.errors for r in res.runs) + sum(f["errors"] for f in res.inproc.values())
    errors += sum(cache[fmt]["errors"] for fmt in FORMATS)
    examples = [e for r in res.runs for e in r.error_examples][:5]
    examples += [e for f in res.inproc.values() for e in f["error_examples"]][:5]
    example_text = "\n".join(f"- `{x}`" for x in examples) if examples else "- none"
    mach = machine()
    vers = versions()
    per_zoom = ", ".join(f"z{z}: {n}" for z, n in spec["per_zoom"].items())
    eligible = ", ".join(f"z{z}: {n}" for z, n in spec["eligible_per_zoom"].items())
    w, s, e, n = spec["bounds_wgs84"]
    import_note = (
        f" (the import took {prepared.import_s:.1f} s)" if prepared.import_s is not None else ""
    )
    shares = [r.other_share for r in res.runs] + [f["other_share"] for f in res.inproc.values()]
    notes = "\n".join(f"- {note}" for note in observations(res)) or "- none"
    return f"""# Tile-serving benchmark

Written by `make bench` (`benchmarks/tiles.py`) on {res.when:%Y-%m-%d %H:%M} UTC; the run took
{res.elapsed_s / 60:.1f} min. Re-run it rather than editing this section: it is rewritten.
{load_note(res)}
## Targets

{table(["target", "goal", "measured", "status"], target_rows(res))}

## Machine and versions

{table(["", ""], [*mach.items(), *vers.items()])}

## Method

- **Image**: a synthetic {SIZE} x {SIZE}, 3-band uint8 GeoTIFF with {GSD} m pixels in {CRS}
  (UTM 36N) centred on {CENTRE_LON_LAT[1]:.2f} N {CENTRE_LON_LAT[0]:.2f} E (WGS 84 bounds
  {w:.4f}, {s:.4f}, {e:.4f}, {n:.4f}): rectangular fields with furrows, tracks, roads, a
  village, smooth haze and Gaussian noise (sd 6). Ingested with `annotator images
  import`{import_note}; the stored COG has {spec["compression"]} compression,
  {spec["block"][0]} x {spec["block"][1]} blocks and overviews {spec["overviews"]}.
- **Tiles**: {len(tiles)} unique WebMercatorQuad tiles, a seeded random sample per zoom
  ({per_zoom}; zooms with fewer eligible tiles lend their share to z16-z19) among the tiles at
  least {MIN_OVERLAP:.0%} covered by the image ({eligible}). {spec["partial"]} of them are
  partly outside the image (transparent edges in PNG). The list is shuffled across zooms.
  Warm-ups use {len(spec["warm"])} other tiles at z{WARM_ZOOMS[0]}-z{WARM_ZOOMS[-1]}.
- **In-process**: each renderer and format runs in a fresh process (empty GDAL block cache; the
  file itself is in the OS page cache) after `imagery.gdal.configure_gdal()`: one warm-up call
  on a tile not in the list, then the list twice. "First render" is the first pass, where each
  block is read and inflated once; "blocks cached" is the second pass, served from GDAL's block
  cache. The app is `TileRenderer().tile(TileSource(cog, Display(bands=(1, 2, 3))), z, x, y,
  fmt)`; rio-tiler is `Reader(cog).tile(x, y, z).render(img_format=...)` with a new `Reader`
  per tile.
- **HTTP**: `annotator serve --workers {WORKERS}` (gunicorn, each worker buffering requests
  with waitress and serving them on 4 threads,
  bearer token, access log on) and TiTiler {vers.get("titiler.application", "?")} under
  `uvicorn --workers {WORKERS}` (route `{res.route}?url=<absolute path of the same COG>`, with
  the app's `configure_gdal()` settings in its environment). Each server is started afresh for
  every (format, concurrency) run, so no run is served from an earlier run's tile or block
  cache: one timed first request, {len(spec["warm"]) - 1} warm-up tiles at concurrency 4, then
  the tile list over `concurrency` new keep-alive connections (Python `http.client`, one thread
  per connection, in the benchmark process; the servers are separate processes). tiles/s =
  tiles / wall time of the run; latency is from sending a request to having read the whole
  body. Every response is checked afterwards: HTTP 200 and a decodable 256 x 256 PNG/JPEG.
  BLAS/OpenMP thread variables ({", ".join(BLAS_VARS)}) are removed from the environment of
  every process the benchmark starts, so the servers' and the renderer's own defaults are
  measured.
- **Cache path**: a fresh app server, warmed up; on one keep-alive connection (so one worker) a
  tile is rendered once, requested {CACHE_REPEATS} more times (memory cache; bytes compared with
  the first reply), then {CACHE_REPEATS} times with `If-None-Match: <ETag>` (expects 304).
  TiTiler keeps no tiles, so it has no row here.
- **Noise**: the machine ({mach["nproc"]} cores) is shared by the server's workers and the load
  generator, and possibly by other people's processes. "other CPU" is the share of the machine
  that processes outside this benchmark used during a measurement (from /proc/stat minus our
  own CPU time); a measurement above {DISTURBED:.0%} is repeated (up to {MAX_ATTEMPTS}
  attempts while the run is under {RETRY_BUDGET_S / 60:.0f} min) and the quietest attempt is
  kept. This run: {res.noise.retries} repeats, highest other-CPU share kept
  {max(shares):.0%}, {res.noise.waited:.0f} s spent waiting for a quiet machine.
- All traffic is to 127.0.0.1.

{inproc_section(res)}
{http_section(res)}
## Cache path (app, one connection)

{table(cache_header, cache_rows)}

Other processes took {cache["other_share"]:.0%} of the CPU during this part.

## Observations

Generated from this run's figures:

{notes}

## Errors

{errors} bad responses or tiles in total.

{example_text}
"""


# ----------------------------------------------------------------------------- main


def make_servers(prepared: Prepared) -> list[Server]:
    from imagery.gdal import GDAL_SETTINGS

    def app(name: str, title: str, extra: list[str]) -> Server:
        port = free_port()
        argv = [str(APP_BIN / "annotator"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        return Server(
            name=name,
            title=title,
            argv=[*argv, "--workers", str(WORKERS), *extra],
            env=base_env() | {"ANNOTATOR_DATA_DIR": str(DATA_DIR)},
            port=port,
            ready_path="/login",
            headers={"Authorization": f"Bearer {prepared.token}"},
            tile_path=lambda t, fmt: f"/tiles/{prepared.image_id}/{t.z}/{t.x}/{t.y}.{fmt}",
        )

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
            | {"ANNOTATOR_DATA_DIR": str(DATA_DIR)}
            | dict.fromkeys(BLAS_VARS[:3], "1"),
            port=port,
            ready_path="/login",
            headers={"Authorization": f"Bearer {prepared.token}"},
            tile_path=lambda t, fmt: f"/tiles/{prepared.image_id}/{t.z}/{t.x}/{t.y}.{fmt}",
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
            tile_path=lambda t, fmt: "",  # set once the route is known
        )

    return [
        app("app", "app", []),
        titiler("titiler", "TiTiler", WORKERS),
        app("app-1t", "app, --threads 1", ["--threads", "1"]),
        titiler("titiler-1w", "TiTiler, 1 worker", 1),
        gthread("app-gthread", "app, gunicorn gthread (before issue 10)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--inprocess-worker", nargs=2, metavar=("KIND", "FMT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.inprocess_worker:
        kind, fmt = args.inprocess_worker
        print(json.dumps(inprocess_worker(kind, fmt)))
        return 0

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    began = time.perf_counter()
    when = datetime.now(UTC)
    noise = Noise(began, RETRY_BUDGET_S)
    prepared = prepare()
    spec = select_tiles(prepared.cog)
    TILES_FILE.write_text(json.dumps(spec))
    tiles = [Tile(*t) for t in spec["tiles"]]
    warm = [Tile(*t) for t in spec["warm"]]
    log(f"{len(tiles)} tiles: {spec['per_zoom']}")

    inproc = {(k, f): run_inprocess(k, f, noise) for k in INPROC_TITLES for f in FORMATS}

    ensure_titiler()
    servers = make_servers(prepared)
    app, titiler, app_1t, titiler_1w, app_gthread = servers
    runs: list[LoadRun] = []
    try:
        titiler.start("openapi")
        route = titiler_tile_route(titiler.port)
        titiler.stop()
        cog_url = prepared.cog.resolve().as_posix()
        for server in (titiler, titiler_1w):
            server.tile_path = lambda t, fmt: (
                route.format(z=t.z, x=t.x, y=t.y, fmt=fmt) + f"?url={cog_url}"
            )
        for fmt in FORMATS:
            for conc in CONCURRENCY:
                for server in (app, titiler):
                    runs.append(measure(server, tiles, warm, fmt, conc, noise))
        for fmt in FORMATS:
            runs.append(measure(app_1t, tiles, warm, fmt, max(CONCURRENCY), noise))
            runs.append(measure(titiler_1w, tiles, warm, fmt, 1, noise))
        for fmt in FORMATS:
            for conc in CONCURRENCY:
                runs.append(measure(app_gthread, tiles, warm, fmt, conc, noise))
        cache = measure_cache(app, tiles, warm)
    finally:
        for server in servers:
            server.stop()

    results = Results(
        when=when,
        spec=spec,
        prepared=prepared,
        inproc=inproc,
        runs=runs,
        titles={s.name: s.title for s in servers},
        cache=cache,
        route=route,
        elapsed_s=time.perf_counter() - began,
        noise=noise,
    )
    report = render_report(results)
    write_section("tiles", report)
    print(report)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "inprocess": {f"{k}-{f}": v for (k, f), v in inproc.items()},
                "http": [asdict(r) | {"tiles_per_s": r.rate} for r in runs],
                "cache": cache,
            }
        )
    )
    log(f"done in {results.elapsed_s / 60:.1f} min; wrote its section of docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
