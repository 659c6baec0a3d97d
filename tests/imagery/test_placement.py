"""Every class of real file is placed right or refused in one line (issue 12, item 5).

For each class a small file is made here with rasterio, ingested through `ingest`, and its
footprint compared with GDAL's own reprojection of the valid pixels: the dataset mask is
warped (rasterio.warp.reproject, nearest) onto a grid in a Lambert azimuthal equal-area
projection centred on the image, polygonised, and compared in metres. An equal-area plane
centred on the image has no seam at 180 degrees and no singular pole, so the same test
holds for scenes across the antimeridian, around a pole or on a geostationary disk.

Tolerances: the footprint is simplified by one sample pixel and GDAL's raster reference has
a staircase of one grid cell (400 cells across the image, finer than its pixels), so the
two outlines may differ by about a source pixel: the symmetric difference is held under
1 % of the area, and the Hausdorff distance under 1.5 source pixels (under one reference
cell, 1/400 of the disk, for the geostationary view, whose pixels at the limb cover far more
ground than at nadir).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
import rasterio.warp
import shapely
from morecantile import tms as tile_matrix_sets
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from imagery.errors import NotGeoreferenced, UnsupportedImage
from imagery.footprint import rfc7946_bbox
from imagery.ingest import ImageFacts, ingest
from imagery.tiles import TileRenderer, TileSource, thumbnail

MERCATOR = tile_matrix_sets.get("WebMercatorQuad")
GEOS = "+proj=geos +h=35785831 +lon_0=0 +datum=WGS84 +units=m +no_defs"


def blocks(height: int, width: int, size: int = 10, seed: int = 1) -> np.ndarray[Any, Any]:
    """One band of `size`-pixel squares of random values 1..254: a tile pixel a little off
    the exact source pixel still reads the same value."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 255, (-(-height // size), -(-width // size)), dtype=np.uint8)
    return np.kron(coarse, np.ones((size, size), dtype=np.uint8))[None, :height, :width]


def write(path: Path, crs: str, transform: Any, data: np.ndarray[Any, Any], **kw: Any) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        count=data.shape[0],
        height=data.shape[1],
        width=data.shape[2],
        dtype=str(data.dtype),
        crs=crs,
        transform=transform,
        **kw,
    ) as dataset:
        dataset.write(data)
    return path


def gdal_outline(path: Path, footprint: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """(ours, GDAL's), both in metres on an equal-area plane centred on the image."""
    west, south, east, north = rfc7946_bbox(footprint)
    lon0 = (west + (east - west) % 360 / 2 + 180) % 360 - 180
    lat0 = 90.0 if north == 90 else -90.0 if south == -90 else (south + north) / 2
    plane = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", plane, always_xy=True)
    ours = shapely.transform(
        shapely.segmentize(footprint, 0.05),
        lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])),
    )
    ours = shapely.union_all(shapely.buffer(shapely.get_parts(ours), 1.0))  # join the cut
    left, bottom, right, top = ours.bounds
    cell = max(right - left, top - bottom) / 400
    pad = 0.2 * (right - left + top - bottom)
    grid = from_origin(left - pad, top + pad, cell, cell)
    warped = np.zeros(
        (int((top - bottom + 2 * pad) / cell), int((right - left + 2 * pad) / cell)), np.uint8
    )
    # GDAL as it reads the file on its own, sidecars (.msk) included: the app's set-up (an earlier
    # test in this process) tells GDAL not to list folders, which would hide the .msk from it
    with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="FALSE"), rasterio.open(path) as src:
        rasterio.warp.reproject(
            src.dataset_mask(),
            warped,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=grid,
            dst_crs=plane,
            resampling=rasterio.warp.Resampling.nearest,
            src_nodata=0,
            dst_nodata=0,
        )
    theirs = shapely.union_all(
        [shape(g) for g, v in rasterio.features.shapes(warped, mask=warped > 0, transform=grid)]
    )
    return ours, theirs


def assert_placed_like_gdal(path: Path, facts: ImageFacts, pixel_m: float) -> None:
    ours, theirs = gdal_outline(path, shape(facts.footprint))
    assert ours.symmetric_difference(theirs).area / theirs.area < 0.01
    assert ours.hausdorff_distance(theirs) < 1.5 * pixel_m


