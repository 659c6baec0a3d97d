"""Write a Cloud-Optimized GeoTIFF with rio-cogeo, in the store's profile.

rio-cogeo reads every source through a GDAL WarpedVRT, even one it leaves on its own grid:
GDAL's warper then copies each pixel to where it already is, and on a plain scene that copy
is a quarter of the whole write (4.6-6.8 s of 21 s for a 12,000 x 12,000 RGB scene, on one
core while the other waits; docs/benchmarks.md). Where rio-cogeo asks for such an identity
VRT (same size, same data type, no CRS, transform, GCPs or alpha band added), it is handed
the dataset itself: the same pixels, read straight. Everything else still goes through a
real WarpedVRT, and a source that is itself a VRT (a rotated or moved image) is warped as
before.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.vrt import WarpedVRT

#: Internal tile size of stored COGs, the size of a map tile.
BLOCK_SIZE = 256
#: the WarpedVRT parameters that leave a dataset's pixels where and what they are, when
#: width, height and data type are its own (rio-cogeo 7 passes these for a plain source)
_IDENTITY = {"dtype", "width", "height", "resampling", "nodata", "src_nodata", "add_alpha"}


def write_cog(
    source: rasterio.DatasetReader | WarpedVRT,
    destination: Path,
    overviews: Literal["average", "nearest"] = "average",
) -> None:
    from rio_cogeo import cogeo  # when first used: it loads morecantile's models
    from rio_cogeo.profiles import cog_profiles

    # rio-cogeo names WarpedVRT in its module: that name is this choice from now on
    cogeo.WarpedVRT = WarpedOrItself
    # ZSTD in 256-pixel blocks: a tile touches few small blocks, and ZSTD inflates several
    # times faster than DEFLATE (measured in docs/benchmarks.md); lossless either way.
    profile = dict(cog_profiles.get("deflate"))
    profile.update(compress="ZSTD", zstd_level=9, blockxsize=BLOCK_SIZE, blockysize=BLOCK_SIZE)
    profile["predictor"] = 2 if np.dtype(source.dtypes[0]).kind in "iu" else 3
    profile["BIGTIFF"] = "IF_SAFER"
    cogeo.cog_translate(
        source,
        str(destination),
        profile,
        overview_resampling=overviews,
        in_memory=False,
        quiet=True,
        use_cog_driver=False,
        config={"GDAL_NUM_THREADS": "ALL_CPUS", "GDAL_TIFF_OVR_BLOCKSIZE": str(BLOCK_SIZE)},
    )


class _Choosing(type):
    """rio-cogeo both calls `WarpedVRT(...)` and checks `isinstance(source, WarpedVRT)`: the
    call chooses, the check stays GDAL's class."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, rasterio.vrt.WarpedVRT)

    def __call__(cls, dataset: Any, **params: Any) -> Any:
        if is_identity(dataset, params):
            return contextlib.nullcontext(dataset)  # left open: its owner closes it
        return WarpedVRT(dataset, **params)


class WarpedOrItself(metaclass=_Choosing):
    """What rio-cogeo gets for `WarpedVRT(dataset, **params)`: the dataset itself when the
    VRT would change nothing, else the WarpedVRT."""


def is_identity(dataset: Any, params: dict[str, Any]) -> bool:
    """Whether a WarpedVRT of `dataset` with `params` would give back its very pixels:
    a plain dataset (not itself a VRT), no GCPs, no alpha band (the warper would blank what
    lies under its transparent pixels), every band of the one data type asked for, the same
    size, no alpha band added and the same nodata (a pixel read onto its own place is
    itself, nodata or not)."""
    if isinstance(dataset, rasterio.vrt.WarpedVRT):
        return False
    if not isinstance(dataset, rasterio.io.DatasetReader):
        return False
    if set(params) - _IDENTITY or params.get("add_alpha", False) or dataset.gcps[0]:
        return False
    if ColorInterp.alpha in dataset.colorinterp:
        return False
    nodata = params.get("nodata", dataset.nodata)
    return (
        params.get("width") == dataset.width
        and params.get("height") == dataset.height
        and set(dataset.dtypes) == {params.get("dtype", dataset.dtypes[0])}
        and _same(nodata, dataset.nodata)
        and _same(params.get("src_nodata", dataset.nodata), dataset.nodata)
    )


def _same(one: float | None, other: float | None) -> bool:
    """Equal nodata values, NaN being equal to NaN."""
    if one is None or other is None:
        return one is other
    return one == other or (math.isnan(one) and math.isnan(other))
