"""A press picture made ready for ingest: its pixels (nothing else: no EXIF, XMP or text
chunk) written to a GeoTIFF with the control points as GCPs in WGS 84 and the method
named (imagery.press.fit.METHOD_TAG), which ingest warps north-up to a COG like any image
placed by GCPs. Also the editor's preview: a small copy warped the same way into Web
Mercator, as WebP (or PNG) with its bounds, for an overlay."""

from __future__ import annotations

import functools
import io
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from PIL import Image
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import calculate_default_transform, reproject, transform_bounds

from imagery.press.fit import METHOD_TAG, ORDERS, POINTS_TAG, ControlPoint, Fit, affine_transform
from imagery.press.read import pixels

WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)
#: the preview's longest side, in pixels
PREVIEW_PIXELS = 1024
#: the tag holding the placement's facts (JSON) in the GeoTIFF and the image's tags
PLACEMENT_TAG = "ANNOTATOR_PLACEMENT"


def _gcps(points: Sequence[ControlPoint], scale: float = 1.0) -> list[GroundControlPoint]:
    return [
        GroundControlPoint(
            row=p.row * scale, col=p.col * scale, x=p.lon, y=p.lat, z=0.0, id=str(n), info=""
        )
        for n, p in enumerate(points, 1)
    ]


def _interp(bands: int) -> list[ColorInterp]:
    if bands == 1:
        return [ColorInterp.gray]
    colours = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    return colours + ([ColorInterp.alpha] if bands == 4 else [])


def write_placed(source: Path, name: str, target: Path, fit: Fit, facts: Mapping[str, Any]) -> None:
    """Write `target`: the picture's pixels with `fit`'s points as GCPs, its method, and
    `facts` (the placement's provenance, JSON) as tags."""
    data, _ = pixels(source, name)
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": "uint8",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        # uncompressed: read once by the warp, then removed (DEFLATE cost a second a 12 Mpx)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # its GCPs come next
        if fit.method == "affine":  # a geotransform: ingest warps it in one pass
            profile |= {"crs": WGS84, "transform": affine_transform(fit)}
        with rasterio.open(target, "w", **profile) as out:
            out.colorinterp = _interp(data.shape[0])
            out.write(data)
            if fit.method != "affine":
                out.gcps = (_gcps(fit.points), WGS84)
            out.update_tags(
                **{
                    METHOD_TAG: fit.method,
                    POINTS_TAG: json.dumps([p.to_list() for p in fit.points]),
                    PLACEMENT_TAG: json.dumps(dict(facts), sort_keys=True),
                }
            )


@functools.lru_cache(maxsize=8)
def _small(
    path: str, mtime_ns: int, size: int, name: str, longest: int
) -> tuple[np.ndarray, float]:
    """The picture read small, kept for the next preview of the same file (the editor asks
    again each time a point moves); a changed file is read again."""
    return pixels(Path(path), name, longest=longest)


@dataclass(frozen=True)
class Preview:
    image: bytes
    #: "webp" or "png"
    format: str
    width: int
    height: int
    #: west, south, east, north in degrees
    bounds: tuple[float, float, float, float]


def preview(
    source: Path, name: str, fit: Fit, longest: int = PREVIEW_PIXELS, fmt: str = "webp"
) -> Preview:
    """The picture warped by `fit` (GDAL, the same transformer and order as the COG) into Web
    Mercator at most `longest` pixels a side, transparent outside it, as WebP (lossy, with
    its alpha: a twentieth of a PNG's bytes, in a quarter of the time) or PNG."""
    stat = source.stat()
    data, scale = _small(str(source), stat.st_mtime_ns, stat.st_size, name, longest)
    bands, height, width = data.shape
    gcps = _gcps(fit.points, scale)
    order = ORDERS[fit.method]
    options: dict[str, Any] = {"gcps": gcps}
    if order:
        options["MAX_GCP_ORDER"] = str(order)
    else:
        options["METHOD"] = "GCP_TPS"
    transform, out_w, out_h = calculate_default_transform(
        WGS84, WEB_MERCATOR, width, height, **options
    )
    assert out_w is not None and out_h is not None
    shrink = max(out_w, out_h) / longest
    if shrink > 1:
        out_w, out_h = max(1, round(out_w / shrink)), max(1, round(out_h / shrink))
        transform = transform * transform.scale(shrink)
    colour = 1 if bands in (1, 2) else 3
    # the picture's own alpha, or opaque: outside the picture stays 0, transparent
    alpha = data[-1:] if bands in (2, 4) else np.full((1, height, width), 255, np.uint8)
    source_bands = np.concatenate([data[:colour], alpha])
    out = np.zeros((colour + 1, out_h, out_w), dtype=np.uint8)
    reproject(
        source_bands,
        out,
        src_crs=WGS84,
        dst_crs=WEB_MERCATOR,
        dst_transform=transform,
        # nearest: the small copy is already smoothed, and GDAL's bilinear took 8x as long
        resampling=Resampling.nearest,
        **options,
    )
    west, north = transform * (0, 0)
    east, south = transform * (out_w, out_h)
    bounds = transform_bounds(WEB_MERCATOR, WGS84, west, south, east, north)
    mode = "LA" if colour == 1 else "RGBA"
    picture = Image.fromarray(np.moveaxis(out, 0, 2), mode=mode)
    buffer = io.BytesIO()
    if fmt == "png":
        picture.save(buffer, format="PNG", compress_level=1)
    else:
        picture.save(buffer, format="WEBP", quality=80, method=0)
    return Preview(
        buffer.getvalue(),
        "png" if fmt == "png" else "webp",
        out_w,
        out_h,
        tuple(round(float(b), 8) for b in bounds),  # type: ignore[arg-type]
    )
