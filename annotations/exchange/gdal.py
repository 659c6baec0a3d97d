"""Writing through GDAL (pyogrio), driven by the format table.

Batches become Arrow record batches (geometry as WKB) and one Arrow stream is handed to
`pyogrio.raw.write_arrow`, which writes them as they come: the whole export is never in
memory. The Shapefile, which needs one file per geometry type, appends batch by batch.
"""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from annotations.exchange.columns import COLUMNS, SHORT_NAMES, field_mapping_text
from annotations.exchange.selection import Batch, Selection, batches
from annotations.exchange.spec import Format
from annotations.exchange.spreadsheet import csv_text, neutralise_batch
from annotations.exchange.styles import SYMBOLS, qml

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow and pyogrio (which loads pandas and geopandas) are imported by the functions that
# write: a command or a web worker that exports nothing starts without them.

WGS84 = "OGC:CRS84"  # lon/lat order by definition, as RFC 7946 has it
LAYER = "annotations"
#: Shapefile geometry families: one layer (.shp) each
SHAPEFILE_LAYERS = {
    "Point": "points",
    "MultiPoint": "multipoints",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "polygons",
    "MultiPolygon": "polygons",
}
#: shapely's geometry type ids (Point 0 ... MultiPolygon 6) -> Shapefile layer
_LAYER_BY_TYPE_ID = np.array(
    [
        SHAPEFILE_LAYERS.get(name, "")
        for name in (
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
        )
    ]
)
#: a DBF text field holds at most this many bytes
DBF_TEXT_BYTES = 254
SHAPEFILE_TYPES = {
    "points": "Point",
    "multipoints": "MultiPoint",
    "lines": "MultiLineString",
    "polygons": "MultiPolygon",
}


@cache
def _arrow_kinds() -> dict[str, pa.DataType]:
    import pyarrow as pa

    return {
        "text": pa.string(),
        "integer": pa.int32(),
        "real": pa.float64(),
        "time": pa.timestamp("ms", tz="UTC"),
    }


def schema(
    *, times_as_text: bool = False, short_names: bool = False, centroid: bool = False
) -> pa.Schema:
    import pyarrow as pa

    kinds = _arrow_kinds()
    fields = [
        pa.field(
            SHORT_NAMES[c.name] if short_names else c.name,
            pa.string() if times_as_text and c.kind == "time" else kinds[c.kind],
        )
        for c in COLUMNS
    ]
    if centroid:
        fields += [pa.field("centroid_lon", pa.float64()), pa.field("centroid_lat", pa.float64())]
    fields.append(pa.field("geometry", pa.binary(), metadata={"ARROW:extension:name": "ogc.wkb"}))
    return pa.schema(fields)


def geometries(batch: Batch) -> np.ndarray:
    return shapely.from_geojson(np.asarray(batch.geometry, dtype=object))


def record_batch(
    batch: Batch,
    target: pa.Schema,
    geometry: np.ndarray | None = None,
    *,
    centroid: bool = False,
    times_as_text: bool = False,
) -> pa.RecordBatch:
    import pyarrow as pa

    if geometry is None:
        geometry = geometries(batch)
    arrays: list[Any] = []
    for column in COLUMNS:
        values = batch.columns[column.name]
        if times_as_text and column.kind == "time":
            values = [None if v is None else _iso(v) for v in values]
        arrays.append(values)
    if centroid:
        middle = shapely.centroid(geometry)
        arrays += [shapely.get_x(middle), shapely.get_y(middle)]
    arrays.append(shapely.to_wkb(geometry))
    return pa.RecordBatch.from_arrays(
        [pa.array(a, type=f.type) for a, f in zip(arrays, target, strict=True)], schema=target
    )


def write_gdal(selection: Selection, fmt: Format, target: Path) -> int:
    """One layer, every geometry type, streamed into the format's GDAL driver."""
    import pyarrow as pa
    from pyogrio.raw import write_arrow

    centroid, as_text = fmt.centroid, fmt.times_as_text
    target_schema = schema(centroid=centroid, times_as_text=as_text)
    written = 0
    failure: list[BaseException] = []

    def stream() -> Iterator[pa.RecordBatch]:
        nonlocal written
        try:
            for batch in batches(selection):
                written += len(batch)
                made = record_batch(batch, target_schema, centroid=centroid, times_as_text=as_text)
                yield neutralise_batch(made) if fmt.spreadsheet else made
        except BaseException as exc:  # Arrow would turn it into a bare RuntimeError
            failure.append(exc)
            raise

    reader = pa.RecordBatchReader.from_batches(target_schema, stream())
    try:
        write_arrow(
            reader,
            str(target),
            layer=fmt.layer or LAYER,
            driver=fmt.driver,
            geometry_name="geometry",
            geometry_type="Unknown",
            crs=fmt.crs,
            dataset_options=dict(fmt.dataset_options) or None,
            layer_options=dict(fmt.layer_options) or None,
        )
    except Exception:
        if failure:
            raise failure[0] from None
        raise
    return written


