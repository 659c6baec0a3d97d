"""COCO and YOLO training sets: chips cut from a real COG, objects at known pixel positions."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from flask import Flask
from PIL import Image as PILImage
from pyproj import Transformer
from shapely.geometry import mapping

from annotations.annotation import Actor, create
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput
from annotations.exchange import Selection, export
from annotations.feature import parse_feature
from annotations.search import Filters
from annotator import services
from tests.annotations.test_imports import add_image
from tests.conftest import token_for

ORIGIN = (790000.0, 3922000.0)
PIXEL = 0.5
TO_LONLAT = Transformer.from_crs("EPSG:32636", "OGC:CRS84", always_xy=True)


def lonlat(col: float, row: float) -> tuple[float, float]:
    """The WGS 84 position of a pixel-space point of the test image."""
    x, y = TO_LONLAT.transform(ORIGIN[0] + PIXEL * col, ORIGIN[1] - PIXEL * row)
    return float(x), float(y)


def polygon(corners: list[tuple[float, float]]) -> dict[str, Any]:
    ring = [lonlat(c, r) for c, r in corners]
    return mapping(shapely.Polygon(ring))


def rotated(cx: float, cy: float, length: float, width: float, degrees: float
            ) -> list[tuple[float, float]]:  # fmt: skip
    angle = math.radians(degrees)
    along = (math.cos(angle) * length / 2, math.sin(angle) * length / 2)
    across = (-math.sin(angle) * width / 2, math.cos(angle) * width / 2)
    return [
        (cx + sa * along[0] + sb * across[0], cy + sa * along[1] + sb * across[1])
        for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]


@pytest.fixture
def scene(app: Flask, make_geotiff: Callable[..., Path]) -> tuple[Flask, str, np.ndarray[Any, Any]]:
    """An app with one 400 x 300 image and three annotations at known pixels."""
    data = np.random.default_rng(3).integers(1, 255, (3, 300, 400), dtype=np.uint8)
    image_id = add_image(app, make_geotiff("scene.tif", data=data))
    taxonomy = services.taxonomy(app)
    features = [
        ("structure.hangar", "box", polygon([(100, 100), (140, 100), (140, 120), (100, 120)])),
        ("aircraft.unknown.large", "rotated-box", polygon(rotated(300, 200, 40, 16, 30))),
        ("vehicle.truck", "point", mapping(shapely.Point(lonlat(50, 250)))),
    ]
    with services.database(app).write() as session:
        for label, shape_name, geometry in features:
            properties = {"label": label, "shape": shape_name, "image_id": image_id}
            feature = {"type": "Feature", "geometry": geometry, "properties": properties}
            create(session, parse_feature(feature, taxonomy), Actor("analyst", Role.analyst))
    return app, image_id, data


def training_set(app: Flask, fmt: str, target: Path, **options: str) -> int:
    selection = Selection(
        database=services.database(app), filters=Filters(),
        taxonomy=services.taxonomy(app), images_dir=Path(app.config["IMAGES_DIR"]),
        options={"chip_size": "128", "overlap": "32"} | options,
    )  # fmt: skip
    return export(selection, fmt, target)


def test_coco_chips_objects_and_truncation(scene: tuple[Flask, str, np.ndarray[Any, Any]],
                                           tmp_path: Path) -> None:  # fmt: skip
    app, image_id, data = scene
    target = tmp_path / "coco"
    assert training_set(app, "coco", target) == 2, "the point is left out"
    document = json.loads((target / "annotations.json").read_text())
    chips = {tuple(c["annotator"]["window"][:2]): c for c in document["images"]}
    categories = {c["id"]: c["name"] for c in document["categories"]}
    assert set(categories.values()) == {"structure.hangar", "aircraft.unknown.large"}
    assert document["info"]["points_and_lines_left_out"] == 1

    def objects(column: int, row: int) -> list[dict[str, Any]]:
        chip_id = chips[(column, row)]["id"]
        return [a for a in document["annotations"] if a["image_id"] == chip_id]

    inside = objects(96, 96)
    hangar = next(a for a in inside if categories[a["category_id"]] == "structure.hangar")
    assert hangar["bbox"] == pytest.approx([4, 4, 40, 20], abs=0.05)
    assert hangar["area"] == pytest.approx(800, rel=0.01)
    assert hangar["attributes"]["truncated"] is False
    cut = next(a for a in objects(0, 0) if categories[a["category_id"]] == "structure.hangar")
    assert cut["bbox"] == pytest.approx([100, 100, 28, 20], abs=0.05)
    assert cut["attributes"]["truncated"] is True
    assert cut["attributes"]["visible_fraction"] == pytest.approx(0.7, abs=0.005)
    # the chip's pixels are the image's own, unresampled
    png = target / chips[(96, 96)]["file_name"]
    pixels = np.asarray(PILImage.open(io.BytesIO(png.read_bytes())))
    assert pixels.shape == (128, 128, 3)
    assert np.array_equal(pixels, np.moveaxis(data[:, 96:224, 96:224], 0, -1))
    assert chips[(96, 96)]["annotator"]["image_id"] == image_id
    assert chips[(96, 96)]["annotator"]["georeferencing"] == "north-up geotransform"
    assert all((target / c["file_name"]).is_file() for c in document["images"])


def test_yolo_axis_aligned_and_oriented_boxes(scene: tuple[Flask, str, np.ndarray[Any, Any]],
                                              tmp_path: Path) -> None:  # fmt: skip
    app, image_id, _ = scene
    target = tmp_path / "yolo"
    assert training_set(app, "yolo", target) == 2
    names = (target / "data.yaml").read_text()
    assert '0: "aircraft.unknown.large"' in names and '1: "structure.hangar"' in names
    hangar = (target / "labels" / f"{image_id}_r96_c96.txt").read_text().split()
    assert hangar[0] == "1"
    assert [float(v) for v in hangar[1:]] == pytest.approx(
        [24 / 128, 14 / 128, 40 / 128, 20 / 128], abs=0.001
    )
    # the rotated box (x 278.7..321.3) lies wholly in the chip at column 272, row 96
    lines = (target / "labels" / f"{image_id}_r96_c272.txt").read_text().splitlines()
    oriented = [line.split() for line in lines if line.startswith("0 ")]
    assert len(oriented) == 1 and len(oriented[0]) == 9
    corners = [(float(x) * 128, float(y) * 128) for x, y in
               zip(oriented[0][1::2], oriented[0][2::2], strict=True)]  # fmt: skip
    sides = sorted(math.dist(corners[i], corners[(i + 1) % 4]) for i in range(4))
    assert sides == pytest.approx([16, 16, 40, 40], abs=0.1)
    centre = (sum(x for x, _ in corners) / 4 + 272, sum(y for _, y in corners) / 4 + 96)
    assert centre == pytest.approx((300, 200), abs=0.1)


def test_bad_chip_options_are_refused(scene: tuple[Flask, str, np.ndarray[Any, Any]],
                                      tmp_path: Path) -> None:  # fmt: skip
    app, _, _ = scene
    for options in ({"chip_size": "big"}, {"chip_size": "8"}, {"overlap": "100"}):
        with pytest.raises(InvalidInput):
            training_set(app, "coco", tmp_path / "x", **options)
        assert not (tmp_path / "x").exists()


def test_training_sets_over_http(scene: tuple[Flask, str, np.ndarray[Any, Any]]) -> None:
    app, image_id, _ = scene
    client = app.test_client()
    viewer = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
    response = client.get("/api/v1/exports?format=yolo&chip_size=128&overlap=32", headers=viewer)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = set(archive.namelist())
        assert f"annotations/labels/{image_id}_r96_c96.txt" in names
        assert f"annotations/images/{image_id}_r96_c96.png" in names
        assert "annotations/data.yaml" in names
    bad = client.get("/api/v1/exports?format=coco&chip_size=8", headers=viewer)
    assert bad.status_code == 422 and "chip size" in bad.get_json()["message"]