def tile_value(
    renderer: TileRenderer, facts: ImageFacts, lon: float, lat: float, zoom: int
) -> np.ndarray[Any, Any]:
    """The rendered pixel (RGBA, or grey + alpha) at lon/lat in the tile holding it."""
    tile = MERCATOR.tile(lon, lat, zoom)
    west, south, east, north = MERCATOR.xy_bounds(tile)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    col, row = int((x - west) / (east - west) * 256), int((north - y) / (north - south) * 256)
    png = renderer.tile(TileSource(str(facts.cog_path), facts.display), zoom, tile.x, tile.y, "png")
    pixels = np.asarray(Image.open(io.BytesIO(png)))
    value: np.ndarray[Any, Any] = np.atleast_1d(pixels[row, col])
    return value


def source_value(path: Path, lon: float, lat: float) -> int:
    with rasterio.open(path) as src:
        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        if src.crs.is_geographic:  # round to within 180 degrees of the image's middle
            middle = (src.bounds.left + src.bounds.right) / 2
            x = middle + (x - middle + 180.0) % 360.0 - 180.0
        row, col = src.index(x, y)
        return int(src.read(1)[row, col])


@pytest.fixture(scope="module")
def renderer() -> Any:
    tiles = TileRenderer()
    yield tiles
    tiles.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("placement")


ANTIMERIDIAN = {
    # UTM zone 60 south over Fiji: 780..880 km east reaches past 180 degrees
    "utm-zone-60": ("EPSG:32760", from_origin(780000, 8150000, 500, 500), (100, 200), 500.0),
    # a longitude/latitude grid from 179.5 to 180.5 east
    "lonlat-179.5-180.5": ("EPSG:4326", from_origin(179.5, -16.0, 0.01, 0.01), (50, 100), 1070),
    # written west of -180: -190..-170
    "lonlat-past-minus-180": ("EPSG:4326", from_origin(-190, 10, 0.1, 0.1), (50, 200), 11000),
}


