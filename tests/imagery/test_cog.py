"""imagery/cog.py: rio-cogeo is handed a source itself where the WarpedVRT it asks for would
change nothing, and the COG it writes is then the one it writes through the VRT, pixel for
pixel at every level, with the same profile, colours, nodata and masks. Sources the warper
does change (an alpha band, an internal mask, GCPs, a VRT) still go through it. Real
GeoTIFFs written here, one per class of file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.enums import ColorInterp
from rasterio.vrt import WarpedVRT

import imagery.cog
from imagery.cog import is_identity, write_cog
from tests.conftest import write_geotiff

RNG = np.random.default_rng(11)
RGB = RNG.integers(1, 255, (3, 300, 400), dtype=np.uint8)


def _nodata_uint16() -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
    data = RNG.integers(1, 4000, (2, 300, 400), dtype=np.uint16)
    data[:, :50, :] = 0
    return data, {"nodata": 0}


def _float_nan() -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
    data = RNG.normal(0, 1, (1, 300, 400)).astype("float32")
    data[0, 100:140, 100:180] = np.nan
    return data, {"nodata": float("nan")}


CLASSES: dict[str, tuple[np.ndarray[Any, Any], dict[str, Any], bool]] = {
    # name: (pixels, profile, read straight without a VRT)
    "rgb": (RGB, {}, True),
    "striped": (RGB, {"tiled": False, "blockysize": 1}, True),
    "nodata-uint16": (*_nodata_uint16(), True),
    "float-nan": (*_float_nan(), True),
    "palette": (RNG.integers(0, 4, (1, 300, 400), dtype=np.uint8), {"palette": True}, True),
    "alpha": (
        np.concatenate([RGB, np.where(RNG.random((1, 300, 400)) > 0.3, 255, 0)]).astype("uint8"),
        {"photometric": "RGB", "ALPHA": "YES"},
        False,
    ),
    "mask": (RGB, {"mask": True}, False),
}


def _write(folder: Path, name: str) -> Path:
    data, profile, _ = CLASSES[name]
    path = folder / f"{name}.tif"
    options = {k: v for k, v in profile.items() if k not in ("palette", "mask")}
    write_geotiff(path, data, None, **options)
    with rasterio.open(path, "r+") as dataset:
        if profile.get("palette"):
            dataset.write_colormap(1, {0: (0, 0, 0, 255), 1: (200, 30, 30, 255),
                                       2: (30, 200, 30, 255), 3: (30, 30, 200, 255)})  # fmt: skip
        if profile.get("mask"):
            valid = np.full((300, 400), 255, dtype=np.uint8)
            valid[200:, 300:] = 0
            dataset.write_mask(valid)
    return path


def _levels(path: Path) -> list[dict[str, Any]]:
    """Everything a reader sees of a COG, at full size and at each overview level."""
    with rasterio.open(path) as cog:
        head = {
            "profile": {k: v for k, v in cog.profile.items() if k != "nodata"},
            "nodata": str(cog.nodata),
            "colorinterp": cog.colorinterp,
            "overviews": cog.overviews(1),
            "masks": [flags for flags in cog.mask_flag_enums],
            "colormap": cog.colormap(1) if cog.colorinterp[0] is ColorInterp.palette else None,
        }
        levels = len(cog.overviews(1))
    seen = [head]
    for level in [None, *range(levels)]:
        with rasterio.open(path, overview_level=level) as cog:
            seen.append({"pixels": cog.read(), "mask": cog.dataset_mask()})
    return seen


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_cog_is_the_one_written_through_the_vrt(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path, name)
    made: list[dict[str, Any]] = []

    def counted(dataset: Any, **params: Any) -> WarpedVRT:
        made.append(params)
        return WarpedVRT(dataset, **params)

    from rio_cogeo import cogeo

    monkeypatch.setattr(cogeo, "WarpedVRT", cogeo.WarpedVRT)  # put back after the test
    monkeypatch.setattr(imagery.cog, "WarpedVRT", counted)
    with rasterio.open(source) as dataset:
        write_cog(dataset, tmp_path / "ours.tif")
    assert (made == []) is CLASSES[name][2], made  # read straight, or warped as it must be
    monkeypatch.setattr(imagery.cog, "is_identity", lambda *_: False)  # rio-cogeo's own way
    with rasterio.open(source) as dataset:
        write_cog(dataset, tmp_path / "theirs.tif")
    assert made != []

    ours, theirs = _levels(tmp_path / "ours.tif"), _levels(tmp_path / "theirs.tif")
    assert ours[0] == theirs[0]
    assert len(ours) == len(theirs) > 2  # full size and overviews
    for mine, rio_cogeo in zip(ours[1:], theirs[1:], strict=True):
        np.testing.assert_array_equal(mine["pixels"], rio_cogeo["pixels"])
        np.testing.assert_array_equal(mine["mask"], rio_cogeo["mask"])


def test_only_a_vrt_that_changes_nothing_is_skipped(
    make_geotiff: Callable[..., Path],
) -> None:
    same = {"dtype": "uint8", "width": 400, "height": 300, "resampling": 0, "add_alpha": False}
    gcps = [GroundControlPoint(row, col, 33.0 + col / 1e4, 35.0 - row / 1e4)
            for row, col in ((0, 0), (0, 399), (299, 0), (299, 399))]  # fmt: skip
    with rasterio.open(make_geotiff()) as dataset:
        assert is_identity(dataset, same)
        assert is_identity(dataset, {**same, "nodata": None, "src_nodata": None})
        assert not is_identity(dataset, {**same, "add_alpha": True})
        assert not is_identity(dataset, {**same, "width": 200})
        assert not is_identity(dataset, {**same, "dtype": "uint16"})
        assert not is_identity(dataset, {**same, "nodata": 0, "src_nodata": 0})
        assert not is_identity(dataset, {**same, "crs": "EPSG:4326"})
        with WarpedVRT(dataset) as vrt:
            assert not is_identity(vrt, same)
    placed_by_gcps = make_geotiff("gcps.tif", gcps=gcps, crs="EPSG:4326", transform=None)
    with rasterio.open(placed_by_gcps) as placed:
        assert not is_identity(placed, same)
