"""Georeferencing models: rotated and sheared geotransforms, GCP-only and RPC-only images
are warped north-up, placed where GDAL's own warp puts them, and say how they were placed.

Tolerances: the footprint is traced on the valid pixels of the COG and simplified to one
pixel, so it may differ from GDAL's own warp of the source's valid pixels by a pixel or two
along its edge: 3 % of the area (a 200-pixel image has about 800 edge pixels, 2 % of its
40,000) and two pixels of distance. A marker pixel warped with bilinear resampling lands
within a pixel of where the model puts it; we allow two.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import rasterio.features
import shapely
from affine import Affine
from PIL import Image as PILImage
from pyproj import Geod, Transformer
from rasterio.control import GroundControlPoint
from rasterio.errors import NotGeoreferencedWarning
from rasterio.rpc import RPC
from rasterio.vrt import WarpedVRT
from shapely.geometry import shape

from imagery.errors import NotGeoreferenced
from imagery.georef.models import gcp_order
from imagery.georef.warp import Height
from imagery.ingest import ImageFacts, ingest
from imagery.tiles import TileRenderer, TileSource

GEOD = Geod(ellps="WGS84")
SIZE = 200


def scene(bands: int = 3) -> np.ndarray[Any, Any]:
    """A textured image with no zero pixel (so nothing inside it reads as outside)."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    band = (40 + (rows * 3 + cols * 5) % 200).astype("uint8")
    data = np.stack([band] * bands)
    data[:, 40:44, 150:154] = 250  # a bright 4 x 4 marker
    return data


def write(path: Path, data: np.ndarray[Any, Any], **profile: Any) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        count=data.shape[0],
        width=data.shape[2],
        height=data.shape[1],
        dtype=data.dtype,
        **profile,
    ) as dst:
        dst.write(data)
    return path


def gdal_footprint(path: Path) -> shapely.Geometry:
    """GDAL's own warp of the source's valid pixels into WGS 84, traced."""
    with rasterio.open(path) as src, WarpedVRT(src, crs="EPSG:4326", add_alpha=True) as vrt:
        alpha = vrt.read(vrt.count)
        shapes = rasterio.features.shapes(
            (alpha > 0).astype("uint8"), mask=alpha > 0, transform=vrt.transform
        )
        return shapely.union_all([shape(g) for g, v in shapes if v])


def same_place(facts: ImageFacts, expected: shapely.Geometry, pixel_m: float) -> None:
    footprint = shape(facts.footprint)
    assert footprint.is_valid
    assert footprint.symmetric_difference(expected).area / expected.area < 0.03
    # Hausdorff distance in degrees to metres at this latitude (a few metres apart)
    lat = footprint.centroid.y
    metres_per_degree = GEOD.inv(0, lat, 1, lat)[2]
    assert footprint.hausdorff_distance(expected) * metres_per_degree < 2.5 * pixel_m


def marker_at(cog: Path, x: float, y: float, crs: str = "", tolerance_px: int = 2) -> None:
    with rasterio.open(cog) as dataset:
        if crs:
            x, y = Transformer.from_crs(crs, dataset.crs, always_xy=True).transform(x, y)
        row, col = dataset.index(x, y)
        window = dataset.read(1)[
            row - tolerance_px : row + tolerance_px + 1, col - tolerance_px : col + tolerance_px + 1
        ]
        assert (window >= 200).any(), f"no marker near {x}, {y}"


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def pixel_lonlat(zoom: int, x: int, y: int, px: float, py: float) -> tuple[float, float]:
    n = 2**zoom
    lon = (x + px / 256) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / 256) / n))))
    return lon, lat


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("georef")


@pytest.fixture(scope="module")
def rotated(folder: Path) -> tuple[Path, ImageFacts]:
    transform = Affine.translation(790000, 3922000) @ Affine.rotation(30) @ Affine.scale(2, -2)
    path = write(folder / "rotated.tif", scene(), crs="EPSG:32636", transform=transform)
    return path, ingest(path, folder / "store")


def test_rotated_30_degrees_is_placed_as_gdal_warps_it(rotated: tuple[Path, ImageFacts]) -> None:
    path, facts = rotated
    assert facts.warped
    assert facts.georeferencing["method"] == "rotated"
    assert facts.georeferencing["text"] == "rotated geotransform, warped north-up"
    same_place(facts, gdal_footprint(path), pixel_m=2)
    transform = Affine.translation(790000, 3922000) @ Affine.rotation(30) @ Affine.scale(2, -2)
    marker_at(facts.cog_path, *(transform @ (152, 42)))
    with rasterio.open(facts.cog_path) as cog:
        assert cog.transform.b == 0 and cog.transform.d == 0
        assert facts.mask == "alpha"
        assert cog.dataset_mask()[0, 0] == 0  # a corner outside the rotated image


