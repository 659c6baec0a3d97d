"""The GeoPackage export: one layer per geometry type, styled in the label colours.

`annotations_points` (MultiPoint), `annotations_lines` (MultiLineString) and
`annotations_polygons` (MultiPolygon): each layer declares one geometry type, so QGIS opens
three layers instead of splitting one into sublayers, and a single point is written as a
one-part MultiPoint, as QGIS itself does (the import reads a one-part multi back as its
part). The CRS is EPSG:4326 (srs_id 4326, organization EPSG); coordinates are longitude,
latitude, as the GeoPackage standard stores them whatever the CRS's axis order.

The selection is read once: each batch is split by family and spilled to an Arrow stream
file per layer beside the target, then each layer is written by ONE GDAL call reading its
stream (a GeoPackage takes one writer at a time; nothing is held in memory). Last, the
`layer_styles` table QGIS reads (its own schema) gets a default style per layer.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely

from annotations.exchange.gdal import LAYER, geometries, record_batch, schema
from annotations.exchange.selection import Selection, batches
from annotations.exchange.spec import Format
from annotations.exchange.styles import SYMBOLS, qml, sld
from annotations.labels.taxonomy import Taxonomy

#: family -> the layer's declared geometry type
LAYERS = {"points": "MultiPoint", "lines": "MultiLineString", "polygons": "MultiPolygon"}
#: shapely's type ids (Point 0 ... MultiPolygon 6) -> family ("" for a LinearRing)
_FAMILY = np.array(["points", "lines", "", "polygons", "points", "lines", "polygons"])
STYLE_NAME = "label colours"
#: QGIS's own layer_styles table, as QGIS creates it in a GeoPackage
LAYER_STYLES = """CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


def layer_name(family: str) -> str:
    return f"{LAYER}_{family}"


def write_geopackage(selection: Selection, fmt: Format, target: Path) -> int:
    import pyarrow as pa  # here, not at the top: only an export needs it (and pyogrio)
    from pyogrio.raw import write_arrow

    folder = target.with_name(target.name + ".parts")
    folder.mkdir()
    target_schema = schema()
    written = 0
    try:
        sinks = {
            family: pa.ipc.new_stream(str(folder / f"{family}.arrows"), target_schema)
            for family in LAYERS
        }
        try:
            for batch in batches(selection):
                shapes = geometries(batch)
                families = _FAMILY[shapely.get_type_id(shapes)]
                promoted = _promoted(shapes)
                made = record_batch(batch, target_schema, promoted)
                for family, sink in sinks.items():
                    chosen = families == family
                    if chosen.any():
                        sink.write_batch(made.filter(pa.array(chosen)))
                written += len(batch)
        finally:
            for sink in sinks.values():
                sink.close()
        for number, family in enumerate(LAYERS):
            with pa.OSFile(str(folder / f"{family}.arrows"), "rb") as source:
                reader = pa.ipc.open_stream(source)
                write_arrow(
                    reader,
                    str(target),
                    layer=layer_name(family),
                    driver=fmt.driver,
                    geometry_name="geometry",
                    geometry_type=LAYERS[family],
                    crs=fmt.crs,
                    dataset_options=(dict(fmt.dataset_options) or None) if number == 0 else None,
                    layer_options=dict(fmt.layer_options) or None,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    add_layer_styles(target, selection.taxonomy)
    return written


def _promoted(shapes: np.ndarray) -> np.ndarray:
    """Each single geometry as a one-part multi (a layer holds one declared type)."""
    out = shapes.copy()
    kinds = shapely.get_type_id(shapes)
    makers = ((0, shapely.multipoints), (1, shapely.multilinestrings), (3, shapely.multipolygons))
    for single, make in makers:
        chosen = np.flatnonzero(kinds == single)
        if len(chosen):
            out[chosen] = make(shapes[chosen], indices=np.arange(len(chosen)))
    return out


def add_layer_styles(path: Path, taxonomy: Taxonomy) -> None:
    """QGIS's `layer_styles` table (registered as an attributes table) with one default
    style per layer: categories on `label`, in the label colours. Values are bound as
    parameters, never put into the SQL."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    with closing(sqlite3.connect(path)) as connection, connection:
        columns = dict(
            connection.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        )
        connection.execute(LAYER_STYLES)
        connection.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "'QGIS layer styles', ?)",
            (now,),
        )
        for family, kind in SYMBOLS.items():
            table = layer_name(family)
            connection.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, ?)",
                (
                    table,
                    columns.get(table, "geom"),
                    STYLE_NAME,
                    qml(taxonomy, kind),
                    sld(taxonomy, kind, table),
                    "each label in its colour (annotator export)",
                    now,
                ),
            )
