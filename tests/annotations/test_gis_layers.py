"""CRS and layers as GIS clients read them: EPSG:4326 (organization EPSG) in the GeoPackage,
FlatGeobuf and Shapefile, a GeoPackage 1.2 with a layer per geometry type and QGIS's
`layer_styles`, a `.qml` beside each Shapefile layer, and styles that a hostile label
cannot break out of."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyogrio
import pytest
import shapely
from pyproj import CRS

from annotations.exchange import FORMATS, export
from annotations.exchange.styles import qml, rgb, sld
from annotator import services
from tests.annotations.test_exchange import expected, selection
from tests.conftest import make_app
from tests.exchange_world import World, build_world

SLD_NS = {"se": "http://www.opengis.net/se", "ogc": "http://www.opengis.net/ogc"}


@pytest.fixture
def world(tmp_path: Path, database_url: str, make_geotiff: Callable[..., Path]) -> Iterator[World]:
    app = make_app(tmp_path, database_url)
    from annotations.schema import upgrade

    upgrade(services.database(app))
    yield build_world(app, make_geotiff)
    services.database(app).dispose()


def test_geopackage_has_a_layer_per_geometry_type_in_epsg_4326(
    world: World, tmp_path: Path
) -> None:
    target = tmp_path / "out.gpkg"
    assert export(selection(world), "gpkg", target) == 6
    with closing(sqlite3.connect(target)) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # 'GPKG'
        assert db.execute("PRAGMA user_version").fetchone() == (10200,)  # GeoPackage 1.2
        layers = db.execute(
            "SELECT g.table_name, g.geometry_type_name, s.srs_id, s.organization, "
            "s.organization_coordsys_id FROM gpkg_geometry_columns g "
            "JOIN gpkg_spatial_ref_sys s USING (srs_id) ORDER BY g.table_name"
        ).fetchall()
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert layers == [
        ("annotations_lines", "MULTILINESTRING", 4326, "EPSG", 4326),
        ("annotations_points", "MULTIPOINT", 4326, "EPSG", 4326),
        ("annotations_polygons", "MULTIPOLYGON", 4326, "EPSG", 4326),
    ]
    assert contents["layer_styles"] == "attributes"
    truth = expected(world)
    by_layer = {
        layer: pyogrio.read_dataframe(target, layer=layer)
        for layer, kind in pyogrio.list_layers(target)
        if kind is not None
    }
    families = {
        "annotations_points": "Point",
        "annotations_lines": "LineString",
        "annotations_polygons": "Polygon",
    }
    seen = set()
    for layer, frame in by_layer.items():
        assert pyogrio.read_info(target, layer=layer)["crs"] == "EPSG:4326"
        for row in frame.itertuples():
            want = truth[row.id]["geometry"]
            assert want.geom_type.removeprefix("Multi") == families[layer]
            # longitude first, whatever EPSG:4326's axis order: the GeoPackage's rule
            assert shapely.equals_exact(
                shapely.normalize(row.geometry), shapely.normalize(_multi(want)), 1e-7
            )
            seen.add(row.id)
    assert seen == set(truth)


def _multi(geometry: Any) -> Any:
    if geometry.geom_type.startswith("Multi"):
        return geometry
    return {
        "Point": shapely.multipoints,
        "LineString": shapely.multilinestrings,
        "Polygon": shapely.multipolygons,
    }[geometry.geom_type]([geometry])


def test_layer_styles_colour_each_label_as_qgis_reads_them(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.gpkg"
    export(selection(world), "gpkg", target)
    taxonomy = services.taxonomy(world.app)
    colours = {label.id: rgb(label.colour) for label in taxonomy}
    with closing(sqlite3.connect(target)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(layer_styles)")]
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
            "useAsDefault FROM layer_styles ORDER BY f_table_name"
        ).fetchall()
        geometry_columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        )
    assert columns == [
        "id",
        "f_table_catalog",
        "f_table_schema",
        "f_table_name",
        "f_geometry_column",
        "styleName",
        "styleQML",
        "styleSLD",
        "useAsDefault",
        "description",
        "owner",
        "ui",
        "update_time",
    ]
    assert [r[0] for r in rows] == sorted(geometry_columns)
    kinds = {
        "annotations_points": "marker",
        "annotations_lines": "line",
        "annotations_polygons": "fill",
    }
    for table, column, name, style, sld_text, default in rows:
        assert column == geometry_columns[table] and default == 1 and name == "label colours"
        root = ET.fromstring(style.split("\n", 1)[1])  # noqa: S314  (written by this test)
        renderer = root.find("renderer-v2")
        assert renderer is not None and renderer.get("attr") == "label"
        categories = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
        assert set(categories) == set(colours)
        for value, number in categories.items():
            symbol = renderer.find(f"symbols/symbol[@name='{number}']")
            assert symbol is not None and symbol.get("type") == kinds[table]
            colour = next(
                o.get("value")
                for o in symbol.iter("Option")
                if o.get("name") in ("color", "line_color")
            )
            assert colour is not None
            assert tuple(int(v) for v in colour.split(",")[:3]) == colours[value]
        rules = ET.fromstring(sld_text.encode()).findall(".//se:Rule", SLD_NS)  # noqa: S314
        assert {
            r.findtext("ogc:Filter/ogc:PropertyIsEqualTo/ogc:Literal", None, SLD_NS) for r in rules
        } == set(colours)


def test_flatgeobuf_and_shapefile_say_epsg_4326(world: World, tmp_path: Path) -> None:
    fgb = tmp_path / "out.fgb"
    export(selection(world), "fgb", fgb)
    assert pyogrio.read_info(fgb)["crs"] == "EPSG:4326"
    shp = tmp_path / "out.zip"
    export(selection(world), "shp", shp)
    with zipfile.ZipFile(shp) as archive:
        names = archive.namelist()
        layers = sorted(n.removesuffix(".shp") for n in names if n.endswith(".shp"))
        assert layers == [
            "annotations_lines",
            "annotations_multipoints",
            "annotations_points",
            "annotations_polygons",
        ]
        for layer in layers:
            crs = CRS.from_wkt(archive.read(f"{layer}.prj").decode())
            assert crs.to_epsg() == 4326, layer
            style = ET.fromstring(archive.read(f"{layer}.qml").split(b"\n", 1)[1])  # noqa: S314
            renderer = style.find("renderer-v2")
            assert renderer is not None and renderer.get("attr") == "label"
    for layer in layers:
        assert pyogrio.read_info(f"/vsizip/{shp}", layer=layer)["crs"] == "EPSG:4326"


def test_geojson_stays_crs84_without_a_crs_member(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.geojson"
    export(selection(world), "geojson", target)
    assert b'"crs"' not in target.read_bytes()
    assert FORMATS["geojson"].crs == "OGC:CRS84"


HOSTILE = [
    SimpleNamespace(
        id='x"/><script>alert(1)</script>', name="</qgis><b>&amp;\x01'", colour="#12345"
    ),
    SimpleNamespace(id="vehicle.truck", name="Truck ]]> <!-- -->", colour="#ff0000"),
]


@pytest.mark.parametrize("kind", ["marker", "line", "fill"])
def test_a_hostile_label_stays_a_value_in_every_style(kind: Any) -> None:
    text = qml(HOSTILE, kind)  # type: ignore[arg-type]
    assert "<script>" not in text and "<b>" not in text
    root = ET.fromstring(text.split("\n", 1)[1])  # noqa: S314  (the string just built)
    categories = list(root.iter("category"))
    assert [c.get("value") for c in categories] == [HOSTILE[0].id, HOSTILE[1].id]
    assert categories[0].get("label") == "</qgis><b>&amp;\ufffd'"
    symbol = root.find("renderer-v2/symbols/symbol[@name='0']")
    assert symbol is not None and len(list(root.iter("qgis"))) == 1
    document = sld(HOSTILE, kind, 'annotations"<x>')  # type: ignore[arg-type]
    rules = ET.fromstring(document.encode()).findall(".//se:Rule", SLD_NS)  # noqa: S314
    literals = [
        r.findtext("ogc:Filter/ogc:PropertyIsEqualTo/ogc:Literal", None, SLD_NS) for r in rules
    ]
    assert literals == [HOSTILE[0].id, HOSTILE[1].id]
