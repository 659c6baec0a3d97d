"""The synthetic Hmeimim demo scene: files, georeference, labels and the aircraft drawn."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from PIL import Image, TiffImagePlugin
from pyproj import Geod, Transformer
from rasterio.enums import ColorInterp, Compression
from rasterio.windows import Window

from annotator.demo.scene import (
    DEMO_CAPTURES,
    SYNTHETIC_NOTE,
    DemoAircraft,
    DemoCapture,
    aoi_polygon,
    runway_reference,
    write_demo_scene,
)

GEOD = Geod(ellps="WGS84")
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32636", always_xy=True)
TO_WGS84 = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)
SIZES = {"an-124": (68.96, 73.3), "il-76": (46.6, 50.5), "fighter": (22.0, 14.7)}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoCapture, ...]:
    return write_demo_scene(tmp_path_factory.mktemp("demo"))


def all_aircraft(scene: tuple[DemoCapture, ...]) -> list[tuple[DemoCapture, DemoAircraft]]:
    return [(capture, plane) for capture in scene for plane in capture.aircraft]


def is_aircraft_colour(rgb: np.ndarray) -> np.ndarray:
    """Light grey or white paint: every channel bright and nearly no colour."""
    rgb = rgb.astype(np.int32)
    return (rgb.min(axis=0) >= 190) & (rgb.max(axis=0) - rgb.min(axis=0) <= 30)


def pixel_at(dataset: rasterio.DatasetReader, lon: float, lat: float) -> np.ndarray:
    x, y = TO_UTM.transform(lon, lat)
    row, col = dataset.index(x, y)
    return dataset.read(window=Window(col, row, 1, 1))[:, 0, 0]


def offset(lon: float, lat: float, azimuth: float, distance: float) -> tuple[float, float]:
    end_lon, end_lat, _ = GEOD.fwd(lon, lat, azimuth % 360.0, distance)
    return end_lon, end_lat


def box_corners(plane: DemoAircraft) -> list[tuple[float, float]]:
    """Corners of the length x span box, lon/lat."""
    corners = []
    for along, across in ((1, 1), (1, -1), (-1, -1), (-1, 1)):
        lon, lat = offset(plane.lon, plane.lat, plane.heading_deg, along * plane.length_m / 2)
        corners.append(offset(lon, lat, plane.heading_deg + 90, across * plane.span_m / 2))
    return corners


def mean_background(dataset: rasterio.DatasetReader) -> np.ndarray:
    small = dataset.read(out_shape=(3, dataset.height // 16, dataset.width // 16))
    return small.reshape(3, -1).mean(axis=1)


def test_one_geotiff_per_date(scene: tuple[DemoCapture, ...]) -> None:
    assert len(scene) == 2
    assert tuple(capture.date for capture in scene) == DEMO_CAPTURES == ("2024-12-10", "2024-12-13")
    for capture in scene:
        assert capture.path.is_file()
        assert capture.path.name == f"hmeimim-synthetic-{capture.date}.tif"


def test_georeference_and_layout(scene: tuple[DemoCapture, ...]) -> None:
    ref_x, ref_y = TO_UTM.transform(*runway_reference())
    for capture in scene:
        with rasterio.open(capture.path) as dataset:
            assert dataset.driver == "GTiff"
            assert dataset.crs.to_epsg() == 32636
            assert dataset.res == (0.5, 0.5)
            assert dataset.transform.b == dataset.transform.d == 0
            assert dataset.transform.e < 0
            assert (dataset.width, dataset.height) == (3200, 6400)
            assert dataset.count == 3
            assert dataset.dtypes == ("uint8", "uint8", "uint8")
            assert dataset.colorinterp == (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
            assert dataset.compression == Compression.deflate
            assert dataset.block_shapes == [(512, 512)] * 3
            left, bottom, right, top = dataset.bounds
            assert abs((left + right) / 2 - ref_x) < 5
            assert abs((bottom + top) / 2 - ref_y) < 5
        with Image.open(capture.path) as tiff:  # rasterio reports photometric only for JPEG
            assert isinstance(tiff, TiffImagePlugin.TiffImageFile)
            assert tiff.tag_v2[262] == 2  # PhotometricInterpretation = RGB


def test_tags_say_synthetic(scene: tuple[DemoCapture, ...]) -> None:
    for capture in scene:
        with rasterio.open(capture.path) as dataset:
            tags = dataset.tags()
        taken = datetime.strptime(tags["TIFFTAG_DATETIME"], "%Y:%m:%d %H:%M:%S")
        assert taken == datetime.fromisoformat(f"{capture.date}T08:21:00")
        assert tags["TIFFTAG_IMAGEDESCRIPTION"] == SYNTHETIC_NOTE
        assert "synthetic" in SYNTHETIC_NOTE
        assert tags["ANNOTATOR_SYNTHETIC"] == "yes"
        assert tags["TIFFTAG_SOFTWARE"] == "annotator demo"


def test_an_124s_only_on_the_13th(scene: tuple[DemoCapture, ...]) -> None:
    kinds = {capture.date: Counter(p.kind for p in capture.aircraft) for capture in scene}
    assert kinds["2024-12-10"] == {"il-76": 3, "fighter": 4}
    assert kinds["2024-12-13"] == {"an-124": 2, "il-76": 3, "fighter": 4}
    for _, plane in all_aircraft(scene):
        assert (plane.length_m, plane.span_m) == SIZES[plane.kind]
        assert plane.nose_open == (plane.kind == "an-124")


def test_il_76s_stay_and_at_most_one_fighter_moves(scene: tuple[DemoCapture, ...]) -> None:
    first, second = ({p for p in capture.aircraft if p.kind != "an-124"} for capture in scene)
    assert {p for p in first if p.kind == "il-76"} == {p for p in second if p.kind == "il-76"}
    assert len({p for p in first if p.kind == "fighter"} - second) <= 1
    assert len({p.heading_deg for p in second}) >= 3


def test_aircraft_inside_image_and_aoi(scene: tuple[DemoCapture, ...]) -> None:
    aoi = aoi_polygon()
    for capture, plane in all_aircraft(scene):
        with rasterio.open(capture.path) as dataset:
            left, bottom, right, top = dataset.bounds
        for lon, lat in [(plane.lon, plane.lat), *box_corners(plane)]:
            x, y = TO_UTM.transform(lon, lat)
            assert left < x < right and bottom < y < top
            assert aoi.contains(shapely.Point(lon, lat))


def test_aircraft_do_not_overlap(scene: tuple[DemoCapture, ...]) -> None:
    for capture in scene:
        boxes = [
            shapely.Polygon([TO_UTM.transform(*corner) for corner in box_corners(plane)])
            for plane in capture.aircraft
        ]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a.distance(b) > 10.0


def test_aoi_polygon() -> None:
    aoi = aoi_polygon()
    assert aoi.is_valid
    assert aoi.exterior.is_ccw
    assert aoi.contains(shapely.Point(*runway_reference()))
    west, south, east, north = aoi.bounds
    lon, lat = runway_reference()
    north_south = GEOD.inv(lon, south, lon, north)[2]
    east_west = GEOD.inv(west, lat, east, lat)[2]
    assert 3800 < north_south < 4300
    assert 2300 < east_west < 2800


def test_image_lies_inside_the_aoi(scene: tuple[DemoCapture, ...]) -> None:
    with rasterio.open(scene[0].path) as dataset:
        left, bottom, right, top = dataset.bounds
    corners = [(left, bottom), (right, bottom), (right, top), (left, top)]
    footprint = shapely.Polygon([TO_WGS84.transform(x, y) for x, y in corners])
    assert aoi_polygon().contains(footprint)


def test_silhouette_is_drawn_at_each_centre(scene: tuple[DemoCapture, ...]) -> None:
    for capture in scene:
        with rasterio.open(capture.path) as dataset:
            background = mean_background(dataset)
            for plane in capture.aircraft:
                centre = pixel_at(dataset, plane.lon, plane.lat)
                assert np.linalg.norm(centre - background) > 40, plane
                assert is_aircraft_colour(centre[:, None])[0], (plane, centre)


def test_nothing_drawn_beyond_the_wingtips(scene: tuple[DemoCapture, ...]) -> None:
    for capture in scene:
        with rasterio.open(capture.path) as dataset:
            for plane in capture.aircraft:
                for side in (90.0, -90.0):
                    lon, lat = offset(
                        plane.lon, plane.lat, plane.heading_deg + side, plane.span_m / 2 + 10
                    )
                    value = pixel_at(dataset, lon, lat)
                    assert not is_aircraft_colour(value[:, None])[0], (plane, side, value)


def test_silhouette_fills_its_length_and_span(scene: tuple[DemoCapture, ...]) -> None:
    """Aircraft-coloured pixels near each centre reach the wingtips, the tail and the nose."""
    for capture in scene:
        with rasterio.open(capture.path) as dataset:
            for plane in capture.aircraft:
                along, across = painted_extent(dataset, plane)
                assert across.max() == pytest.approx(plane.span_m / 2, abs=0.75), plane
                assert across.min() == pytest.approx(-plane.span_m / 2, abs=0.75), plane
                assert along.min() == pytest.approx(-plane.length_m / 2, abs=1.0), plane
                assert along.max() <= plane.length_m / 2 + 1.0, plane
                # an open nose is painted darker over its front 6 m
                reach = 7.5 if plane.nose_open else 1.0
                assert along.max() >= plane.length_m / 2 - reach, plane


def painted_extent(
    dataset: rasterio.DatasetReader, plane: DemoAircraft
) -> tuple[np.ndarray, np.ndarray]:
    """(along, across) metres of aircraft-coloured pixels within the box plus 5 m."""
    radius = math.hypot(plane.length_m, plane.span_m) / 2 + 5
    x, y = TO_UTM.transform(plane.lon, plane.lat)
    row, col = dataset.index(x, y)
    half = math.ceil(radius / 0.5)
    window = Window(col - half, row - half, 2 * half + 1, 2 * half + 1)
    rgb = dataset.read(window=window)
    rows, cols = np.mgrid[row - half : row + half + 1, col - half : col + half + 1]
    xs, ys = dataset.transform * (cols + 0.5, rows + 0.5)
    lons, lats = TO_WGS84.transform(xs.ravel(), ys.ravel())
    azimuth, _, distance = GEOD.inv(
        np.full(lons.shape, plane.lon), np.full(lats.shape, plane.lat), lons, lats
    )
    angle = np.radians(azimuth - plane.heading_deg)
    along = (distance * np.cos(angle)).reshape(rows.shape)
    across = (distance * np.sin(angle)).reshape(rows.shape)
    inside = (np.abs(along) <= plane.length_m / 2 + 5) & (np.abs(across) <= plane.span_m / 2 + 5)
    painted = is_aircraft_colour(rgb) & inside
    assert painted.sum() > 50
    return along[painted], across[painted]


def test_open_nose_shows_a_dark_ramp(scene: tuple[DemoCapture, ...]) -> None:
    capture = scene[DEMO_CAPTURES.index("2024-12-13")]
    with rasterio.open(capture.path) as dataset:
        for plane in (p for p in capture.aircraft if p.nose_open):
            lon, lat = offset(plane.lon, plane.lat, plane.heading_deg, plane.length_m / 2 + 4)
            ramp = pixel_at(dataset, lon, lat)
            lon, lat = offset(plane.lon, plane.lat, plane.heading_deg, plane.length_m / 2 - 3)
            visor = pixel_at(dataset, lon, lat)
            assert ramp.mean() < 120, ramp
            assert not is_aircraft_colour(visor[:, None])[0], visor


def test_output_is_deterministic(scene: tuple[DemoCapture, ...], tmp_path: Path) -> None:
    again = write_demo_scene(tmp_path)
    assert [c.aircraft for c in again] == [c.aircraft for c in scene]
    for first, second in zip(scene, again, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes()
