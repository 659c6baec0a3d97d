"""Image chips: a grid covering the image, pixels read unresampled, WGS 84 placed in pixels."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image as PILImage
from pyproj import Transformer

from imagery.chips import ChipSource, ChipWindow, chip_grid
from imagery.display import Display

#: the `make_geotiff` default: EPSG:32636, top-left corner at (790000, 3922000), 0.5 m pixels
TO_LONLAT = Transformer.from_crs("EPSG:32636", "OGC:CRS84", always_xy=True)


def lonlat(col: float, row: float) -> tuple[float, float]:
    x, y = TO_LONLAT.transform(790000 + 0.5 * col, 3922000 - 0.5 * row)
    return float(x), float(y)


def test_chip_grid_covers_the_image_with_full_size_chips() -> None:
    grid = chip_grid(400, 300, 128, 32)
    assert sorted({w.column for w in grid}) == [0, 96, 192, 272]
    assert sorted({w.row for w in grid}) == [0, 96, 172]
    assert {(w.width, w.height) for w in grid} == {(128, 128)}
    assert shapely.union_all([w.box for w in grid]).equals(shapely.box(0, 0, 400, 300))
    assert chip_grid(100, 50, 128, 0) == [ChipWindow(0, 0, 100, 50)]
    assert len(chip_grid(512, 512, 512, 64)) == 1
    for size, overlap in ((16, 0), (128, 65), (128, -1), (5000, 0)):
        with pytest.raises(ValueError):
            chip_grid(400, 300, size, overlap)


def test_chips_are_the_images_own_pixels(make_geotiff: Callable[..., Path]) -> None:
    data = np.random.default_rng(5).integers(0, 255, (3, 300, 400), dtype=np.uint8)
    path = make_geotiff(data=data)
    with ChipSource(path, Display(bands=(1, 2, 3))) as source:
        assert (source.width, source.height) == (400, 300)
        png = source.png(ChipWindow(96, 172, 128, 128))
    pixels = np.asarray(PILImage.open(io.BytesIO(png)))
    assert np.array_equal(pixels, np.moveaxis(data[:, 172:300, 96:224], 0, -1))


def test_wgs84_geometries_land_on_their_pixels(make_geotiff: Callable[..., Path]) -> None:
    with ChipSource(make_geotiff(), Display(bands=(1, 2, 3))) as source:
        corner = source.to_pixels(shapely.Point(lonlat(0, 0)))
        assert (corner.x, corner.y) == pytest.approx((0, 0), abs=1e-6)
        square = shapely.Polygon([lonlat(c, r) for c, r in
                                  ((100, 100), (140, 100), (140, 120), (100, 120))])  # fmt: skip
        placed = source.to_pixels(square)
        assert placed.bounds == pytest.approx((100, 100, 140, 120), abs=1e-6)
        assert placed.area == pytest.approx(800, rel=1e-6)


def test_sixteen_bit_chips_use_the_stored_stretch(make_geotiff: Callable[..., Path]) -> None:
    data = np.full((1, 64, 64), 1000, dtype=np.uint16)
    data[0, :32] = 3000
    path = make_geotiff(data=data)
    with ChipSource(path, Display(bands=(1,), rescale=((1000.0, 3000.0),))) as source:
        pixels = np.asarray(PILImage.open(io.BytesIO(source.png(ChipWindow(0, 0, 64, 64)))))
    assert pixels.dtype == np.uint8
    assert set(np.unique(pixels[:32])) == {255} and set(np.unique(pixels[32:])) == {0}
