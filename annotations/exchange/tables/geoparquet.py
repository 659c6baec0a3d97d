"""GeoParquet: read with pyarrow (GDAL's Parquet driver is in neither pyogrio's wheel nor
Debian's GDAL), and the GeoParquet 1.1 export.

Reading: the `geo` metadata names the geometry column, its encoding (WKB, or one of
GeoArrow's native ones: point, linestring, polygon and their multis) and its CRS (PROJJSON;
absent means OGC:CRS84, null means unknown, so each feature is reported). A Parquet file
without `geo` metadata is refused: which column holds geometries, and in what CRS, is
unknown. What the file may expand to is checked from its footer before any row is read.

Writing: one row per annotation, the columns of the GeoPackage export, the geometry as WKB
(GeoArrow's `geoarrow.wkb` on the Arrow field) and a `bbox` struct column (xmin, ymin,
xmax, ymax) that the `geo` metadata names as its covering, so a reader can skip row groups
by their statistics. GeoArrow's native encodings hold ONE geometry type per column, and an
export mixes points, lines and polygons: WKB holds them all, and every GeoParquet reader
reads it. The rows are spilled to an Arrow stream first, so that the metadata (bounds,
geometry types) is complete when the file is written, in one pass over the stream.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS

from annotations.exchange.gdal import geometries, record_batch, schema
from annotations.exchange.safety import SourceTooLarge, UnreadableSource, refuse_urls
from annotations.exchange.selection import Selection, batches
from annotations.exchange.spec import Format
from annotations.exchange.tables.layer import LON_LAT, Layer, objects

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

# pyarrow is imported by the functions that read and write: `sniff` and a command or a web
# worker that imports and exports nothing start without it

MAGIC = b"PAR1"
VERSION = "1.1.0"
GEOMETRY = "geometry"
BBOX = "bbox"
CORNERS = ("xmin", "ymin", "xmax", "ymax")
#: GeoArrow's native encodings -> shapely's type, and how many list levels hold it
NATIVE: dict[str, tuple[shapely.GeometryType, int]] = {
    "point": (shapely.GeometryType.POINT, 0),
    "linestring": (shapely.GeometryType.LINESTRING, 1),
    "polygon": (shapely.GeometryType.POLYGON, 2),
    "multipoint": (shapely.GeometryType.MULTIPOINT, 1),
    "multilinestring": (shapely.GeometryType.MULTILINESTRING, 2),
    "multipolygon": (shapely.GeometryType.MULTIPOLYGON, 3),
}
#: shapely's type ids (Point 0 ... MultiPolygon 6, GeometryCollection 7) -> GeoJSON's names
TYPE_NAMES = (
    "Point",
    "LineString",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
#: rows decoded at a time while reading
BATCH_ROWS = 65_536
#: the `geo` metadata is a small JSON document
GEO_METADATA_BYTES = 1024 * 1024


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC)


# ---- reading ---------------------------------------------------------------------------


def read(path: Path, name: str, max_bytes: int) -> Layer:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableSource(
            f"{name} is not a Parquet file this server reads: {_short(exc)}"
        ) from exc
    footer = parquet.metadata
    raw = (footer.metadata or {}).get(b"geo")
    if raw is None:
        raise UnreadableSource(
            f"{name} is a Parquet file without GeoParquet's `geo` metadata, so which column "
            "holds the geometries, and in what CRS, is unknown; write it as GeoParquet (such "
            "as geopandas' to_parquet, or ogr2ogr -f Parquet)"
        )
    primary, column = _geometry_column(raw, name)
    crs = _crs(column, name)
    expands = sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups))
    if expands > max_bytes:
        raise SourceTooLarge(
            f"{name} would expand to {expands / 1e6:.1f} MB when read, over the limit of "
            f"{max_bytes / 1e6:.0f} MB"
        )
    names = parquet.schema_arrow.names
    if primary not in names:
        raise UnreadableSource(f"{name}: the geometry column {primary!r} is not in the file")
    table = _rows(parquet, name, max_bytes)
    encoding = str(column.get("encoding", "")).lower()
    wkb = _wkb(table.column(primary).combine_chunks(), encoding, name)
    skipped = {primary, *_geometry_names(raw), *_covering_columns(column)}
    fields = [n for n in names if n not in skipped]
    return Layer(
        name=Path(name).stem or "features",
        fids=np.arange(table.num_rows, dtype=np.int64),
        wkb=wkb,
        fields=fields,
        values=[objects(table.column(n).to_pylist()) for n in fields],
        crs=crs,
    )


def _rows(parquet: pq.ParquetFile, name: str, max_bytes: int) -> pa.Table:
    """Every row, read in batches while what they take in memory stays within `max_bytes`
    (a footer can understate it: a column of one value repeated is a few bytes on disk)."""
    import pyarrow as pa

    held: list[pa.RecordBatch] = []
    size = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
            size += batch.nbytes
            if size > max_bytes:
                raise SourceTooLarge(
                    f"{name} would expand to more than {max_bytes / 1e6:.0f} MB when read, "
                    "over the limit"
                )
            held.append(batch)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableSource(
            f"{name} cannot be read ({_short(exc)}); is the file corrupt or cut short?"
        ) from exc
    return pa.Table.from_batches(held, schema=parquet.schema_arrow)


def _geo(raw: bytes, name: str) -> dict[str, Any]:
    if len(raw) > GEO_METADATA_BYTES:
        raise UnreadableSource(f"{name}: its `geo` metadata is over {GEO_METADATA_BYTES} bytes")
    try:
        geo = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UnreadableSource(f"{name}: its `geo` metadata is not valid JSON") from exc
    if not isinstance(geo, dict) or not isinstance(geo.get("columns"), dict):
        raise UnreadableSource(f"{name}: its `geo` metadata names no geometry columns")
    return geo


def _geometry_column(raw: bytes, name: str) -> tuple[str, dict[str, Any]]:
    geo = _geo(raw, name)
    primary = geo.get("primary_column")
    column = geo["columns"].get(primary) if isinstance(primary, str) else None
    if not isinstance(column, dict):
        raise UnreadableSource(
            f"{name}: its `geo` metadata's primary_column {primary!r} is not among its columns"
        )
    assert isinstance(primary, str)
    return primary, column


def _geometry_names(raw: bytes) -> list[str]:
    columns = json.loads(raw).get("columns")
    return [str(n) for n in columns] if isinstance(columns, dict) else []


def _covering_columns(column: dict[str, Any]) -> list[str]:
    covering = column.get("covering")
    bbox = covering.get("bbox") if isinstance(covering, dict) else None
    if not isinstance(bbox, dict):
        return []
    return [str(path[0]) for path in bbox.values() if isinstance(path, list) and path]


def _crs(column: dict[str, Any], name: str) -> str | None:
    """The CRS as text PROJ reads: absent means OGC:CRS84, null unknown (GeoParquet 1.1)."""
    if "crs" not in column:
        return LON_LAT
    value = column["crs"]
    if value is None:
        return None
    if isinstance(value, dict):  # PROJJSON's `$schema` names its JSON schema: never read
        value = {k: v for k, v in value.items() if k != "$schema"}
    text = json.dumps(value) if isinstance(value, dict) else str(value)
    refuse_urls(text, f"{name}: the CRS of its geometry column")
    return text


def _wkb(array: pa.Array, encoding: str, name: str) -> np.ndarray:
    """The geometry column as WKB (None where null), whatever its encoding."""
    import pyarrow as pa

    if encoding == "wkb":
        if not (pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)):
            raise UnreadableSource(f"{name}: its WKB geometry column holds {array.type}")
        return objects(array.to_pylist())
    if encoding not in NATIVE:
        raise UnreadableSource(
            f"{name}: its geometries are encoded as {encoding!r}; the import reads WKB and "
            f"GeoArrow's {', '.join(NATIVE)}"
        )
    kind, levels = NATIVE[encoding]
    offsets: list[np.ndarray] = []
    inner: Any = array
    while pa.types.is_list(inner.type) or pa.types.is_large_list(inner.type):
        bounds = np.asarray(inner.offsets, dtype=np.int64)
        offsets.append(bounds - bounds[0])
        inner = inner.flatten()
    if len(offsets) != levels:
        raise UnreadableSource(
            f"{name}: its {encoding} geometry column holds {array.type}, not GeoArrow's layout"
        )
    coords = _coordinates(inner, name)
    shapes = shapely.from_ragged_array(kind, coords, tuple(reversed(offsets)) or None)
    shapes[np.asarray(array.is_null().to_numpy(zero_copy_only=False))] = None
    wkb: np.ndarray = shapely.to_wkb(shapes)
    return wkb


def _coordinates(inner: Any, name: str) -> np.ndarray:
    """x and y (any z or m left out) from GeoArrow's separated or interleaved coordinates."""
    import pyarrow as pa

    if pa.types.is_struct(inner.type):
        parts = inner.flatten()
        return np.column_stack([np.asarray(p.to_numpy(zero_copy_only=False)) for p in parts[:2]])
    if pa.types.is_fixed_size_list(inner.type) and inner.type.list_size >= 2:
        flat = np.asarray(inner.flatten().to_numpy(zero_copy_only=False), dtype=np.float64)
        return flat.reshape(-1, inner.type.list_size)[:, :2]
    raise UnreadableSource(f"{name}: its coordinates are {inner.type}, not GeoArrow's")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