@pytest.mark.parametrize("kind", sorted(ANTIMERIDIAN))
def test_across_the_antimeridian_split_at_180_with_tiles_on_both_sides(
    folder: Path, renderer: TileRenderer, kind: str
) -> None:
    crs, transform, size, pixel_m = ANTIMERIDIAN[kind]
    path = write(folder / f"{kind}.tif", crs, transform, blocks(*size))
    facts = ingest(path, folder / "store")
    footprint = shape(facts.footprint)
    assert footprint.geom_type == "MultiPolygon" and len(footprint.geoms) == 2
    sides = sorted(part.bounds for part in footprint.geoms)
    assert sides[1][2] == 180.0 and sides[0][0] == -180.0
    west, _south, east, _north = rfc7946_bbox(footprint)
    assert west > east, "RFC 7946: a box across the antimeridian has west > east"
    assert_placed_like_gdal(path, facts, pixel_m)
    # the middles of the blocks of the middle row nearest 180 degrees, one on each side
    with rasterio.open(path) as src:
        to_lonlat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        row = (size[0] // 20) * 10 + 5
        middles = [to_lonlat.transform(*src.xy(row, col)) for col in range(5, size[1], 10)]
    middles = [((lon + 180.0) % 360.0 - 180.0, lat) for lon, lat in middles]
    east_side = max((p for p in middles if p[0] > 0), key=lambda p: p[0])
    west_side = min((p for p in middles if p[0] < 0), key=lambda p: p[0])
    for lon, lat in (east_side, west_side):
        assert tile_value(renderer, facts, lon, lat, 9)[0] == source_value(path, lon, lat)


def test_longitudes_0_to_360_are_normalised_with_their_tiles(
    folder: Path, renderer: TileRenderer
) -> None:
    path = write(folder / "global.tif", "EPSG:4326", from_origin(0, 90, 2, 2), blocks(90, 180, 5))
    facts = ingest(path, folder / "store")
    footprint = shape(facts.footprint)
    assert footprint.bounds == (-180.0, -90.0, 180.0, 90.0)
    with rasterio.open(path) as src:  # GDAL's own: the mask warped to -180..180
        warped = np.zeros((90, 180), np.uint8)
        rasterio.warp.reproject(
            src.dataset_mask(),
            warped,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=from_origin(-180, 90, 2, 2),
            dst_crs="EPSG:4326",
        )
    assert footprint.area == pytest.approx(360 * 180 * (warped > 0).mean(), rel=0.01)
    for lon, lat in ((-100.3, 40.7), (100.3, -40.7), (-1.1, 1.1), (179.1, 0.3)):
        assert tile_value(renderer, facts, lon, lat, 3)[0] == source_value(path, lon, lat)


POLAR_AND_DISK = {
    # polar stereographic north (NSIDC sea ice) around the pole, and south (Antarctic)
    "epsg-3413-over-the-pole": ("EPSG:3413", from_origin(-1e6, 1e6, 1e4, 1e4), (200, 200), 1e4),
    "epsg-3031-over-the-pole": ("EPSG:3031", from_origin(-1e6, 1e6, 1e4, 1e4), (200, 200), 1e4),
    "epsg-3031-off-the-pole": ("EPSG:3031", from_origin(5e5, 1.5e6, 1e4, 1e4), (100, 100), 1e4),
    # a geostationary full disk at 50 km: the corners are off the Earth
    "geostationary-full-disk": (GEOS, from_origin(-5.5e6, 5.5e6, 5e4, 5e4), (220, 220), 4e4),
}


@pytest.mark.parametrize("kind", sorted(POLAR_AND_DISK))
def test_polar_and_geostationary_follow_the_valid_pixels(
    folder: Path, renderer: TileRenderer, kind: str
) -> None:
    crs, transform, size, pixel_m = POLAR_AND_DISK[kind]
    path = write(folder / f"{kind}.tif", crs, transform, blocks(*size))
    facts = ingest(path, folder / "store")
    footprint = shape(facts.footprint)
    coordinates = shapely.get_coordinates(footprint)
    assert np.isfinite(coordinates).all() and footprint.is_valid
    if "over-the-pole" in kind:  # closed along the pole, not cut into a sliver
        assert footprint.bounds[0] == -180 and footprint.bounds[2] == 180
        assert 90.0 in np.abs(coordinates[:, 1])
    assert_placed_like_gdal(path, facts, pixel_m)
    if kind.startswith("geostationary"):
        assert footprint.bounds[2] == pytest.approx(81.3, abs=0.1)  # the limb, not the corners
        png = renderer.tile(TileSource(str(facts.cog_path), facts.display), 2, 0, 0, "png")
        assert np.asarray(Image.open(io.BytesIO(png)))[..., -1].max() == 0  # off the disk
    with rasterio.open(path) as src:  # the middle of a block a quarter of the way in
        quarter = (size[0] // 40) * 10 + 5, (size[1] // 40) * 10 + 5
        lon, lat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(
            *src.xy(*quarter)
        )
    assert tile_value(renderer, facts, lon, lat, 7)[0] == source_value(path, lon, lat)


def test_us_survey_feet_are_placed_in_feet(folder: Path) -> None:
    # California zone 3 (EPSG:2227) in US survey feet, 100 ft pixels over San Francisco
    path = write(
        folder / "ftus.tif", "EPSG:2227", from_origin(6.0e6, 2.15e6, 100, 100), blocks(100, 100)
    )
    facts = ingest(path, folder / "store")
    assert facts.gsd_m == pytest.approx(100 * 1200 / 3937, abs=1e-4)
    assert_placed_like_gdal(path, facts, 30.5)
    lon, lat = shape(facts.footprint).centroid.coords[0]
    assert -122.5 < lon < -122.4 and 37.8 < lat < 37.9


@pytest.mark.parametrize(
    ("crs", "body"), [("IAU_2015:49900", "Mars"), ("IAU_2015:30100", "the Moon")]
)
def test_other_bodies_are_refused_naming_the_body(folder: Path, crs: str, body: str) -> None:
    path = write(folder / "elsewhere.tif", crs, from_origin(10, 10, 0.1, 0.1), blocks(10, 10))
    with pytest.raises(UnsupportedImage) as refused:
        ingest(path, folder / "elsewhere")
    message = str(refused.value)
    assert f"elsewhere.tif is on {body}, not Earth" in message and "\n" not in message
    assert not (folder / "elsewhere").exists() or not list((folder / "elsewhere").iterdir())


def test_grids_wider_than_the_world_are_refused(folder: Path) -> None:
    path = write(folder / "wide.tif", "EPSG:4326", from_origin(-200, 10, 2, 2), blocks(5, 300))
    with pytest.raises(NotGeoreferenced, match="600 degrees: more than the whole world"):
        ingest(path, folder / "wide")


def test_colour_tables_render_in_their_colours_and_stay_in_the_cog(
    folder: Path, renderer: TileRenderer
) -> None:
    table = {0: (0, 0, 0, 255), 1: (220, 30, 30, 255), 2: (30, 200, 40, 255), 3: (20, 40, 230, 255)}
    indices = np.zeros((1, 64, 64), np.uint8)
    indices[0, :, :16], indices[0, :, 16:32], indices[0, :, 32:48] = 1, 2, 3  # 48.. nodata
    path = folder / "palette.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        count=1,
        height=64,
        width=64,
        dtype="uint8",
        crs="EPSG:32636",
        transform=from_origin(790000, 3922000, 10, 10),
        photometric="palette",
        nodata=0,
    ) as dataset:
        dataset.write(indices)
        dataset.write_colormap(1, table)
    facts = ingest(path, folder / "store")
    with rasterio.open(facts.cog_path) as cog:
        assert cog.colormap(1)[1] == table[1] and cog.colormap(1)[3] == table[3]
    assert facts.display.rescale is None
    to_lonlat = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)
    for column, index in ((8, 1), (24, 2), (40, 3)):
        lon, lat = to_lonlat.transform(790000 + 10 * column + 5, 3922000 - 325)
        assert tuple(tile_value(renderer, facts, lon, lat, 17))[:3] == table[index][:3]
    lon, lat = to_lonlat.transform(790000 + 10 * 56 + 5, 3922000 - 325)
    assert tile_value(renderer, facts, lon, lat, 17)[3] == 0  # nodata: transparent
    small = np.asarray(
        Image.open(io.BytesIO(thumbnail(TileSource(str(facts.cog_path), facts.display))))
    )
    assert small.shape[2] == 4 and tuple(small[32, 8]) == table[1]