def test_rotated_outside_is_transparent_in_a_rendered_tile(
    rotated: tuple[Path, ImageFacts],
) -> None:
    _, facts = rotated
    footprint = shape(facts.footprint)
    centre = footprint.centroid
    zoom = 14  # a tile of about 2 km: the whole 400 m image and what is around it
    x, y = tile_of(centre.x, centre.y, zoom)
    png = TileRenderer().tile(TileSource(str(facts.cog_path), facts.display), zoom, x, y, "png")
    alpha = np.asarray(PILImage.open(io.BytesIO(png)).convert("RGBA"))[:, :, 3]
    lat = centre.y
    pixel_deg = 2.5 * 2 / GEOD.inv(0, lat, 1, lat)[2]  # 2.5 image pixels, in degrees
    inside = footprint.buffer(-pixel_deg)
    outside = footprint.buffer(pixel_deg)
    checked = {"inside": 0, "outside": 0}
    for py in range(0, 256, 4):
        for px in range(0, 256, 4):
            point = shapely.Point(pixel_lonlat(zoom, x, y, px + 0.5, py + 0.5))
            if inside.contains(point):
                assert alpha[py, px] == 255
                checked["inside"] += 1
            elif not outside.contains(point):
                assert alpha[py, px] == 0
                checked["outside"] += 1
    assert checked["inside"] > 50 and checked["outside"] > 50


def test_sheared_geotransform_is_warped_north_up(folder: Path) -> None:
    transform = Affine(2.0, 0.8, 600000, 0.3, -2.0, 5000000)
    path = write(folder / "sheared.tif", scene(1), crs="EPSG:32633", transform=transform)
    facts = ingest(path, folder / "store")
    assert facts.georeferencing["method"] == "sheared"
    same_place(facts, gdal_footprint(path), pixel_m=2)
    marker_at(facts.cog_path, *(transform @ (152, 42)))


# ground control points from a known placement, in UTM zone 33 north, 2 m pixels
def truth(col: float, row: float) -> tuple[float, float]:
    """A slightly curved mapping (as a scan of a map is): order 2 fits it, order 1 nearly."""
    u, v = col / SIZE, row / SIZE
    return 500000 + 2 * col + 6 * u * v, 4000000 - 2 * row + 4 * u * u


def gcp_image(folder: Path, name: str, points: list[tuple[float, float]], noise_m: float) -> Path:
    rng = np.random.default_rng(7)
    gcps = []
    for col, row in points:
        x, y = truth(col, row)
        dx, dy = rng.normal(0, noise_m, 2) if noise_m else (0.0, 0.0)
        gcps.append(GroundControlPoint(row=row, col=col, x=x + dx, y=y + dy))
    return write(folder / name, scene(1), gcps=gcps, crs="EPSG:32633")


def truth_footprint() -> shapely.Geometry:
    edge = np.linspace(0, SIZE, 41)
    ring = (
        [(c, 0.0) for c in edge]
        + [(float(SIZE), r) for r in edge[1:]]
        + [(c, float(SIZE)) for c in edge[::-1][1:]]
        + [(0.0, r) for r in edge[::-1][1:]]
    )
    to_wgs84 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    return shapely.Polygon([to_wgs84.transform(*truth(c, r)) for c, r in ring])


def test_three_gcps_give_a_first_order_polynomial(folder: Path) -> None:
    path = gcp_image(folder, "gcp3.tif", [(0, 0), (SIZE, 0), (0, SIZE)], noise_m=0)
    facts = ingest(path, folder / "store")
    placed = facts.georeferencing
    assert placed["method"] == "gcp-polynomial" and placed["order"] == "1"
    # three points: the affine passes through them all
    assert placed["text"] == "GCP polynomial 1, RMS 0 m (3 points)"
    assert facts.warped
    # the curve of the truth (up to 6 m at the far corner) is what order 1 cannot follow
    same_place(facts, truth_footprint(), pixel_m=4)
    marker_at(facts.cog_path, *truth(152, 42), tolerance_px=3)


def test_ten_gcps_give_a_second_order_polynomial_with_its_rms(folder: Path) -> None:
    points = [(c, r) for c in (0, 100, 200) for r in (0, 100, 200)] + [(50, 150)]
    path = gcp_image(folder, "gcp10.tif", points, noise_m=1.0)
    facts = ingest(path, folder / "store")
    placed = facts.georeferencing
    assert placed["method"] == "gcp-polynomial" and placed["order"] == "2"
    assert placed["points"] == "10"
    rms = float(placed["rms_m"])
    # 1 m of noise on each axis, 6 of the 10 degrees of freedom used by the fit
    assert 0.2 < rms < 1.5
    assert placed["text"] == f"GCP polynomial 2, RMS {rms:g} m (10 points)"
    same_place(facts, truth_footprint(), pixel_m=2)
    marker_at(facts.cog_path, *truth(152, 42))
    with rasterio.open(facts.cog_path) as cog:
        assert cog.crs.to_epsg() == 32633


def test_gcp_rule_by_point_count() -> None:
    assert [gcp_order(n, "x") for n in (3, 9, 10, 19, 20, 39, 40, 500)] == [1, 1, 2, 2, 3, 3, 0, 0]
    with pytest.raises(NotGeoreferenced, match="2 ground control points; at least 3"):
        gcp_order(2, "x")


