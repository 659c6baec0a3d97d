"""The renderers timed in-process: the app's TileRenderer and a naive rio-tiler handler, each
renderer and format in a fresh process (`python -m benchmarks.tiles --inprocess-worker`), so
that GDAL's block cache starts empty."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.common.servers import ROOT, base_env
from benchmarks.common.timing import CpuMeter, Noise, log, percentile
from benchmarks.tiles.source import Bench, Tile

PIL_FORMAT = {"png": "PNG", "jpg": "JPEG"}
#: A disturbed measurement (see common.timing.Noise) is taken again, up to MAX_ATTEMPTS times,
#: while the whole run is younger than RETRY_BUDGET_S.
MAX_ATTEMPTS = 3
RETRY_BUDGET_S = 360.0


def check_image(body: bytes, fmt: str) -> str | None:
    """None when `body` is a 256 x 256 image of the expected format, else why not."""
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


def inprocess_worker(bench: Bench, kind: str, fmt: str) -> dict[str, Any]:
    """Time one renderer on the tile list in this (fresh) process; return JSON-able figures."""
    from imagery.gdal import configure_gdal

    spec = json.loads(bench.tiles_file.read_text())
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


def run_inprocess(bench: Bench, kind: str, fmt: str, noise: Noise) -> dict[str, Any]:
    env = base_env()
    best: dict[str, Any] | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        log(f"in-process: {kind} {fmt}" + (f" (attempt {attempt})" if attempt > 1 else ""))
        noise.wait_for_quiet()
        meter = CpuMeter()
        result = subprocess.run(
            [
                *(sys.executable, "-m", "benchmarks.tiles", "--out", str(bench.out)),
                *(*(["--smoke"] if bench.options.smoke else []), "--doc", str(bench.options.doc)),
                *("--inprocess-worker", kind, fmt),
            ],
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
