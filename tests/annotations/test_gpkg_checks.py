"""A GeoPackage is checked with SQLite before GDAL reads it (issue 10, item 9): a view that
never ends (a recursive query counting to 10^12), odd triggers, virtual tables and generated
columns are refused in an instant, with one line; GeoPackages as GDAL writes them, with their
standard R-tree and tile-matrix triggers, are read as before."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from flask import Flask
from shapely.geometry import box

from annotations.exchange.safety import UnsafeFile
from annotations.exchange.sources import check_geopackage
from annotator.cli import main
from tests.annotations.test_imports import add_image, count, import_path
from tests.conftest import token_for

INSIDE = (-84.4790, 33.6380)  # inside the Atlanta test image
#: a recursive query that would run for hours: GDAL would evaluate it to read the layer
ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000000) "
    "SELECT i AS fid, (SELECT geom FROM annotations LIMIT 1) AS geom, 'structure' AS label "
    "FROM n"
)


def geopackage(path: Path, features: int = 1) -> Path:
    """A real GeoPackage, written by GDAL (through pyogrio), in the Atlanta image."""
    squares = [box(INSIDE[0] + i * 1e-6, INSIDE[1], INSIDE[0] + i * 1e-6 + 1e-4, INSIDE[1] + 1e-4)
               for i in range(features)]  # fmt: skip
    frame = gpd.GeoDataFrame({"label": ["structure"] * features}, geometry=squares,
                             crs="EPSG:4326")  # fmt: skip
    frame.to_file(path, layer="annotations", driver="GPKG", engine="pyogrio")
    return path


def altered(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return path


def endless_view(path: Path) -> Path:
    """The view registered as a feature layer, as the GeoPackage standard allows."""
    return altered(
        geopackage(path),
        f"CREATE VIEW endless AS {ENDLESS}",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        "VALUES ('endless', 'features', 'endless', 4326)",
        "INSERT INTO gpkg_geometry_columns VALUES ('endless', 'geom', 'POLYGON', 4326, 0, 0)",
    )


@pytest.fixture
def atlanta_app(app_on_each_backend: Flask, shared_data: Path) -> Flask:
    add_image(app_on_each_backend, shared_data / "sample_geotiff.tif")
    return app_on_each_backend


def test_a_geopackage_written_by_gdal_with_its_standard_triggers_is_read(
    atlanta_app: Flask, tmp_path: Path
) -> None:
    path = geopackage(tmp_path / "plain.gpkg", features=3)
    with sqlite3.connect(path) as connection:
        triggers = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")]  # fmt: skip
    connection.close()
    assert any(t.startswith("rtree_annotations_geom_") for t in triggers)
    assert any(t.startswith("gpkg_tile_matrix_") for t in triggers)
    report = import_path(atlanta_app, path)
    assert report["created"] == 3 and count(atlanta_app) == 3


def test_an_endless_view_is_refused_before_gdal_runs_it(atlanta_app: Flask, tmp_path: Path) -> None:
    path = endless_view(tmp_path / "endless.gpkg")
    with sqlite3.connect(path) as connection:  # it passes SQLite's own check
        assert connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
    connection.close()
    for dry_run in (True, False):
        with pytest.raises(UnsafeFile, match=r"holds views \('endless'\).*refused") as refused:
            import_path(atlanta_app, path, dry_run=dry_run)
        assert "\n" not in refused.value.message
    assert count(atlanta_app) == 0


def test_views_not_registered_as_layers_are_refused_too(tmp_path: Path) -> None:
    path = altered(geopackage(tmp_path / "aside.gpkg"), f"CREATE VIEW aside AS {ENDLESS}")
    with pytest.raises(UnsafeFile, match="holds views"):
        check_geopackage(path, "aside.gpkg")


@pytest.mark.parametrize(
    ("statement", "match"),
    [
        ("CREATE TRIGGER spin AFTER INSERT ON annotations BEGIN SELECT 1; END",
         r"triggers that are not the GeoPackage standard's \('spin'\)"),
        # a standard name on the wrong table is not the standard's trigger
        ("CREATE TRIGGER rtree_annotations_geom_insert2 AFTER INSERT ON gpkg_contents BEGIN "
         "SELECT 1; END", "triggers that are not"),
        ("CREATE TRIGGER \"rtree_annotations_geom_update8\" AFTER UPDATE ON annotations BEGIN "
         "SELECT 1; END", "triggers that are not"),
        ("CREATE TABLE twice (fid INTEGER PRIMARY KEY, geom BLOB, "
         "label TEXT GENERATED ALWAYS AS (printf('%.*c', 100000000, 'x')) VIRTUAL)",
         r"generated columns \('label'\)"),
        ("CREATE VIRTUAL TABLE twice USING rtree(id, minx, maxx)", "is a virtual table"),
    ],
)  # fmt: skip
def test_odd_triggers_generated_columns_and_virtual_tables_are_refused(
    tmp_path: Path, statement: str, match: str
) -> None:
    path = altered(geopackage(tmp_path / "odd.gpkg"), statement)
    if "twice" in statement:  # registered as a layer
        altered(path, "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                "VALUES ('twice', 'features', 'twice', 4326)")  # fmt: skip
    with pytest.raises(UnsafeFile, match=match):
        check_geopackage(path, "odd.gpkg")


def test_the_check_itself_is_bounded(tmp_path: Path) -> None:
    """SQLite's work during the check has a deadline: one already past stops it at once."""
    path = geopackage(tmp_path / "large.gpkg", features=2000)
    check_geopackage(path, "large.gpkg")
    with pytest.raises(UnsafeFile, match="checking the GeoPackage took over"):
        check_geopackage(path, "large.gpkg", seconds=-1)


def test_api_and_cli_answer_in_one_line(app: Flask, tmp_path: Path) -> None:
    path = endless_view(tmp_path / "endless.gpkg")
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    for dry_run in ("1", "0"):
        response = app.test_client().post(
            "/api/v1/imports", headers=headers, content_type="multipart/form-data",
            data={"file": (io.BytesIO(path.read_bytes()), "mine.gpkg"), "dry_run": dry_run},
        )  # fmt: skip
        body = response.get_json()
        assert response.status_code == 422 and body["error"] == "unsafe_file", body
        assert body["message"].startswith("mine.gpkg holds views")
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["import", str(path), "--dry-run"], env=env)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "endless.gpkg holds views" in result.stderr
