"""Ingest: any georeferenced GeoTIFF becomes a described, content-addressed COG."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import Point, shape

from imagery.errors import (
    ImageTooLarge,
    NotAGeoTIFF,
    NotGeoreferenced,
    UnreadableImage,
)
from imagery.ingest import ingest, sha256_file

SHARED = {
    "RGB.byte.tif": {"crs": "EPSG:32618", "size": (791, 718), "bands": 3, "dtype": "uint8"},
    "201404_13SED190110_201404_0x1500m_CL_1.tif": {
        "crs": "EPSG:26913",
        "size": (383, 232),
        "bands": 3,
        "dtype": "uint8",
    },
    "sample_geotiff.tif": {"crs": "EPSG:32616", "size": (900, 900), "bands": 1, "dtype": "uint16"},
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_rasters_become_valid_cogs(shared_data: Path, tmp_path: Path, name: str) -> None:
    expected = SHARED[name]
    facts = ingest(shared_data / name, tmp_path / "store")
    assert facts.cog_path == tmp_path / "store" / f"{sha256_file(shared_data / name)}.tif"
    valid, errors, _warnings = cog_validate(str(facts.cog_path), quiet=True)
    assert valid, errors
    assert facts.crs == expected["crs"]
    assert (facts.width, facts.height) == expected["size"]
    assert facts.band_count == expected["bands"]
    assert facts.dtype == expected["dtype"]
    with rasterio.open(facts.cog_path) as cog, rasterio.open(shared_data / name) as original:
        assert cog.crs == original.crs
        assert cog.transform.almost_equals(original.transform)
        window = rasterio.windows.Window(100, 100, 64, 64)
        assert np.array_equal(cog.read(window=window), original.read(window=window))
        if max(cog.width, cog.height) > 512:
            assert cog.overviews(1), "larger images get internal overviews"


def test_footprint_follows_valid_pixels_and_is_densified(shared_data: Path, tmp_path: Path) -> None:
    facts = ingest(shared_data / "RGB.byte.tif", tmp_path)
    footprint = shape(facts.footprint)
    assert footprint.geom_type == "Polygon"
    assert footprint.exterior.is_ccw
    assert len(footprint.exterior.coords) > 5, "densified, not just four corners"
    # the scene's nodata collar is cut off: the footprint is smaller than the full extent
    with rasterio.open(shared_data / "RGB.byte.tif") as src:
        to_wgs = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        corner = to_wgs.transform(src.bounds.left + 300, src.bounds.top - 300)
        inside = src.xy(359, 395)
        centre = to_wgs.transform(*inside)
    assert not footprint.contains(Point(corner)), "the nodata corner is outside the footprint"
    assert footprint.contains(Point(centre))
    assert 24.0 < footprint.centroid.y < 25.2 and -78.5 < footprint.centroid.x < -77.0


def test_gsd_and_stretch(shared_data: Path, tmp_path: Path) -> None:
    atlanta = ingest(shared_data / "sample_geotiff.tif", tmp_path)
    assert atlanta.gsd_m == pytest.approx(0.5, abs=0.01)
    assert atlanta.display.bands == (1,)
    assert atlanta.display.rescale is not None
    low, high = atlanta.display.rescale[0]
    with rasterio.open(shared_data / "sample_geotiff.tif") as src:
        values = src.read(1, masked=True).compressed()
    assert low == pytest.approx(np.percentile(values, 2), rel=0.05)
    assert high == pytest.approx(np.percentile(values, 98), rel=0.05)
    aerial = ingest(shared_data / "201404_13SED190110_201404_0x1500m_CL_1.tif", tmp_path)
    assert aerial.gsd_m == pytest.approx(0.15, abs=0.001)
    assert aerial.display.rescale is None, "8-bit data is shown as it is"


def test_geographic_crs_gets_a_geodesic_gsd(
    make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    path = make_geotiff(crs="EPSG:4326", transform=from_origin(35.94, 35.41, 0.00001, 0.00001))
    facts = ingest(path, tmp_path / "store")
    # 1e-5 degree is ~1.11 m north-south and ~0.91 m east-west at 35.4 N
    assert 0.9 < facts.gsd_m < 1.12
    assert facts.bounds[0] == pytest.approx(35.94, abs=1e-4)


def test_capture_time_from_tags_then_option_then_unknown(
    make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    tagged = make_geotiff("tagged.tif", tags={"TIFFTAG_DATETIME": "2024:12:13 08:21:00"})
    facts = ingest(tagged, tmp_path / "a", captured=datetime(2020, 1, 1, tzinfo=UTC))
    assert facts.captured_at == datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    assert facts.captured_source == "tiff-tag"
    plain = make_geotiff("plain.tif")
    given = ingest(
        plain,
        tmp_path / "b",
        captured=datetime(2024, 12, 10, 9, tzinfo=timezone(timedelta(hours=2))),
    )
    assert given.captured_at == datetime(2024, 12, 10, 7, 0, tzinfo=UTC)
    assert given.captured_source == "user"
    unknown = ingest(plain, tmp_path / "c")
    assert unknown.captured_at is None and unknown.captured_source == "unknown"


def test_float_nodata_and_alpha_and_internal_mask(
    make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    floats = rng.normal(100, 20, (1, 200, 200)).astype("float32")
    floats[:, :, :100] = -9999
    path = make_geotiff("float.tif", data=floats, nodata=-9999)
    facts = ingest(path, tmp_path / "f")
    assert facts.dtype == "float32" and facts.mask == "nodata"
    assert facts.display.rescale is not None
    low, high = facts.display.rescale[0]
    assert 40 < low < 100 < high < 160, "the stretch ignores nodata"
    with rasterio.open(path) as src:
        to_wgs = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        middle_lon = to_wgs.transform(*src.xy(100, 100, offset="ul"))[0]
        left_lon = to_wgs.transform(src.bounds.left, src.bounds.top)[0]
    west = shape(facts.footprint).bounds[0]
    assert west == pytest.approx(middle_lon, abs=5e-5), "the nodata left half is cut off"
    assert west > left_lon + 1e-4

    rgba = rng.integers(1, 255, (4, 200, 200), dtype=np.uint8)
    rgba[3] = 255
    rgba[3, :100, :] = 0
    alpha = make_geotiff("alpha.tif", data=rgba, photometric="RGB", alpha="YES")
    facts = ingest(alpha, tmp_path / "a")
    assert facts.mask == "alpha"
    assert facts.display.bands == (1, 2, 3)
    with rasterio.open(alpha) as src:
        cut_lat = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(
            *src.xy(100, 100, offset="ul")
        )[1]
    north = shape(facts.footprint).bounds[3]
    assert north == pytest.approx(cut_lat, abs=5e-5), "the transparent top half is cut off"

    masked_path = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(
        masked_path, "w", driver="GTiff", count=3, width=200, height=200, dtype="uint8",
        crs="EPSG:32636", transform=from_origin(790000, 3922000, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write(rng.integers(1, 255, (3, 200, 200), dtype=np.uint8))
        mask = np.full((200, 200), 255, dtype=np.uint8)
        mask[:, 150:] = 0
        dst.write_mask(mask)
    facts = ingest(masked_path, tmp_path / "m")
    assert facts.mask == "mask"
    with rasterio.open(masked_path) as src:
        to_wgs = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        cut_lon = to_wgs.transform(*src.xy(100, 150, offset="ul"))[0]
    assert shape(facts.footprint).bounds[2] == pytest.approx(cut_lon, abs=5e-5)


def test_rotated_geotransform_is_warped_to_the_right_place(tmp_path: Path) -> None:
    """A north-up copy of a rotated image: a marked pixel stays at its map position."""
    data = np.full((1, 200, 200), 50, dtype=np.uint8)
    data[0, 40:44, 150:154] = 250  # a bright 4x4 marker
    rotation = Affine.translation(790000, 3922000) @ Affine.rotation(20) @ Affine.scale(1, -1)
    path = tmp_path / "rotated.tif"
    with rasterio.open(
        path, "w", driver="GTiff", count=1, width=200, height=200, dtype="uint8",
        crs="EPSG:32636", transform=rotation,
    ) as dst:  # fmt: skip
        dst.write(data)
    marker_x, marker_y = rotation @ (152, 42)
    facts = ingest(path, tmp_path / "store")
    assert facts.warped
    with rasterio.open(facts.cog_path) as cog:
        assert cog.transform.b == 0 and cog.transform.d == 0
        row, col = cog.index(marker_x, marker_y)
        assert cog.read(1)[row, col] == 250
        # and the marker is not smeared across the image
        assert (cog.read(1) == 250).sum() < 40


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)), "not a TIFF"),
        (b"<!doctype html><html><body>Not found</body></html>", "not a TIFF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a TIFF"),
        (
            b'<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand band="1">'
            b"<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
            b"</VRTRasterBand></VRTDataset>",
            "not a TIFF",
        ),
    ],
    ids=["empty", "random", "html", "png", "vrt-disguised"],
)
def test_not_a_geotiff_is_refused_and_nothing_is_stored(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "upload.tif"
    path.write_bytes(content)
    store = tmp_path / "store"
    with pytest.raises(NotAGeoTIFF, match=message):
        ingest(path, store)
    assert list(store.iterdir()) == []


def test_truncated_geotiff_is_refused(make_geotiff: Callable[..., Path], tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    path = make_geotiff("whole.tif", data=rng.integers(0, 255, (3, 1024, 1024), dtype=np.uint8))
    cut = tmp_path / "cut.tif"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with rasterio.open(cut):
        pass  # the header still opens
    store = tmp_path / "store"
    with pytest.raises(UnreadableImage, match="truncated or corrupt"):
        ingest(cut, store)
    assert list(store.iterdir()) == []


def test_no_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    with rasterio.open(
        path, "w", driver="GTiff", count=1, width=20, height=20, dtype="uint8",
        transform=from_origin(790000, 3922000, 0.5, 0.5),
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 20, 20), dtype=np.uint8))
    with pytest.raises(NotGeoreferenced, match="no coordinate reference system"):
        ingest(path, tmp_path / "store")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_identity_transform_is_refused_never_placed_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "identity.tif"
    with rasterio.open(
        path, "w", driver="GTiff", count=1, width=20, height=20, dtype="uint8",
        crs="EPSG:4326", transform=Affine.identity(),
    ) as dst:  # fmt: skip
        dst.write(np.ones((1, 20, 20), dtype=np.uint8))
    with pytest.raises(NotGeoreferenced, match="no geotransform"):
        ingest(path, tmp_path / "store")


BOMB_SCRIPT = """
import json, sys
from pathlib import Path
from imagery.ingest import ingest
from imagery.errors import ImageTooLarge
try:
    ingest(Path(sys.argv[1]), Path(sys.argv[2]))
    outcome = "accepted"
