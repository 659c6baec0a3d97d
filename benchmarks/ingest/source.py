"""The benchmark's scenes: large RGB GeoTIFFs near Hmeimim, written strip by strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from benchmarks.common.timing import log

#: UTM 36N, south-west of Hmeimim air base, 0.5 m pixels
CRS, WEST, NORTH, GSD = "EPSG:32636", 722_000.0, 3_924_000.0, 0.5
STRIP = 512
SEED = 20241213


def scene(folder: Path, side: int, seed: int = SEED) -> Path:
    """A `side` x `side` RGB uint8 GeoTIFF (tiled, uncompressed), made once and kept.

    Its texture compresses about as real imagery does: smooth gradients that differ per band,
    plus a few levels of noise, so neither the ingest nor the peer meets a trivially
    compressible file. Another `seed` makes another file (other noise) of the same size.
    """
    path = folder / (f"scene-{side}.tif" if seed == SEED else f"scene-{side}-{seed}.tif")
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.tif")
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint8",
        "crs": CRS,
        "transform": from_origin(WEST, NORTH, GSD, GSD),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "IF_SAFER",
        "photometric": "RGB",
    }
    rng = np.random.default_rng(seed)
    columns = np.arange(side, dtype=np.uint32)
    log(f"making a {side:,} x {side:,} RGB scene at {path}")
    with rasterio.open(partial, "w", **profile) as out:
        for top in range(0, side, STRIP):
            rows = min(STRIP, side - top)
            y = np.arange(top, top + rows, dtype=np.uint32)[:, None]
            noise = rng.integers(0, 12, size=(rows, side), dtype=np.uint8)
            base = (columns[None, :] // 7 + y // 11).astype(np.uint8)
            for band, shift in enumerate((0, 40, 90), start=1):
                data = (base + np.uint8(shift) + noise).astype(np.uint8)
                out.write(data, band, window=Window(0, top, side, rows))
    partial.rename(path)
    return path
