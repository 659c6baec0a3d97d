"""In a real browser, on the demo: the site page's Export downloads a GeoPackage with a layer
per geometry type (EPSG:4326, QGIS's layer_styles) and a KMZ with typed data, and the
import page takes both back: every annotation in them is recognised, nothing new is made."""

from __future__ import annotations

import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from flask import Flask

from tests.browser.conftest import open_signed_in
from tests.browser.screens import download, screenshot_on_failure, watch_console, watch_origin

VIEWPORT = {"width": 1366, "height": 768}
LAYERS = ["annotations_points", "annotations_lines", "annotations_polygons"]


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    return demo_app


def test_export_gpkg_and_kmz_then_import_them_back(
    app: Flask, live_server: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    problems = watch_console(page)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "gis-round-trip"):
        open_signed_in(page, live_server, "/sites/hmeimim", "analyst")
        gpkg = download(page, "gpkg", tmp_path)
        kmz = download(page, "kmz", tmp_path)
        assert gpkg.suffix == ".gpkg" and kmz.suffix == ".kmz"
        layers = [name for name, kind in pyogrio.list_layers(gpkg) if kind is not None]
        assert layers == LAYERS
        total = sum(len(pyogrio.read_dataframe(gpkg, layer=name)) for name in layers)
        assert total > 0
        with closing(sqlite3.connect(gpkg)) as db:
            srs = {row[0] for row in db.execute("SELECT srs_id FROM gpkg_geometry_columns")}
            styled = {row[0] for row in db.execute("SELECT f_table_name FROM layer_styles")}
        assert srs == {4326} and styled == set(LAYERS)
        with zipfile.ZipFile(kmz) as archive:
            assert b"<SimpleField" in archive.read("doc.kml")

        for upload in (gpkg, kmz):
            page.goto(f"{live_server}/import?site=hmeimim")
            page.set_input_files("input[name=file]", str(upload))
            page.click("button[value=check]")
            page.wait_for_selector(".import-result h2:has-text('Checked: 0 would be made')")
            assert page.inner_text("td.already") == str(total), upload.name
    assert problems == [] and outside == []
    page.close()
