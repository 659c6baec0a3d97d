"""QGIS itself (PyQGIS, Debian's python3-qgis) opens the exports: three GeoPackage layers in
EPSG:4326, each of one geometry type, styled by label colour from `layer_styles`, and each
Shapefile layer styled from its `.qml`. Its saved copies (with QGIS's own `fid`) import back
as the same annotations."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from flask import Flask

from annotations.exchange import Selection, export
from annotations.exchange.styles import rgb
from annotations.search import Filters
from annotator import services
from tests.annotations import test_imports
from tests.annotations.test_import_roundtrip import originals
from tests.annotations.test_imports import import_path
from tests.conftest import require

atlanta = test_imports.atlanta  # the app on each backend, with the Atlanta image
SCRIPT = Path(__file__).with_name("qgis_copies.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = [SYSTEM_PYTHON, "-c", "import qgis.core"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def test_qgis_opens_styled_layers_and_its_copies_import_as_the_same(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    require(has_qgis(), "PyQGIS is not installed (Debian's python3-qgis)")
    app, image_id = atlanta
    originals(app, image_id)  # a rotated box, a point and a line
    selection = Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=Path(app.config["IMAGES_DIR"]),
    )
    gpkg, shp = tmp_path / "export.gpkg", tmp_path / "export.zip"
    export(selection, "gpkg", gpkg)
    export(selection, "shp", shp)
    shapefiles, out = tmp_path / "shp", tmp_path / "qgis"
    out.mkdir()
    with zipfile.ZipFile(shp) as archive:
        archive.extractall(shapefiles)
    done = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), str(gpkg), str(shapefiles), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    colours = {
        label.id: "#{:02x}{:02x}{:02x}".format(*rgb(label.colour))
        for label in services.taxonomy(app)
    }
    types = {
        "annotations_points": "MultiPoint",
        "annotations_lines": "MultiLineString",
        "annotations_polygons": "MultiPolygon",
    }
    for name, layer in seen["gpkg"].items():
        assert layer["valid"] and layer["crs"] == "EPSG:4326", (name, layer)
        assert layer["type"] == types[name] and layer["features"] == 1, (name, layer)
        # the default style, read from layer_styles: a category per label, in its colour
        assert layer["renderer"] == "categorizedSymbol" and layer["attribute"] == "label"
        assert layer["categories"] == colours, name
    for name, layer in seen["shp"].items():
        assert layer["valid"] and layer["crs"] == "EPSG:4326", (name, layer)
        assert layer["renderer"] == "categorizedSymbol" and layer["categories"] == colours
    # QGIS's saved copies: the same three annotations, recognised, nothing new
    copies = [Path(p) for p in seen["copies"]]
    assert len(copies) == 6
    for copy in copies:
        report = import_path(app, copy, dry_run=True)
        assert (report["would_create"], report["already_imported"], report["invalid"]) == (
            0,
            1,
            0,
        ), (copy.name, report)
    shutil.rmtree(out)
