"""Tiles land on the right place, show masks as transparency, and match rio-tiler."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import rasterio
from morecantile import tms as tile_matrix_sets
from PIL import Image
from pyproj import Transformer
from rio_tiler.io import Reader

from imagery.display import Display
from imagery.errors import BadTileAddress, TileOutsideImage
from imagery.ingest import ImageFacts, ingest
from imagery.tiles import TileRenderer, TileSource, thumbnail, tileset_info

MERCATOR = tile_matrix_sets.get("WebMercatorQuad")


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.fixture
def renderer() -> TileRenderer:
    tiles = TileRenderer()
    yield tiles
    tiles.close()


def source_of(facts: ImageFacts) -> TileSource:
    return TileSource(str(facts.cog_path), facts.display)


def tile_pixel(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """The tile holding lon/lat at zoom z, and the pixel inside it."""
    tile = MERCATOR.tile(lon, lat, z)
    bounds = MERCATOR.xy_bounds(tile)
    mx, my = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    size = (bounds.right - bounds.left) / 256
    return tile.x, tile.y, int((mx - bounds.left) / size), int((bounds.top - my) / size)


@pytest.mark.parametrize(
    ("name", "zoom"),
    [("RGB.byte.tif", 13), ("201404_13SED190110_201404_0x1500m_CL_1.tif", 22)],
)
def test_a_known_pixel_shows_in_the_right_tile_at_the_right_place(
    shared_data: Path, tmp_path: Path, renderer: TileRenderer, name: str, zoom: int
) -> None:
    """At a zoom where one source pixel covers several tile pixels, the tile pixel at a
    source pixel's centre must carry that source pixel's colour."""
    facts = ingest(shared_data / name, tmp_path)
    source = source_of(facts)
    rng = np.random.default_rng(11)
    checked = 0
    with rasterio.open(shared_data / name) as original:
        to_wgs = Transformer.from_crs(original.crs, "EPSG:4326", always_xy=True)
        data = original.read()
        for _ in range(60):
            row = int(rng.integers(5, original.height - 5))
            col = int(rng.integers(5, original.width - 5))
            if not data[:, row, col].any():
                continue  # nodata
            lon, lat = to_wgs.transform(*original.xy(row, col))
            x, y, px, py = tile_pixel(lon, lat, zoom)
            pixels = decode(renderer.tile(source, zoom, x, y, "png"))
            assert tuple(pixels[py, px][:3]) == tuple(data[:, row, col]), (row, col)
            checked += 1
    assert checked >= 30


def test_nodata_is_transparent_in_png_and_webp(
    shared_data: Path, tmp_path: Path, renderer: TileRenderer
) -> None:
    facts = ingest(shared_data / "RGB.byte.tif", tmp_path)
    rng = np.random.default_rng(4)
    seen = {True: 0, False: 0}
    with rasterio.open(shared_data / "RGB.byte.tif") as src:
        to_wgs = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        valid = src.read().any(axis=0)
        while min(seen.values()) < 8:
            row = int(rng.integers(2, src.height - 2))
            col = int(rng.integers(2, src.width - 2))
            around = valid[row - 1 : row + 2, col - 1 : col + 2]
            if around.all() != around.any():
                continue  # on the edge of the collar
            lon, lat = to_wgs.transform(*src.xy(row, col))
            x, y, px, py = tile_pixel(lon, lat, 11)
            for fmt in ("png", "webp"):
                pixels = decode(renderer.tile(source_of(facts), 11, x, y, fmt))
                alpha = pixels[py, px, 3] if pixels.shape[2] == 4 else 255
                assert alpha == (255 if valid[row, col] else 0), (fmt, row, col)
            seen[bool(valid[row, col])] += 1
            jpeg = decode(renderer.tile(source_of(facts), 11, x, y, "jpg"))
            assert jpeg.shape == (256, 256, 3)


def test_16_bit_uses_the_stored_stretch(
    shared_data: Path, tmp_path: Path, renderer: TileRenderer
) -> None:
    facts = ingest(shared_data / "sample_geotiff.tif", tmp_path)
    west, south, east, north = facts.bounds
    tile = MERCATOR.tile((west + east) / 2, (south + north) / 2, 18)
    gray = decode(renderer.tile(source_of(facts), 18, tile.x, tile.y, "png"))
    values = gray[..., 0][gray[..., 1] == 255] if gray.ndim == 3 else gray.ravel()
    # a 2-98 % stretch spreads the 16-bit values over the 8-bit range, not a cast
    assert values.min() < 40 and values.max() > 215
    assert 60 < values.mean() < 200


def test_fast_reads_match_rio_tiler(tmp_path: Path, renderer: TileRenderer) -> None:
    """Our overview-aware reader agrees with rio-tiler's warped read pixel for pixel."""
    rng = np.random.default_rng(2)
    smooth = np.add.outer(np.arange(3000), np.arange(3000)) % 251
    data = np.stack([smooth, smooth.T, rng.integers(0, 255, (3000, 3000))]).astype(np.uint8)
    path = tmp_path / "big.tif"
    profile = {
        "driver": "GTiff", "count": 3, "width": 3000, "height": 3000, "dtype": "uint8",
        "crs": "EPSG:32636", "tiled": True, "compress": "deflate",
        "transform": rasterio.transform.from_origin(790000, 3922000, 0.5, 0.5),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    facts = ingest(path, tmp_path / "store")
    source = source_of(facts)
    agreement = []
    with Reader(str(facts.cog_path)) as reader:
        for z in (15, 17, 19):
            for tile in list(MERCATOR.tiles(*facts.bounds, zooms=[z]))[1:4]:
                theirs = reader.tile(tile.x, tile.y, z, resampling_method="nearest")
                ours = decode(renderer.tile(source, z, tile.x, tile.y, "png"))
                both = (theirs.mask > 0) & (ours[..., 3] > 0 if ours.shape[2] == 4 else True)
                assert both.sum() > 1000
                same = (np.moveaxis(theirs.array.data, 0, -1) == ours[..., :3]).all(axis=2)
                agreement.append(same[both].mean())
    assert min(agreement) > 0.98, agreement


def test_outside_and_bad_addresses(
    shared_data: Path, tmp_path: Path, renderer: TileRenderer
) -> None:
    facts = ingest(shared_data / "RGB.byte.tif", tmp_path)
    with pytest.raises(TileOutsideImage):
        renderer.tile(source_of(facts), 10, 0, 0, "png")
    for z, x, y in ((31, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, 8)):
        with pytest.raises(BadTileAddress):
            renderer.tile(source_of(facts), z, x, y, "png")
    with pytest.raises(BadTileAddress):
        renderer.tile(source_of(facts), 10, 282, 439, "gif")


def test_tileset_info_and_thumbnail(shared_data: Path, tmp_path: Path) -> None:
    facts = ingest(shared_data / "201404_13SED190110_201404_0x1500m_CL_1.tif", tmp_path)
    info = tileset_info(str(facts.cog_path))
    assert info.minzoom <= info.maxzoom
    assert info.maxzoom >= 19, "a 15 cm image is worth zooming into"
    assert info.bounds[0] == pytest.approx(facts.bounds[0], abs=1e-4)
    png = decode(thumbnail(TileSource(str(facts.cog_path), Display(bands=(1, 2, 3)))))
    assert max(png.shape[:2]) == 256
