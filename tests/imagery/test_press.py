"""Press pictures placed by control points (imagery.press): accuracy against a known
capture, the numbers stated, and every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import Polygon, shape

from imagery.errors import ImageTooLarge
from imagery.ingest import ImageFacts, ingest
from imagery.press.fit import BadControlPoints, ControlPoint, fit, parse_points
from imagery.press.place import PLACEMENT_TAG, preview, write_placed
from imagery.press.read import NotAnImage, inspect
from tests.press_pictures import Press, capture, gps_exif, png_bomb, press_picture

NOISE_M = 1.5


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("press")


@pytest.fixture(scope="module")
def press(folder: Path) -> Press:
    return press_picture(capture(folder / "capture.tif"), folder / "press.jpg", exif=gps_exif())


@pytest.fixture(scope="module")
def placed(press: Press, folder: Path) -> tuple[ImageFacts, list[ControlPoint]]:
    points = parse_points(press.points(16, NOISE_M))
    fitted = fit(points, "affine", press.width, press.height)
    target = folder / "placed.tif"
    write_placed(press.path, "press.jpg", target, fitted, {"method": "affine"})
    return ingest(target, folder / "store", original_filename="press.jpg"), points


def test_footprint_matches_the_truth(press: Press, placed: tuple[ImageFacts, list]) -> None:
    facts, _ = placed
    corners = [(0, 0), (press.width, 0), (press.width, press.height), (0, press.height)]
    truth = Polygon([press.truth(c, r) for c, r in corners])
    found = shape(facts.footprint)
    iou = truth.intersection(found).area / truth.union(found).area
    assert iou >= 0.95, iou
    assert facts.georeferencing["method"] == "georeferenced"
    assert "placed by 16 control points (affine)" in facts.georeferencing["text"]


def test_pixels_match_the_capture_inside(
    press: Press, placed: tuple[ImageFacts, list], folder: Path
) -> None:
    facts, _ = placed
    rng = np.random.default_rng(5)
    # interior picture positions, away from the edges, the caption and the watermark
    positions = [
        (rng.uniform(0.25, 0.6) * press.width, rng.uniform(0.3, 0.7) * press.height)
        for _ in range(40)
    ]
    differences = []
    with rasterio.open(facts.cog_path) as cog, rasterio.open(folder / "capture.tif") as truth:
        for col, row in positions:
            lon, lat = press.truth(col, row)
            ours = np.array(next(cog.sample([(lon, lat)]))[:3], dtype=float)
            theirs = np.array(next(truth.sample([(lon, lat)])), dtype=float)
            differences.append(np.abs(ours - theirs).mean())
    assert np.median(differences) < 12, differences
    assert max(differences) < 40, differences


def test_rmse_reflects_the_known_noise(placed: tuple[ImageFacts, list], press: Press) -> None:
    _, points = placed
    fitted = fit(points, "affine", press.width, press.height)
    # 2-D noise of NOISE_M a side, less the 3 unknowns per axis the fit absorbs
    expected = NOISE_M * np.sqrt(2) * np.sqrt((len(points) - 3) / len(points))
    assert 0.5 * expected < fitted.rmse_m < 1.6 * expected, (fitted.rmse_m, expected)
    assert len(fitted.residuals_m) == 16
    assert fitted.worst == int(np.argmax(fitted.residuals_m))
    assert not fitted.warnings
    exact = parse_points(press.points(16, 0.0))
    assert fit(exact, "affine", press.width, press.height).rmse_m < 0.3


def test_nothing_personal_is_served(placed: tuple[ImageFacts, list], press: Press) -> None:
    facts, _ = placed
    assert b"Ana Author-Secret" in press.path.read_bytes()  # the original keeps it
    served = facts.cog_path.read_bytes()
    for secret in (b"Ana Author-Secret", b"SecretCam", b"Exif"):
        assert secret not in served
    with rasterio.open(facts.cog_path) as cog:
        tags = cog.tags()
    assert not [k for k in tags if "EXIF" in k.upper() or "GPS" in k.upper()]
    # the placement travels to the catalogue's row, from the GeoTIFF made for ingest
    assert json.loads(facts.tags[PLACEMENT_TAG]) == {"method": "affine"}


def test_other_methods_and_the_preview(press: Press) -> None:
    points = parse_points(press.points(12, NOISE_M))
    polynomial = fit(points, "polynomial", press.width, press.height)
    spline = fit(points, "tps", press.width, press.height)
    assert polynomial.rmse_m <= fit(points, "affine", press.width, press.height).rmse_m
    assert spline.rmse_m < 0.01  # the spline passes through its points
    shown = preview(press.path, "press.jpg", polynomial, longest=256)
    assert max(shown.width, shown.height) <= 256 and shown.image[8:12] == b"WEBP"
    assert preview(press.path, "press.jpg", spline, fmt="png").image.startswith(b"\x89PNG")
    west, south, east, north = shown.bounds
    lon, lat = press.truth(press.width / 2, press.height / 2)
    assert west < lon < east and south < lat < north


def test_refusals(press: Press, folder: Path) -> None:
    w, h = press.width, press.height
    good = parse_points(press.points(9, 0.0))
    with pytest.raises(BadControlPoints, match="at least 6"):
        fit(good[:5], "polynomial", w, h)
    with pytest.raises(BadControlPoints, match="at least 10"):
        fit(good, "tps", w, h)
    with pytest.raises(BadControlPoints, match="at least 3"):
        fit(good[:2], "affine", w, h)
    line = [ControlPoint(10 * i, 10 * i, 35.95 + i * 1e-4, 35.41 - i * 1e-4) for i in range(4)]
    with pytest.raises(BadControlPoints, match="one line"):
        fit(line, "affine", w, h)
    outside = [*good[:3], ControlPoint(w + 5, 10, 35.95, 35.41)]
    with pytest.raises(BadControlPoints, match="outside the picture"):
        fit(outside, "affine", w, h)
    with pytest.raises(BadControlPoints, match="not four numbers"):
        parse_points([[1, 2, 3]])
    swapped = [ControlPoint(p.col, p.row, p.lon + (0.01 if n == 0 else 0), p.lat)
               for n, p in enumerate(good)]  # fmt: skip
    assert fit(swapped, "affine", w, h).warnings  # absurd for the scale: warned, not refused
    text = folder / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(NotAnImage):
        inspect(text, "notes.jpg")
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        inspect(png_bomb(folder / "bomb.png"), "bomb.png")