except ImageTooLarge as exc:
    outcome = str(exc)
# VmHWM is this process's own peak (ru_maxrss would include the forking parent's)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"outcome": outcome, "peak_kb": peak}))
"""


def test_decompression_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tif"
    with rasterio.open(
        path, "w", driver="GTiff", count=3, width=100_000, height=100_000, dtype="uint8",
        crs="EPSG:32636", transform=from_origin(790000, 3922000, 0.5, 0.5),
        tiled=True, compress="deflate", sparse_ok=True,
    ):  # fmt: skip
        pass
    assert path.stat().st_size < 50_000_000, "a sparse header, not real pixels"
    with pytest.raises(ImageTooLarge, match="100000 x 100000"):
        ingest(path, tmp_path / "store")
    # in a fresh process, to see the peak memory of the refusal itself
    result = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT, str(path), str(tmp_path / "store2")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert "over the limit" in report["outcome"]
    assert report["peak_kb"] < 400_000, "refused without reading pixels into memory"
    assert list((tmp_path / "store").iterdir()) == []


def test_same_file_gives_same_address(make_geotiff: Callable[..., Path], tmp_path: Path) -> None:
    path = make_geotiff()
    first = ingest(path, tmp_path / "store")
    second = ingest(path, tmp_path / "store")
    assert first.cog_path == second.cog_path
    assert len(list((tmp_path / "store").iterdir())) == 1