# ---- writing ---------------------------------------------------------------------------


def row_schema() -> pa.Schema:
    """The export's columns, the geometry as `geoarrow.wkb`, and the bbox covering."""
    import pyarrow as pa

    base = schema()
    crs = json.dumps({"crs": LON_LAT, "crs_type": "authority_code"})
    geometry = pa.field(
        GEOMETRY,
        pa.binary(),
        metadata={"ARROW:extension:name": "geoarrow.wkb", "ARROW:extension:metadata": crs},
    )
    corners = pa.struct([pa.field(c, pa.float64()) for c in CORNERS])
    return pa.schema([*(f for f in base if f.name != GEOMETRY), geometry, pa.field(BBOX, corners)])


def geo_metadata(types: set[str], bounds: list[float] | None) -> dict[str, Any]:
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted(types),
        "crs": CRS.from_user_input(LON_LAT).to_json_dict(),
        "covering": {BBOX: {c: [BBOX, c] for c in CORNERS}},
    }
    if bounds is not None:
        column["bbox"] = bounds
    return {"version": VERSION, "primary_column": GEOMETRY, "columns": {GEOMETRY: column}}


def write_geoparquet(selection: Selection, fmt: Format, target: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = target.with_name(target.name + ".parts")
    parts.mkdir()
    spill = parts / "rows.arrows"
    rows = row_schema()
    base = schema()
    written = 0
    types: set[str] = set()
    low = [math.inf, math.inf]
    high = [-math.inf, -math.inf]
    try:
        with pa.ipc.new_stream(str(spill), rows) as stream:
            for batch in batches(selection):
                shapes = geometries(batch)
                made = record_batch(batch, base, shapes)
                corners = shapely.bounds(shapes)
                box = pa.StructArray.from_arrays(
                    [pa.array(corners[:, i], pa.float64()) for i in range(4)], names=CORNERS
                )
                columns = [*made.columns[:-1], made.column(made.num_columns - 1), box]
                stream.write_batch(pa.RecordBatch.from_arrays(columns, schema=rows))
                kinds = np.unique(shapely.get_type_id(shapes))
                types.update(TYPE_NAMES[int(k)] for k in kinds if 0 <= k < len(TYPE_NAMES))
                low = np.fmin(low, np.nanmin(corners[:, :2], axis=0)).tolist()
                high = np.fmax(high, np.nanmax(corners[:, 2:], axis=0)).tolist()
                written += len(batch)
        bounds = [*low, *high] if written and math.isfinite(low[0]) else None
        final = rows.with_metadata({"geo": json.dumps(geo_metadata(types, bounds))})
        with (
            pa.OSFile(str(spill), "rb") as source,
            pq.ParquetWriter(str(target), final, compression="zstd") as writer,
        ):
            for part in pa.ipc.open_stream(source):
                if selection.budget is not None:
                    selection.budget.check()
                writer.write_batch(part)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return written