@pytest.mark.parametrize("kind", ["nbits-1", "values-0-1", "values-0-15"])
def test_one_bit_and_low_range_data_are_stretched_to_be_seen(
    folder: Path, renderer: TileRenderer, kind: str
) -> None:
    top = 15 if kind == "values-0-15" else 1
    data = (blocks(64, 64, 8) % (top + 1)).astype(np.uint8)
    extra = {"nbits": 1} if kind == "nbits-1" else {}
    path = write(
        folder / f"{kind}.tif", "EPSG:32636", from_origin(790000, 3922000, 10, 10), data, **extra
    )
    facts = ingest(path, folder / "store")
    if kind == "nbits-1":  # GDAL reads 1-bit pixels with a black and white colour table
        assert facts.display.rescale is None
        with rasterio.open(facts.cog_path) as cog:
            assert cog.colormap(1)[1][:3] == (255, 255, 255)
    else:
        assert facts.display.rescale == ((0.0, float(top)),)
    to_lonlat = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)
    seen = set()
    for row in range(4, 64, 8):
        for column in range(4, 64, 8):
            lon, lat = to_lonlat.transform(790000 + 10 * column + 5, 3922000 - 10 * row - 5)
            grey = int(tile_value(renderer, facts, lon, lat, 17)[0])
            assert grey == round(255 * int(data[0, row, column]) / top)
            seen.add(grey)
    assert max(seen) == 255, "the top value shows white, not near black"


def test_external_msk_masks_are_honoured(folder: Path, renderer: TileRenderer) -> None:
    path = folder / "external.tif"
    with (
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False),
        rasterio.open(
            path,
            "w",
            driver="GTiff",
            count=1,
            height=100,
            width=100,
            dtype="uint8",
            crs="EPSG:32636",
            transform=from_origin(790000, 3922000, 10, 10),
        ) as dataset,
    ):
        dataset.write(blocks(100, 100))
        mask = np.full((100, 100), 255, np.uint8)
        mask[:, 60:] = 0
        dataset.write_mask(mask)
    assert Path(f"{path}.msk").exists(), "the mask is a .msk sidecar beside the image"
    facts = ingest(path, folder / "store")
    assert facts.mask == "mask"
    assert_placed_like_gdal(path, facts, 10.0)
    to_lonlat = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)
    inside = to_lonlat.transform(790000 + 305, 3922000 - 505)
    outside = to_lonlat.transform(790000 + 805, 3922000 - 505)
    assert shape(facts.footprint).bounds[2] < outside[0]
    assert tile_value(renderer, facts, *inside, 16)[-1] == 255
    assert tile_value(renderer, facts, *outside, 16)[-1] == 0, "outside the mask: transparent"


def test_pixels_far_outside_the_crs_area_of_use_are_left_out(folder: Path) -> None:
    # UTM zone 33 north is for 12..18 degrees east; this grid runs 3,000 km east of it
    path = write(
        folder / "far-east.tif", "EPSG:32633", from_origin(5e5, 5.1e6, 3e4, 3e4), blocks(10, 100)
    )
    facts = ingest(path, folder / "store")
    west, _south, east, _north = shape(facts.footprint).bounds
    assert west == pytest.approx(15.0, abs=0.01)
    assert 28 - 0.5 < east < 28 + 0.5, "18 degrees east and 10 degrees of slack"
