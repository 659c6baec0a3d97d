"""Reading a GIS file from outside into features in WGS 84, whatever format it came in.

The format is told by the file's content, never by its name, through one table from
format to sniffer and reader. GDAL (through pyogrio) reads every format but CSV and
GeoParquet, which `tables` reads with pyarrow (a CSV is in WGS 84 lon/lat, as a CSV has
no CRS; GeoParquet says its own); what GDAL cannot see for itself is checked first:
archives and XML by `safety`, a GeoJSON's old-style `crs` members (one per feature is a
mix of CRSs), a STAC label item's asset links.
Coordinates in any CRS are reprojected to WGS 84 lon/lat; a layer without a CRS is never
guessed at, and each of its features is reported.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time
import warnings
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from annotations import jsontext
from annotations.exchange import readback
from annotations.exchange.safety import (
    UNZIPPED,
    UnreadableSource,
    UnsafeFile,
    UnsupportedSource,
    check_regular_file,
    check_xml,
    extract_zip,
    refuse_urls,
    stage,
    xml_elements,
)
from annotations.exchange.tables import delimited, flatgeobuf, geoparquet
from annotations.exchange.tables.layer import Layer

CRS84 = CRS.from_user_input("OGC:CRS84")
STYLES_TABLE = "layer_styles"
SHP_MAGIC = b"\x00\x00\x27\x0a"
SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
#: the checks of a GeoPackage (SQLite's page check, the schema) stop after this long
GPKG_CHECK_SECONDS = 60.0
#: SQLite virtual-machine steps between two looks at the clock
_PROGRESS_STEPS = 10_000
#: GeoJSON members naming a CRS: the 2008 `crs` and JSON-FG's `coordRefSys`
CRS_MEMBERS = ("crs", "coordRefSys")


@dataclass
class SourceFeature:
    """One feature as read, in WGS 84; `problem` says why it cannot be imported at all."""

    layer: str
    number: int
    feature_id: str
    geometry: BaseGeometry | None
    properties: dict[str, Any]
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"{self.layer} #{self.number} (id {self.feature_id})"


@dataclass
class Source:
    """A file's features, with what the file itself says about them."""

    name: str
    sha256: str
    format: str
    layers: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    features: list[SourceFeature] = field(default_factory=list)
    #: the field a STAC label item names in `label:properties`
    label_field: str | None = None
    #: the id of the image Item a STAC label item links to as its `source`
    image_hint: str | None = None

    def add(self, layer: str, features: list[SourceFeature], fields: list[str]) -> None:
        self.layers.append(layer)
        self.features.extend(features)
        self.fields.extend(f for f in fields if f not in self.fields)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "format": self.format,
            "layers": self.layers,
            "features": len(self.features),
        }


@dataclass(frozen=True)
class Workspace:
    """Where a read may write (its own temporary folder), and where it may look for the
    files a STAC item names (the folder the user's file sits in, on the command line)."""

    folder: Path
    max_bytes: int
    origin: Path | None = None


Reader = Callable[[Path, str, str, Workspace], Source]


