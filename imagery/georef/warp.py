"""The warp step before the COG is written: an image placed by ground control points or
by RPCs is warped north-up by GDAL (rasterio.warp.reproject, chunk by chunk, into a
GeoTIFF beside the store), the outside of the image transparent (an alpha band, or the
image's own nodata or alpha).

GCPs: into the GCPs' CRS, with the polynomial or spline `models.gcp_order` allows.
RPCs: into the WGS 84 UTM zone of the image's centre (WGS 84 itself past 84 degrees of
latitude), at a constant height, or on the deployment's DEM (RPC_DEM) where it has one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, reproject

from imagery.errors import NotGeoreferenced, UnreadableImage
from imagery.georef.models import (
    Georeferencing,
    affine_georeferencing,
    gcp_georeferencing,
    model_of,
    rpc_georeferencing,
)
from imagery.georef.sidecars import Sidecars, parse_rpc, read_text
from imagery.press.fit import placement_of

#: MB of source and destination the warper holds at once
WARP_MEMORY_MB = 256


@dataclass(frozen=True)
class Height:
    """The ground height for RPCs: `metres` (given, or the site's), `why` when it is a
    fallback, and the deployment's DEM, which wins when set."""

    metres: float | None = None
    why: str = ""
    dem: Path | None = None


def rpcs_of(dataset: Any, sidecars: Sidecars) -> Any:
    """The image's own RPCs, else those of an `_rpc.txt`/`.RPB` beside it."""
    if dataset.rpcs is not None:
        return dataset.rpcs
    text = read_text(sidecars.rpc)
    return parse_rpc(text) if text else None


def ground_placed(dataset: Any, sidecars: Sidecars) -> bool:
    """Whether GCPs or RPCs, not a CRS and geotransform, place the image."""
    gcps, _ = dataset.gcps
    return model_of(dataset.transform, gcps, rpcs_of(dataset, sidecars), dataset.driver) in (
        "gcps",
        "rpcs",
    )


@contextlib.contextmanager
def north_up(
    src: Any, name: str, sidecars: Sidecars, scratch: Path, height: Height
) -> Iterator[tuple[Any, Georeferencing]]:
    """The dataset to write the COG from, and how it was placed. A north-up, rotated or
    sheared geotransform comes back as `src` (ingest warps the latter two in a VRT); GCPs
    and RPCs come back warped, in a file in `scratch` removed on leaving."""
    rpcs = rpcs_of(src, sidecars)
    gcps, gcp_crs = src.gcps
    model = model_of(src.transform, gcps, rpcs, src.driver)
    if model not in ("gcps", "rpcs"):
        if src.gcps[1] is not None and not src.gcps[0]:
            # JPEG 2000 reports a GCP CRS without GCPs, which rio-cogeo takes for GCPs:
            # the same grid through a VRT, which has none
            grid = {"transform": src.transform, "width": src.width, "height": src.height}
            with WarpedVRT(src, crs=src.crs, resampling=Resampling.nearest, **grid) as vrt:
                yield vrt, affine_georeferencing(model)
            return
        # an affine press placement is written as its geotransform (imagery.press.place)
        placed = placement_of(src.tags(), [], src.crs, src.width, src.height)
        yield src, placed or affine_georeferencing(model)
        return
    options: dict[str, Any]
    if model == "gcps":
        if gcp_crs is None:
            raise NotGeoreferenced(
                f"{name} has ground control points but no CRS for them; "
                "it cannot be placed on the map"
            )
        # a press picture's placement names its method (imagery.press.fit)
        placed = placement_of(
            src.tags(), gcps, gcp_crs, src.width, src.height
        ) or gcp_georeferencing(gcps, gcp_crs, name)
        source_crs, target_crs = gcp_crs, gcp_crs
        options = {"gcps": gcps}
        if placed.order:
            options["MAX_GCP_ORDER"] = str(placed.order)
        else:
            options["METHOD"] = "GCP_TPS"
    else:
        dem = str(height.dem) if height.dem is not None else None
        placed = rpc_georeferencing(height.metres, dem, height.why)
        source_crs, target_crs = CRS.from_epsg(4326), utm_zone(rpcs.long_off, rpcs.lat_off)
        options = {"rpcs": rpcs}
        if dem is not None:
            options.update(RPC_DEM=dem, RPC_DEMINTERPOLATION="bilinear")
            if height.metres is not None:
                options["RPC_DEM_MISSING_VALUE"] = str(height.metres)
        else:
            options["RPC_HEIGHT"] = str(placed.height_m)
    handle, scratch_name = tempfile.mkstemp(prefix=".warp-", suffix=".tif", dir=scratch)
    os.close(handle)
    target = Path(scratch_name)
    try:
        try:
            _warp(src, target, source_crs, target_crs, options)
        except (RasterioError, OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise UnreadableImage(
                f"{name} could not be warped north-up by its {placed.method.upper()} model "
                f"({first})"
            ) from exc
        with rasterio.open(target, driver="GTiff") as warped:
            yield warped, placed
    finally:
        target.unlink(missing_ok=True)


def utm_zone(longitude: float, latitude: float) -> CRS:
    if abs(latitude) > 84:
        return CRS.from_epsg(4326)
    zone = min(60, max(1, int((longitude + 180) // 6) + 1))
    return CRS.from_epsg((32600 if latitude >= 0 else 32700) + zone)


def _warp(
    src: Any, target: Path, source_crs: CRS, target_crs: CRS, options: dict[str, Any]
) -> None:
    transform, width, height = calculate_default_transform(
        source_crs, target_crs, src.width, src.height, **options
    )
    flags = src.mask_flag_enums[0]
    interp = list(src.colorinterp)
    bands = list(range(1, src.count + 1))
    extra: dict[str, Any] = {}
    count = src.count
    if MaskFlags.nodata in flags:
        extra = {"src_nodata": src.nodata, "dst_nodata": src.nodata}
    elif ColorInterp.alpha in interp:
        alpha = interp.index(ColorInterp.alpha) + 1
        extra = {"src_alpha": alpha, "dst_alpha": alpha}
    else:
        count += 1  # an alpha band: transparent outside the image
        interp.append(ColorInterp.alpha)
        extra = {"dst_alpha": count}
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": src.dtypes[0],
        "crs": target_crs,
        "transform": transform,
        "nodata": src.nodata if MaskFlags.nodata in flags else None,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "ZSTD",
        "BIGTIFF": "IF_SAFER",
    }
    warp_bands = [b for b in bands if interp[b - 1] != ColorInterp.alpha] or bands
    with rasterio.open(target, "w", **profile) as out:
        out.colorinterp = interp
        reproject(
            rasterio.band(src, warp_bands),
            rasterio.band(out, warp_bands),
            src_crs=source_crs,
            dst_crs=target_crs,
            dst_transform=transform,
            # a palette's indices are not numbers to blend
            resampling=Resampling.nearest
            if interp[0] == ColorInterp.palette
            else Resampling.bilinear,
            warp_mem_limit=WARP_MEMORY_MB,
            **extra,
            **options,
        )