def test_many_gcps_use_a_thin_plate_spline(folder: Path) -> None:
    points = [(c, r) for c in range(0, 201, 25) for r in range(0, 201, 40)]  # 54 points
    facts = ingest(gcp_image(folder, "gcp54.tif", points, noise_m=0), folder / "store")
    assert facts.georeferencing["method"] == "gcp-tps"
    assert facts.georeferencing["text"].startswith("GCP thin plate spline, exact at its 54 points")
    same_place(facts, truth_footprint(), pixel_m=2)


def test_two_gcps_are_refused_in_one_line(folder: Path) -> None:
    path = gcp_image(folder, "gcp2.tif", [(0, 0), (SIZE, SIZE)], noise_m=0)
    with pytest.raises(NotGeoreferenced, match=r"gcp2\.tif has 2 ground control points") as info:
        ingest(path, folder / "store2")
    assert "\n" not in str(info.value)
    assert not list((folder / "store2").iterdir())


# an RPC model: samples follow longitude, lines latitude, and the height moves samples east
def rpc_model() -> RPC:
    zero = [0.0] * 20
    samp = list(zero)
    samp[1], samp[3] = 1.0, 0.1  # L (longitude), H (height)
    line = list(zero)
    line[2] = -1.0  # P (latitude)
    one = [1.0] + [0.0] * 19
    return RPC(
        height_off=100,
        height_scale=500,
        lat_off=45.0,
        lat_scale=0.009,
        line_den_coeff=one,
        line_num_coeff=line,
        line_off=100,
        line_scale=100,
        long_off=10.0,
        long_scale=0.0127,
        samp_den_coeff=one,
        samp_num_coeff=samp,
        samp_off=100,
        samp_scale=100,
    )


def rpc_truth(col: float, row: float, height: float) -> tuple[float, float]:
    model = rpc_model()
    h = (height - model.height_off) / model.height_scale
    lon_n = (col - model.samp_off) / model.samp_scale - 0.1 * h
    lat_n = -(row - model.line_off) / model.line_scale
    return model.long_off + lon_n * model.long_scale, model.lat_off + lat_n * model.lat_scale


def rpc_footprint(height: float) -> shapely.Geometry:
    return shapely.Polygon(
        [rpc_truth(c, r, height) for c, r in ((0, 0), (SIZE, 0), (SIZE, SIZE), (0, SIZE))]
    )


def nitf(folder: Path, name: str, **options: str) -> Path:
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy

    with MemoryFile() as memory:
        with memory.open(
            driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint8", rpcs=rpc_model()
        ) as dataset:
            dataset.write(scene(1))
        with memory.open() as dataset:
            copy(dataset, folder / name, driver="NITF", **options)
    return folder / name


@pytest.mark.parametrize("height", [0.0, 600.0])
def test_rpc_only_nitf_is_orthorectified_at_a_constant_height(folder: Path, height: float) -> None:
    path = nitf(folder, f"rpc{height:g}.ntf")
    facts = ingest(path, folder / f"store-rpc{height:g}", height=Height(metres=height))
    assert facts.georeferencing["method"] == "rpc"
    assert facts.georeferencing["text"] == f"RPC, constant height {height:g} m"
    # about 10 m pixels (0.0127 degrees of longitude over 100 samples at 45 degrees)
    same_place(facts, rpc_footprint(height), pixel_m=10)
    with rasterio.open(facts.cog_path) as cog:
        assert cog.crs.to_epsg() == 32632  # the UTM zone of 10 degrees east
    marker_at(facts.cog_path, *rpc_truth(152, 42, height), crs="EPSG:4326")


def test_rpc_on_a_dem(folder: Path) -> None:
    dem = np.full((1, 50, 50), 600, dtype="float32")
    dem_path = write(
        folder / "dem.tif",
        dem,
        crs="EPSG:4326",
        transform=Affine.translation(9.9, 45.1) * Affine.scale(0.004, -0.004),
    )
    path = nitf(folder, "rpc-dem.ntf")
    facts = ingest(path, folder / "store-dem", height=Height(dem=dem_path))
    assert facts.georeferencing["text"] == "RPC, on the deployment's DEM"
    same_place(facts, rpc_footprint(600), pixel_m=10)  # where a height of 600 m puts it


def test_rpc_sidecar_places_a_plain_tiff(folder: Path) -> None:
    sub = folder / "sidecar"
    sub.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        path = write(sub / "scene.tif", scene(1))
    model = rpc_model().to_gdal()
    lines = []
    for key, value in model.items():
        parts = str(value).split()
        if len(parts) == 1:
            lines.append(f"{key}: {float(parts[0]):+.6f}")
        else:
            lines += [f"{key}_{i}: {float(v):+.12E}" for i, v in enumerate(parts, 1)]
    (sub / "scene_rpc.txt").write_text("\n".join(lines) + "\n")
    facts = ingest(path, folder / "store-side", height=Height(metres=100))
    assert facts.georeferencing["text"] == "RPC, constant height 100 m"
    same_place(facts, rpc_footprint(100), pixel_m=10)
