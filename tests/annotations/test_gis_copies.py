"""Exports copied by GDAL's own `ogr2ogr` (LIBKML, KML, GeoPackage, GeoJSON) import back as
the same annotations: recognised while the originals are here, and, in a catalogue without
them, made once from the export and never again from a copy (the same keys)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from flask import Flask

from annotations.annotation import Annotation, delete
from annotations.exchange import FORMATS, Selection, export
from annotations.exchange.kml import KML_NS
from annotations.exchange.readback import lenient, own_id
from annotations.search import Filters
from annotator import services
from tests.annotations import test_imports
from tests.annotations.test_import_roundtrip import originals
from tests.annotations.test_imports import ANALYST, import_path
from tests.conftest import require

atlanta = test_imports.atlanta  # the app on each backend, with the Atlanta image
K = "{" + KML_NS + "}"
#: ogr2ogr's output drivers and file extensions the copies are made with
COPIES = {"LIBKML": ".kml", "KML": ".kml", "GPKG": ".gpkg", "GeoJSON": ".geojson"}
#: exports the import reads directly (every one of them)
READ_DIRECTLY = ("geojson", "gpkg", "shp", "kml", "kmz", "fgb", "csv")


def ogr2ogr(*args: str) -> None:
    require(shutil.which("ogr2ogr") is not None, "GDAL's ogr2ogr is not installed (gdal-bin)")
    done = subprocess.run(["ogr2ogr", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def copies(source: Path, fmt: str, folder: Path) -> list[list[Path]]:
    """One copy per output driver: a list of files (GeoJSON holds one layer: one per layer)."""
    opened = f"/vsizip/{source}" if fmt == "shp" else str(source)
    layers = [name for name, kind in pyogrio.list_layers(opened) if kind is not None]
    made = []
    for driver, extension in COPIES.items():
        if driver == "GeoJSON" and len(layers) > 1:
            files = []
            for layer in layers:
                target = folder / f"{fmt}-{driver}-{layer}{extension}"
                ogr2ogr("-f", driver, str(target), opened, layer)
                files.append(target)
            made.append(files)
            continue
        target = folder / f"{fmt}-{driver}{extension}"
        ogr2ogr("-f", driver, str(target), opened)
        made.append([target])
    return made


def imported(app: Flask, files: list[Path], **options: Any) -> tuple[int, int, int]:
    """(created or would create, already imported, refused) over the files."""
    made = already = refused = 0
    for path in files:
        report = import_path(app, path, **options)
        made += report["would_create" if report["dry_run"] else "created"]
        already += report["already_imported"]
        refused += report["invalid"] + report["outside_every_image"]
    return made, already, refused


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "kml", "kmz", "fgb", "csv"])
def test_ogr2ogr_copies_of_each_export_are_the_same_annotations(
    atlanta: tuple[Flask, str], tmp_path: Path, fmt: str
) -> None:
    app, image_id = atlanta
    first = originals(app, image_id)
    selection = Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=Path(app.config["IMAGES_DIR"]),
    )
    source = tmp_path / f"export{FORMATS[fmt].extension}"
    assert export(selection, fmt, source) == 3
    made = copies(source, fmt, tmp_path)
    # while the originals are here: every copy is theirs
    for files in made:
        assert imported(app, files, dry_run=True) == (0, 3, 0), files
    # in a catalogue without them (a colleague's): the export or a copy makes them once
    with services.database(app).write() as session:
        for annotation_id in first:
            original = session.get(Annotation, annotation_id)
            assert original is not None
            delete(session, original, ANALYST, original.version)
    once = [source] if fmt in READ_DIRECTLY else made[0]
    assert imported(app, once) == (3, 0, 0)
    for files in made:
        assert imported(app, files) == (0, 3, 0), files


def test_kml_data_is_typed_by_a_schema(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, image_id = atlanta
    originals(app, image_id)
    selection = Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=Path(app.config["IMAGES_DIR"]),
    )
    target = tmp_path / "out.kml"
    export(selection, "kml", target)
    document = ET.fromstring(target.read_bytes()).find(f"{K}Document")  # noqa: S314  (ours)
    assert document is not None
    [schema] = document.findall(f"{K}Schema")
    types = {f.get("name"): f.get("type") for f in schema.findall(f"{K}SimpleField")}
    assert types["count"] == "int" and types["version"] == "int"
    assert types["gsd_m"] == "double" and types["label"] == "string"
    for placemark in document.findall(f"{K}Placemark"):
        [data] = placemark.findall(f"{K}ExtendedData/{K}SchemaData")
        assert data.get("schemaUrl") == f"#{schema.get('id')}"
        assert placemark.findall(f"{K}ExtendedData/{K}Data") == []
    meta, _, _, values = pyogrio.raw.read(target)
    counts = dict(zip(meta["fields"], values, strict=True))["count"]
    assert sorted(counts.tolist()) == [1, 1, 12]  # integers, not text


def test_own_ids_are_found_where_copies_put_them() -> None:
    ours = "0123456789abcdef0123456789abcdef"
    assert own_id({"id": ours}) == ours
    assert own_id({"id": f"annotation-{ours}"}) == ours  # our KML's Placemark id
    assert own_id({"id": "annotations.1", "id2": ours}) == ours  # LIBKML's copy
    assert own_id({"id": None, "id_2": ours}) == ours  # GDAL's renamed column
    assert own_id({"fid": ours}) == ours
    assert own_id({"id": "17", "fid": 3}) is None  # another's file: its own ids stand
    assert own_id({"identity": ours, "note": ours}) is None
    assert own_id({"id": f"{ours}-x"}) is None


def test_lenient_values_take_numbers_and_gdal_times_only() -> None:
    assert lenient("count", "12") == 12 and lenient("count", " 3.0 ") == 3
    assert lenient("count", 4.0) == 4
    assert lenient("count", "3.5") == "3.5" and lenient("count", "many") == "many"
    assert lenient("observed_at", "2016/05/01 16:00:00+00") == "2016-05-01T16:00:00Z"
    assert lenient("observed_at", "2016/05/01 16:00:00.250+0530") == "2016-05-01T16:00:00.250+05:30"
    assert lenient("observed_at", "2016-05-01T16:00:00Z") == "2016-05-01T16:00:00Z"
    assert lenient("observed_at", "yesterday") == "yesterday"
    assert lenient("notes", "12") == "12"
