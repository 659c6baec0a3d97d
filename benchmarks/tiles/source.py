"""The tile benchmark's test image, its ingest with the app's CLI, and the tile list."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import morecantile
import numpy as np
import rasterio
import shapely
from PIL import Image, ImageDraw
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.windows import Window

from benchmarks.common.options import Workplace
from benchmarks.common.servers import Annotator
from benchmarks.common.timing import log

GSD = 0.5
CENTRE_LON_LAT = (35.95, 35.40)
CRS = "EPSG:32636"
SEED = 20240611
ZOOMS = tuple(range(14, 20))
#: tiles at least this much covered by the image are eligible
MIN_OVERLAP = 0.10
WARM_ZOOMS = (16, 17, 18, 19)
WORKERS = 2
USER = "bench"
PASSWORD = "benchpassword1"


@dataclass(frozen=True)
class Scale:
    """The counts of a run: the published benchmark, or the smoke mode's tiny ones."""

    size: int = 8000
    per_zoom: int = 35
    min_tiles: int = 210
    warm_per_zoom: int = 6
    formats: tuple[str, ...] = ("png", "jpg")
    concurrency: tuple[int, ...] = (1, 4)
    cache_repeats: int = 50
    run_deadline_s: float = 240.0


FULL = Scale()
SMOKE = Scale(
    size=2048,
    per_zoom=2,
    min_tiles=8,
    warm_per_zoom=1,
    formats=("png",),
    concurrency=(1,),
    cache_repeats=3,
    run_deadline_s=60.0,
)


@dataclass(frozen=True)
class Bench(Workplace):
    """Where a run works and at which scale."""

    scale: Scale

    @property
    def source(self) -> Path:
        size = self.scale.size
        return self.out / f"bench-{size}px-{GSD}m-utm36n.tif"

    @property
    def state(self) -> Path:
        return self.out / "state.json"

    @property
    def tiles_file(self) -> Path:
        return self.out / "tiles.json"

    def annotator(self) -> Annotator:
        return Annotator(self.data_dir)


class Tile(NamedTuple):
    z: int
    x: int
    y: int


# --------------------------------------------------------------------------- test image


def _parcels(rng: np.random.Generator, size: int) -> Iterator[tuple[int, int, int, int]]:
    """Fields: split the square recursively into rectangles of 150-900 px (75-450 m)."""
    stack = [(0, size, 0, size)]
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


def generate_source(path: Path, size: int) -> None:
    """Fields with furrows, tracks, roads, a village, smooth haze and sensor noise."""
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    east, north = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(*CENTRE_LON_LAT)
    half = size * GSD / 2
    transform = from_origin(round(east - half), round(north + half), GSD, GSD)

    base = np.empty((3, size, size), dtype=np.uint8)
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
    for r0, r1, c0, c1 in _parcels(rng, size):
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

    roads = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(roads)
    for _ in range(4):
        points = [tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(3)]
        draw.line(points, fill=255, width=int(rng.integers(10, 18)))
    on_road = np.asarray(roads) > 0
    for band, value in enumerate((112, 110, 108)):
        base[band][on_road] = value
    del roads, draw, on_road

    margin = min(1500, size // 4)
    village_r, village_c = (int(v) for v in rng.integers(margin, size - margin, 2))
    roofs = np.array([[178, 92, 64], [222, 218, 210], [150, 150, 146], [196, 120, 80]])
    for _ in range(600):
        r = int(np.clip(rng.normal(village_r, 350), 0, size - 80))
        c = int(np.clip(rng.normal(village_c, 350), 0, size - 80))
        h, w = (int(v) for v in rng.integers(16, 60, 2))
        base[:, r + 4 : r + h + 6, c + 4 : c + w + 6] = 48  # shadow
        base[:, r : r + h, c : c + w] = roofs[rng.integers(len(roofs))][:, None, None]

    haze_small = Image.fromarray(rng.normal(0.0, 1.0, (24, 24)).astype(np.float32), mode="F")
    haze = np.asarray(haze_small.resize((size, size), Image.Resampling.BICUBIC))
    profile = {
        "driver": "GTiff",
        "dtype": "uint8",
        "count": 3,
        "width": size,
        "height": size,
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
        for r0 in range(0, size, 512):
            r1 = min(size, r0 + 512)
            gain = 1.0 + 0.07 * haze[np.newaxis, r0:r1]
            noise = rng.standard_normal((3, r1 - r0, size), dtype=np.float32) * np.float32(6)
            strip = base[:, r0:r1].astype(np.float32) * gain + noise
            dst.write(np.clip(strip, 0, 255).astype(np.uint8), window=Window(0, r0, size, r1 - r0))
    tmp.replace(path)
    took = time.perf_counter() - started
    log(f"wrote {path.name} ({path.stat().st_size >> 20} MiB) in {took:.1f} s")


# ------------------------------------------------------------------------ app ingest


# ------------------------------------------------------------------------ app ingest


@dataclass
class Prepared:
    image_id: str
    cog: Path
    token: str
    import_s: float | None


def prepare(bench: Bench) -> Prepared:
    """The image written (once) and ingested with the app's CLI, a viewer and its token."""
    bench.logs.mkdir(parents=True, exist_ok=True)
    source, state_file, cli = bench.source, bench.state, bench.annotator()
    if not source.exists():
        log("generating the test image")
        generate_source(source, bench.scale.size)
    *_, token = cli.batch(  # one process: the app's import paid once
        (("init",), None),
        (("users", "add", USER, "--role", "viewer", "--password-stdin"), PASSWORD),
        (("tokens", "create", USER), None),
    )
    state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {}
    import_s: float | None = None
    cog = Path(state.get("cog", "/nonexistent"))
    if state.get("source_bytes") != source.stat().st_size or not cog.exists():
        log("importing it with `annotator images import`")
        started = time.perf_counter()
        payload = json.loads(
            cli("images", "import", str(source), "--json", "--provider", "benchmark")
        )
        import_s = time.perf_counter() - started if payload[0]["created"] else None
        cog = bench.data_dir / "images" / f"{payload[0]['sha256']}.tif"
        state = {
            "image_id": payload[0]["id"],
            "cog": str(cog),
            "source_bytes": source.stat().st_size,
            "import_s": import_s,
        }
        state_file.write_text(json.dumps(state, indent=2))
    if not cog.exists():
        raise RuntimeError(f"the stored COG {cog} is missing")
    return Prepared(state["image_id"], cog, cli.token_of(token), state.get("import_s"))


# ------------------------------------------------------------------------- tile list


def select_tiles(cog: Path, scale: Scale) -> dict[str, Any]:
    """A seeded, zoom-stratified sample of tiles covered at least MIN_OVERLAP by the image."""
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
    quota = {z: min(scale.per_zoom, len(eligible[z])) for z in ZOOMS}
    short = scale.min_tiles - sum(quota.values())
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
            warm += rng.sample(rest, min(scale.warm_per_zoom, len(rest)))
    rng.shuffle(chosen)
    tiles = [item[0] for item in chosen]
    assert len(set(tiles)) == len(tiles) >= min(200, scale.min_tiles) and not set(tiles) & set(warm)
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