def read_source(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    """Read a staged file (in the workspace folder); the format comes from its content."""
    with path.open("rb") as handle:
        head = handle.read(128)
    for fmt in FORMATS:
        if fmt.sniff(head):
            return fmt.read(path, name, sha256, workspace)
    raise UnsupportedSource(
        f"{name} is not a format the import reads: GeoJSON, GeoPackage, zipped Shapefile, "
        "KML, KMZ, a STAC label item, FlatGeobuf, GeoParquet or CSV"
    )


@dataclass(frozen=True)
class SourceFormat:
    name: str
    sniff: Callable[[bytes], bool]
    read: Reader


def _is_sqlite(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def _is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _is_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _is_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").lstrip().startswith((b"{", b"["))


# ---- readers, one per format -----------------------------------------------------------


def _read_gpkg(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    with path.open("rb") as handle:
        header = handle.read(72)
    if len(header) < 72 or header[68:72] not in GPKG_APPLICATION_IDS:
        raise UnreadableSource(f"{name} is an SQLite file but not a GeoPackage")
    check_geopackage(path, name)
    target = path.with_suffix(".gpkg")
    path.rename(target)
    source = Source(name, sha256, "gpkg")
    for layer in _spatial_layers(target, name):
        _read_layer(source, target, layer, layer)
    return source


def check_geopackage(path: Path, name: str, seconds: float = GPKG_CHECK_SECONDS) -> None:
    """Before GDAL opens a GeoPackage: SQLite's own check of every page, then its schema.

    Refused: views (a view can hold a query that never ends, such as a recursive one, and
    GDAL would run it to read the layer), triggers other than the GeoPackage standard's own
    (R-tree, tile matrix, metadata, GDAL's feature counts), feature tables that are virtual
    tables or have generated columns (computed at every read), and CRS definitions naming
    URLs. The file is opened read-only and immutable (it is our own private copy), and
    SQLite's work is bounded: past `seconds`, the check stops and the file is refused.
    """
    deadline = time.monotonic() + seconds
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            connection.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
            connection.execute("PRAGMA trusted_schema = OFF")
            verdict = connection.execute("PRAGMA quick_check").fetchone()
            if verdict != ("ok",):
                raise UnreadableSource(
                    f"{name} is a corrupt GeoPackage: {verdict[0] if verdict else ''}"
                )
            _check_gpkg_schema(connection, name)
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline or "interrupt" in str(exc):
            raise UnsafeFile(
                f"{name}: checking the GeoPackage took over {seconds:g} s; refused"
            ) from exc
        raise UnreadableSource(f"{name} is a corrupt GeoPackage: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise UnreadableSource(f"{name} is a corrupt GeoPackage: {exc}") from exc


def _check_gpkg_schema(connection: sqlite3.Connection, name: str) -> None:
    schema = {
        row[1]: row
        for row in connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    }
    if "gpkg_contents" not in schema:
        raise UnreadableSource(f"{name} is an SQLite file but not a GeoPackage (no gpkg_contents)")
    views = sorted(n for n, row in schema.items() if row[0] == "view")
    if views:
        raise UnsafeFile(
            f"{name} holds views ({_names(views)}); GeoPackages with views are refused, as a "
            "view can hold a query that never ends. Export the layers as plain tables"
        )
    contents = connection.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()
    tables = {str(t) for t, _ in contents}
    features = {str(t) for t, kind in contents if kind == "features"}
    geometry_columns: set[tuple[str, str]] = set()
    if "gpkg_geometry_columns" in schema:
        geometry_columns = {
            (str(t), str(c))
            for t, c in connection.execute(
                "SELECT table_name, column_name FROM gpkg_geometry_columns"
            )
        }
    for table in sorted(tables):
        row = schema.get(table)
        if row is None or row[0] != "table":
            raise UnsafeFile(f"{name}: the layer {table!r} is not a table; refused")
        if str(row[3] or "").lstrip().upper().startswith("CREATE VIRTUAL TABLE"):
            raise UnsafeFile(f"{name}: the layer {table!r} is a virtual table; refused")
        if table in features:
            generated = [
                r[1]
                for r in connection.execute("SELECT * FROM pragma_table_xinfo(?)", (table,))
                if r[6] in (2, 3)
            ]
            if generated:
                raise UnsafeFile(
                    f"{name}: the layer {table!r} has generated columns ({_names(generated)}), "
                    "computed at every read; refused"
                )
    allowed = _standard_triggers(tables, geometry_columns)
    odd = sorted(
        n
        for n, row in schema.items()
        if row[0] == "trigger" and not _is_standard(n, str(row[2]), allowed)
    )
    if odd:
        raise UnsafeFile(
            f"{name} holds triggers that are not the GeoPackage standard's ({_names(odd)}); refused"
        )
    srs_columns = {r[1] for r in connection.execute("PRAGMA table_info(gpkg_spatial_ref_sys)")}
    for column in ("definition", "definition_12_063"):
        if column in srs_columns:
            for (text,) in connection.execute(f"SELECT {column} FROM gpkg_spatial_ref_sys"):  # noqa: S608
                refuse_urls(str(text or ""), f"{name}: a CRS definition")


def _standard_triggers(tables: set[str], geometry_columns: set[tuple[str, str]]) -> dict[str, str]:
    """Trigger name -> the table it must be on, for the triggers a GeoPackage may have."""
    allowed: dict[str, str] = {}
    for table, column in geometry_columns:
        for event in ("insert", "delete", *(f"update{n}" for n in range(1, 8))):
            allowed[f"rtree_{table}_{column}_{event}"] = table
        for prefix in ("fgti", "fgtu", "fgsi", "fgsu"):  # geometry type and SRS triggers
            allowed[f"{prefix}_{table}_{column}"] = table
    for table in tables:
        allowed[f"trigger_insert_feature_count_{table}"] = table  # GDAL's feature counts
        allowed[f"trigger_delete_feature_count_{table}"] = table
        for column in ("zoom", "tile_column", "tile_row"):  # tile tables
            for event in ("insert", "update"):
                allowed[f"{table}_{column}_{event}"] = table
    return allowed


_GPKG_TABLE_TRIGGER = re.compile(r"^(gpkg_tile_matrix|gpkg_metadata|gpkg_metadata_reference)_")


def _is_standard(trigger: str, table: str, allowed: dict[str, str]) -> bool:
    if trigger in allowed:
        return allowed[trigger] == table
    return bool(_GPKG_TABLE_TRIGGER.match(trigger)) and table in (
        "gpkg_tile_matrix",
        "gpkg_metadata",
        "gpkg_metadata_reference",
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _read_zip(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    folder = workspace.folder / UNZIPPED
    files = extract_zip(path, folder, workspace.max_bytes)
    by_suffix: dict[str, list[Path]] = {}
    for item in sorted(files):
        by_suffix.setdefault(item.suffix.lower(), []).append(item)
    if ".shp" in by_suffix:
        source = Source(name, sha256, "shapefile")
        for shp in by_suffix[".shp"]:
            _read_shapefile(source, shp)
        return source
    if ".kml" in by_suffix:
        kmls = by_suffix[".kml"]
        doc = next((k for k in kmls if k.name.lower() == "doc.kml"), kmls[0])
        return _read_kml(doc, name, sha256, workspace, fmt="kmz")
    for candidate in by_suffix.get(".json", []) + by_suffix.get(".geojson", []):
        data = _load_json(candidate, candidate.name)
        if _is_stac_item(data) and label_asset(data) is not None:
            inner = Workspace(workspace.folder, workspace.max_bytes, origin=folder)
            return _read_stac(data, candidate, name, sha256, inner)
    raise UnreadableSource(
        f"{name} holds no .shp file (nor a KML or STAC label item); a zipped Shapefile "
        "needs its .shp, .shx, .dbf and .prj"
    )


def _read_shapefile(source: Source, shp: Path) -> None:
    layer = shp.stem
    with shp.open("rb") as handle:
        if handle.read(4) != SHP_MAGIC:
            raise UnreadableSource(f"{shp.name} is not a Shapefile (.shp header missing)")
    problem = None
    for prj in (shp.with_suffix(".prj"), shp.with_suffix(".PRJ")):
        if prj.is_file():
            refuse_urls(prj.read_bytes()[:1_000_000].decode("latin-1"), f"{prj.name}")
    if not any(shp.with_suffix(s).exists() for s in (".prj", ".PRJ")):
        problem = (
            f"{layer}.shp has no .prj, so the CRS of its coordinates is unknown; add the "
            ".prj file to the zip"
        )
    _read_layer(source, shp, None, layer, problem=problem)


def _read_kml(path: Path, name: str, sha256: str, workspace: Workspace, fmt: str = "kml") -> Source:
    root = check_xml(path)
    if root != "kml":
        raise UnsupportedSource(f"{name} is XML but not KML (its root is <{root}>)")
    _refuse_kml_links(path, name)
    target = path.with_suffix(".kml")
    if target != path:
        path.rename(target)
    source = Source(name, sha256, fmt)
    for layer in _spatial_layers(target, name, keep_empty=False):
        _read_layer(source, target, layer, layer)
    return source


#: KML elements that load another document (GDAL's KML readers fetch none of them, and
#: network access is off besides: refused, so nothing rests on either)
_KML_LOADERS = ("NetworkLink", "NetworkLinkControl", "Update")


def _refuse_kml_links(path: Path, name: str) -> None:
    """A KML that merges in other documents is refused: a NetworkLink, an update, a style or
    schema from another file. Links to icons and overlays are plain data, never fetched."""
    for tag, text, attributes in xml_elements(path):
        if tag in _KML_LOADERS:
            raise UnsafeFile(
                f"{name} holds a {tag}; linked files are not fetched, import them directly"
            )
        external = [
            v
            for v in (text if tag == "styleUrl" else "", attributes.get("schemaUrl", ""))
            if v and not v.startswith("#")
        ]
        if external:
            raise UnsafeFile(
                f"{name} takes a style or schema from another file ({external[0][:200]!r}); "
                "linked files are not fetched: keep styles and schemas in the document"
            )


def _refuse_crs_links(data: Any, name: str) -> None:
    """A GeoJSON's CRS members (the 2008 `crs`, on the document, a feature or a geometry,
    and JSON-FG's `coordRefSys`) may not link to or name a URL: GDAL fetches a `crs` link
    (and on failure would read the coordinates as WGS 84). Refused before GDAL reads it."""
    if not isinstance(data, dict):
        return
    places: list[tuple[str, Any]] = [("the file", data)]
    features = data.get("features")
    for index, feature in enumerate(features if isinstance(features, list) else []):
        places.append((f"feature #{index + 1}", feature))
    if data.get("type") == "Feature":
        places.append(("the feature", data))
    while places:
        where, item = places.pop()
        if not isinstance(item, dict):
            continue
        for member in CRS_MEMBERS:
            if member in item:
                _check_crs_member(item[member], f"{name}: the {member} of {where}")
        for key in ("geometry", "place"):
            if isinstance(item.get(key), dict):
                places.append((f"{where}'s {key}", item[key]))
        parts = item.get("geometries") if item.get("type") == "GeometryCollection" else None
        for part in parts if isinstance(parts, list) else []:
            places.append((f"{where}'s geometry", part))


def _check_crs_member(value: Any, where: str) -> None:
    if isinstance(value, dict) and str(value.get("type", "")).lower() == "link":
        raise UnsafeFile(
            f"{where} is a link; links are never followed. Give the CRS by name (such as "
            "urn:ogc:def:crs:EPSG::3857), or write the file in WGS 84"
        )
    refuse_urls(json.dumps(value, ensure_ascii=False), where)


def _read_json(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    data = _load_json(path, name)
    if _is_stac_item(data):
        return _read_stac(data, path, name, sha256, workspace)
    return _read_geojson(data, path, name, sha256, "geojson")


def _read_geojson(data: Any, path: Path, name: str, sha256: str, fmt: str) -> Source:
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise UnsupportedSource(f"{name} is JSON but not a GeoJSON Feature or FeatureCollection")
    _refuse_crs_links(data, name)
    problems = _mixed_crs(data)
    target = path.with_suffix(".geojson")
    if target != path:
        path.rename(target)
    source = Source(name, sha256, fmt)
    _read_layer(source, target, None, Path(name).stem or "features", per_feature=problems)
    return source


def _read_stac(
    item: dict[str, Any], path: Path, name: str, sha256: str, workspace: Workspace
) -> Source:
    asset = label_asset(item)
    href = asset.get("href") if asset is not None else None
    if not isinstance(href, str):
        raise UnreadableSource(
            f"the STAC item {name} has no labels asset with an href (an asset with the role "
            "'labels', or a GeoJSON asset)"
        )
    labels = _stage_linked(href, "labels", workspace, name)
    data = _load_json(labels, href)
    source = _read_geojson(data, labels, name, sha256, "stac")
    properties = item.get("properties") or {}
    names = properties.get("label:properties")
    if isinstance(names, list) and names and isinstance(names[0], str):
        source.label_field = names[0]
    for link in item.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "source":
            source.image_hint = _linked_item_id(link.get("href"), workspace, name)
            break
    return source


def label_asset(item: dict[str, Any]) -> dict[str, Any] | None:
    """The asset holding a label item's labels: one with the role `labels`, else one keyed
    `labels`, else a GeoJSON one (the label extension's own example keys it
    `vector_labels`)."""
    assets = item.get("assets")
    found = [
        a for a in (assets.values() if isinstance(assets, dict) else []) if isinstance(a, dict)
    ]
    keyed = assets.get("labels") if isinstance(assets, dict) else None
    by_role = [a for a in found if "labels" in (a.get("roles") or [])]
    geojson = [
        a
        for a in found
        if str(a.get("type", "")).split(";")[0].strip() == "application/geo+json"
        or str(a.get("href", "")).lower().endswith(".geojson")
    ]
    for choice in (by_role, [keyed] if isinstance(keyed, dict) else [], geojson):
        if choice:
            return choice[0]
    return None


def _linked_item_id(href: Any, workspace: Workspace, name: str) -> str | None:
    if not isinstance(href, str):
        return None
    try:
        linked = _load_json(_stage_linked(href, "source", workspace, name), href)
    except (UnreadableSource, UnsafeFile):
        return None  # the image Item is optional: the footprints decide then
    found = linked.get("id") if isinstance(linked, dict) else None
    return found if isinstance(found, str) else None


def _stage_linked(href: str, role: str, workspace: Workspace, name: str) -> Path:
    """A file a STAC item links to, copied into the workspace: only a relative path
    inside the item's own folder is followed; URLs and absolute paths never are."""
    if workspace.origin is None:
        raise UnreadableSource(
            f"the STAC item links its {role} file {href!r}; upload a zip holding the item "
            "and that file"
        )
    relative = PurePosixPath(href.removeprefix("./"))
    if (
        "://" in href
        or href.startswith(("/", "\\", "file:"))
        or ":" in relative.parts[0]
        or ".." in relative.parts
    ):
        raise UnsafeFile(
            f"the STAC item's {role} link {href!r} is not a relative path inside its folder; "
            "links to URLs or other folders are not followed"
        )
    base = workspace.origin.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base):
        raise UnsafeFile(f"the STAC item's {role} link {href!r} leaves the item's folder")
    shown = f"the STAC item's {role} file {href!r}"
    check_regular_file(candidate, workspace.max_bytes, shown=shown)
    with candidate.open("rb") as handle:
        return stage(handle, workspace.folder, f"{role}.json", workspace.max_bytes, shown).path


# ---- helpers ------------------------------------------------------------------------------


def _load_json(path: Path, name: str) -> Any:
    try:
        return jsontext.loads(path.read_bytes())
    except jsontext.TooDeeplyNested as exc:
        raise UnreadableSource(f"{name} is not JSON this server reads: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableSource(
            f"{name} is not complete, valid JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}); was it cut short?"
        ) from exc
    except UnicodeDecodeError as exc:
        raise UnreadableSource(f"{name} is not UTF-8 text: {exc.reason}") from exc


def _is_stac_item(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") == "Feature" and "stac_version" in data


def _crs_name(value: Any) -> str | None:
    if isinstance(value, dict):
        properties = value.get("properties")
        if isinstance(properties, dict):
            return str(properties.get("name") or properties.get("href") or "")
    return None


def _mixed_crs(data: dict[str, Any]) -> dict[int, str]:
    """Features carrying their own `crs` (GeoJSON 2008) unlike the file's: GDAL reads every
    feature in the file's CRS, so such features are reported, not misplaced."""
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        return {}
    overall = _crs_name(data.get("crs")) or "WGS 84 lon/lat"
    found: dict[int, str] = {}
    for index, feature in enumerate(data["features"]):
        if not isinstance(feature, dict):
            continue
        geometry = feature.get("geometry")
        own = _crs_name(feature.get("crs")) or (
            _crs_name(geometry.get("crs")) if isinstance(geometry, dict) else None
        )
        if own and own != overall:
            found[index] = (
                f"mixed CRSs: this feature declares {own}, the file {overall}; split the "
                "file by CRS"
            )
    return found


@cache
def gdal_errors() -> tuple[type[Exception], ...]:
    """What pyogrio raises for a file GDAL cannot read. pyogrio is imported by the functions
    that read with it: it loads pandas and geopandas, which a command or a web worker that
    imports nothing should not wait for."""
    from pyogrio import errors as ogr_errors

    return (
        ogr_errors.DataSourceError,
        ogr_errors.DataLayerError,
        ogr_errors.CRSError,
        ogr_errors.FeatureError,
        ogr_errors.FieldError,
        ogr_errors.GeometryError,
        RuntimeError,
        ValueError,
    )


def _spatial_layers(path: Path, name: str, keep_empty: bool = True) -> list[str]:
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            layers = pyogrio.list_layers(path)
    except gdal_errors() as exc:
        raise UnreadableSource(f"{name} cannot be read: {_gdal_message(exc, path, name)}") from exc
    # QGIS's table of layer styles (in our GeoPackage too) is no features, nor is it in a
    # copy that turned it into a KML folder of placemarks without geometry
    found = [str(layer) for layer, kind in layers if kind is not None and layer != STYLES_TABLE]
    if not found and not keep_empty:
        return []
    if not found:
        raise UnreadableSource(f"{name} holds no layer with geometries")
    return found


def _read_layer(
    source: Source,
    path: Path,
    layer: str | None,
    label: str,
    *,
    problem: str | None = None,
    per_feature: dict[int, str] | None = None,
) -> None:
    import pyogrio.raw

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, fids, wkb, values = pyogrio.raw.read(path, layer=layer, return_fids=True)
    except gdal_errors() as exc:
        raise UnreadableSource(
            f"{source.name}: the layer {label} cannot be read "
            f"({_gdal_message(exc, path, source.name)}); is the "
            "file corrupt or cut short?"
        ) from exc
    fields = [str(name) for name in meta["fields"]]
    layer_ = Layer(label, fids, wkb, fields, list(values), meta.get("crs"))
    add_layer(source, layer_, problem=problem, per_feature=per_feature)


def add_layer(
    source: Source,
    layer: Layer,
    *,
    problem: str | None = None,
    per_feature: dict[int, str] | None = None,
) -> None:
    """A layer's features, in WGS 84, added to `source` (what GDAL read, or a table's)."""
    label, fids, crs, fields = layer.name, layer.fids, layer.crs, layer.fields
    if problem is None and crs is None and len(fids):
        problem = f"the layer {label} has no coordinate reference system; it cannot be placed"
    geometries, faults = _geometries(layer.wkb)
    faults = layer.faults | faults
    if crs is not None:
        refuse_urls(crs, f"{source.name}: the CRS of the layer {label}")
        geometries = _to_wgs84(geometries, crs)
    columns = {name: _plain_column(array) for name, array in zip(fields, layer.values, strict=True)}
    ids = columns.get("id")
    id_fields = readback.id_fields(columns)
    names = list(columns)
    rows = zip(*columns.values(), strict=True) if names else iter(lambda: (), None)
    blank = (shapely.is_missing(geometries) | shapely.is_empty(geometries)).tolist()
    features = []
    for position, fid in enumerate(fids.tolist()):
        properties = dict(zip(names, next(rows), strict=True))
        own_id = ids[position] if ids is not None else None
        geometry = geometries[position]
        reason = problem or (per_feature or {}).get(position) or faults.get(position)
        if reason is None and blank[position]:
            reason = "the feature has no geometry"
        features.append(
            SourceFeature(
                layer=label,
                number=position + 1,
                # an export of ours, or a copy of one by GDAL or QGIS: the annotation's id
                feature_id=readback.own_id(properties, id_fields)
                or str(own_id if own_id not in (None, "") else fid),
                geometry=None if reason else geometry,
                properties=properties,
                problem=reason,
            )
        )
    source.add(label, features, fields)


def _geometries(wkb: Any) -> tuple[Any, dict[int, str]]:
    """2D shapely geometries from GDAL's WKB; those GEOS cannot even build (an open ring,
    a ring of two points) are None, with GEOS's reason."""
    if wkb is None:
        return np.full(0, None, dtype=object), {}
    geometries = shapely.from_wkb(wkb, on_invalid="ignore")
    faults: dict[int, str] = {}
    for position in np.flatnonzero(shapely.is_missing(geometries)):
        raw = wkb[position]
        if raw is None:
            continue
        try:
            shapely.from_wkb(raw)
        except shapely.errors.GEOSException as exc:
            faults[int(position)] = f"the geometry is not valid: {exc}"
    return shapely.force_2d(geometries), faults


def _to_wgs84(geometries: Any, crs: str) -> Any:
    try:
        source_crs = CRS.from_user_input(crs)
    except CRSError as exc:
        raise UnreadableSource(f"the CRS {crs!r} is not one PROJ knows: {exc}") from exc
    if source_crs.to_epsg() == 4326 or source_crs == CRS84:
        return geometries
    transformer = Transformer.from_crs(source_crs, CRS84, always_xy=True)

    def project(xy: Any) -> Any:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometries, project)


def _plain_column(array: Any) -> list[Any]:
    """`_plain` of each value of a column GDAL read: numbers and text, the most common,
    without a call per value."""
    if isinstance(array, np.ndarray) and array.dtype.kind in "iub":
        return list(array.tolist())
    values = array.tolist()
    if isinstance(array, np.ndarray) and array.dtype.kind == "f":
        for position in np.flatnonzero(np.isnan(array)).tolist():
            values[position] = None
        return list(values)
    if set(map(type, values)) <= {str}:
        return list(values)
    return [_plain(value) for value in values]


def _plain(value: Any) -> Any:
    """A JSON-friendly value from what pandas hands back (NaN and NaT become None)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, str | int | bool):
        return value
    try:
        if value != value:  # NaT and other not-a-values
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return str(value)


def _gdal_message(exc: Exception, path: Path, name: str) -> str:
    """GDAL's words, shortened, calling the file it read by the user's name (or, unpacked
    from their archive, by its name there), before shortening can cut a path in two."""
    text = str(exc).replace(str(path), path.name if path.parent.name == UNZIPPED else name)
    if path.parent.name == UNZIPPED:
        text = text.replace(f"{path.parent}/", "")
    return " ".join(text.split())[:300]


def _read_flatgeobuf(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    target = path.with_suffix(".fgb")
    path.rename(target)
    source = Source(name, sha256, "fgb")
    _read_layer(source, target, None, Path(name).stem or "features")
    return source


def _table(read: Callable[[Path, str, int], Layer], fmt: str) -> Reader:
    """A reader of one of `tables`' formats: its layer's features added as GDAL's are."""

    def reader(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
        source = Source(name, sha256, fmt)
        add_layer(source, read(path, name, workspace.max_bytes))
        return source

    return reader


FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat("gpkg", _is_sqlite, _read_gpkg),
    SourceFormat("zip", _is_zip, _read_zip),
    SourceFormat("kml", _is_xml, _read_kml),
    SourceFormat("json", _is_json, _read_json),
    SourceFormat("fgb", flatgeobuf.sniff, _read_flatgeobuf),
    SourceFormat("geoparquet", geoparquet.sniff, _table(geoparquet.read, "geoparquet")),
    # text with no other signature: last
    SourceFormat("csv", delimited.sniff, _table(delimited.read, "csv")),
)