def cut_for_dbf(table: pa.Table, cut: list[tuple[str, str, int]]) -> pa.Table:
    """Text longer than a DBF field holds (254 bytes) cut at a character boundary, never in
    the middle of a UTF-8 sequence; each cut value noted in `cut` as (id, field, bytes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = table.column("id")
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if not pa.types.is_string(column.type):
            continue
        lengths = pc.binary_length(column)
        if not pc.any(pc.greater(lengths, DBF_TEXT_BYTES)).as_py():
            continue
        values = column.to_pylist()
        for row in np.flatnonzero(pc.fill_null(pc.greater(lengths, DBF_TEXT_BYTES), False)):
            raw = values[row].encode("utf-8")
            values[row] = raw[:DBF_TEXT_BYTES].decode("utf-8", errors="ignore")
            cut.append((str(ids[int(row)]), name, len(raw)))
        table = table.set_column(index, table.field(index), pa.array(values, pa.string()))
    return table


class _LayerWriter:
    """One Shapefile written by ONE `write_arrow` call on its own thread, fed batch by batch
    through a short queue. Appending batch by batch instead would reopen the file each time,
    and the Shapefile driver reads and rewrites its whole .shx index on every open and close:
    the cost would grow with the square of the export's size."""

    def __init__(self, path: Path, fmt: Format, target_schema: pa.Schema, layer: str) -> None:
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        options = {
            "path": str(path),
            "layer": path.stem,
            "driver": fmt.driver,
            "geometry_name": "geometry",
            "geometry_type": SHAPEFILE_TYPES[layer],
            "crs": fmt.crs,
            "encoding": "UTF-8",
            "layer_options": dict(fmt.layer_options) or None,
        }
        self._thread = threading.Thread(
            target=self._run,
            args=(target_schema, options),
            name=f"shapefile-{layer}",
            daemon=True,
        )
        self._thread.start()

    def _batches(self) -> Iterator[pa.RecordBatch]:
        while (batch := self._queue.get()) is not None:
            yield batch

    def _run(self, target_schema: pa.Schema, options: dict[str, Any]) -> None:
        import pyarrow as pa
        from pyogrio.raw import write_arrow

        try:
            reader = pa.RecordBatchReader.from_batches(target_schema, self._batches())
            write_arrow(reader, options.pop("path"), **options)
        except BaseException as error:  # raised in the exporting thread by put/close
            self.error = error

    def put(self, batch: pa.RecordBatch | None) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(batch, timeout=0.1)
                return
            except queue.Full:
                continue
        # the writer only stops early when writing failed
        raise self.error or RuntimeError(f"{self._thread.name} stopped early")

    def close(self) -> None:
        self.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


def write_shapefile(selection: Selection, fmt: Format, target: Path) -> int:
    """A zip of one Shapefile per geometry type (points, multipoints, lines, polygons), each
    with .prj and .cpg (UTF-8), plus fields.txt mapping the long column names to DBF's, and
    truncated.csv listing every text value cut to the DBF's 254 bytes."""
    import pyarrow as pa

    folder = target.with_name(target.name + ".parts")
    folder.mkdir()
    target_schema = schema(times_as_text=True, short_names=True)
    written = 0
    cut: list[tuple[str, str, int]] = []
    writers: dict[str, _LayerWriter] = {}
    try:
        failure: BaseException | None = None
        try:
            for batch in batches(selection):
                geometry = geometries(batch)
                kinds = _LAYER_BY_TYPE_ID[shapely.get_type_id(geometry)]
                table = cut_for_dbf(
                    pa.Table.from_batches(
                        [record_batch(batch, target_schema, geometry, times_as_text=True)]
                    ),
                    cut,
                )
                for layer in map(str, np.unique(kinds)):
                    if layer not in writers:
                        path = folder / f"{LAYER}_{layer}.shp"
                        writers[layer] = _LayerWriter(path, fmt, target_schema, layer)
                    for part in table.filter(pa.array(kinds == layer)).to_batches():
                        writers[layer].put(part)
                written += len(batch)
        except BaseException as error:
            failure = error
        for writer in writers.values():  # every file finished (or abandoned) and closed
            try:
                writer.close()
            except BaseException as error:
                failure = failure or error
        if failure is not None:
            raise failure
        # level 1: the files are large and deflate at its default level 6 would take longer
        # than writing them; level 1 still makes the DBF's padded text a fraction of its size
        with zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1
        ) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, path.name)
            for layer in sorted(writers):  # QGIS loads a .qml beside a .shp as its style
                kind = "marker" if layer.endswith("points") else SYMBOLS[layer]
                archive.writestr(f"{LAYER}_{layer}.qml", qml(selection.taxonomy, kind))
            archive.writestr("fields.txt", field_mapping_text())
            archive.writestr("truncated.csv", truncated_text(cut))
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return written


def truncated_text(cut: list[tuple[str, str, int]]) -> str:
    """The text values the Shapefile holds cut, as CSV: annotation id, DBF field, and the
    value's full length in bytes (the whole value is in every other format); text cells a
    spreadsheet would run as formulas are neutralised."""
    return csv_text([("id", "field", "bytes"), *cut])


def _iso(value: datetime) -> str:
    text = value.isoformat()
    return text.replace("+00:00", "Z") if value.tzinfo is not None else text + "Z"


#: GeoJSON written through GDAL: an export format, and the label asset of a STAC catalogue
GEOJSON = Format(
    "geojson",
    "GeoJSON (RFC 7946)",
    ".geojson",
    "application/geo+json",
    write_gdal,
    "GeoJSON",
    crs=WGS84,
    layer_options={
        "RFC7946": "YES",
        "COORDINATE_PRECISION": "7",
        "ID_FIELD": "id",
        "WRITE_NAME": "NO",
    },
)
