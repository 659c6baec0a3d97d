"""Reading a GIS file from outside into features in WGS 84, whatever format it came in.

The format is told by the file's content, never by its name, through one table from
format to sniffer and reader. GDAL (through pyogrio) reads every format; what it cannot
see for itself is checked first: archives and XML by `safety`, a GeoJSON's old-style
`crs` members (one per feature is a mix of CRSs), a STAC label item's asset links.
Coordinates in any CRS are reprojected to WGS 84 lon/lat; a layer without a CRS is never
guessed at, and each of its features is reported.
"""

from __future__ import annotations

import json
import math
import sqlite3
import warnings
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio import errors as ogr_errors
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from annotations import jsontext
from annotations.exchange.safety import (
    UnreadableSource,
    UnsafeFile,
    UnsupportedSource,
    check_regular_file,
    check_xml,
    extract_zip,
    stage,
    xml_has,
)

GDAL_ERRORS: tuple[type[Exception], ...] = (
    ogr_errors.DataSourceError,
    ogr_errors.DataLayerError,
    ogr_errors.CRSError,
    ogr_errors.FeatureError,
    ogr_errors.FieldError,
    ogr_errors.GeometryError,
    RuntimeError,
    ValueError,
)
CRS84 = CRS.from_user_input("OGC:CRS84")
SHP_MAGIC = b"\x00\x00\x27\x0a"
SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")


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
        return {"name": self.name, "sha256": self.sha256, "format": self.format,
                "layers": self.layers, "features": len(self.features)}  # fmt: skip


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
        "KML, KMZ or a STAC label item"
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
    _check_sqlite(path, name)
    target = path.with_suffix(".gpkg")
    path.rename(target)
    source = Source(name, sha256, "gpkg")
    for layer in _spatial_layers(target, name):
        _read_layer(source, target, layer, layer)
    return source


def _check_sqlite(path: Path, name: str) -> None:
    """SQLite's own check of every page, read-only, before GDAL trusts the file."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise UnreadableSource(f"{name} is a corrupt GeoPackage: {exc}") from exc
    if verdict != ("ok",):
        raise UnreadableSource(f"{name} is a corrupt GeoPackage: {verdict[0] if verdict else ''}")


def _read_zip(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    folder = workspace.folder / "unzipped"
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
        if _is_stac_item(data) and "labels" in (data.get("assets") or {}):
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
    if not any(shp.with_suffix(s).exists() for s in (".prj", ".PRJ")):
        problem = (
            f"{layer}.shp has no .prj, so the CRS of its coordinates is unknown; add the "
            ".prj file to the zip"
        )
    _read_layer(source, shp, None, layer, problem=problem)


def _read_kml(path: Path, name: str, sha256: str, workspace: Workspace, fmt: str = "kml"
              ) -> Source:  # fmt: skip
    root = check_xml(path)
    if root != "kml":
        raise UnsupportedSource(f"{name} is XML but not KML (its root is <{root}>)")
    if xml_has(path, "NetworkLink"):
        raise UnsafeFile(
            f"{name} holds a NetworkLink; linked files are not fetched, import them directly"
        )
    target = path.with_suffix(".kml")
    if target != path:
        path.rename(target)
    source = Source(name, sha256, fmt)
    for layer in _spatial_layers(target, name, keep_empty=False):
        _read_layer(source, target, layer, layer)
    return source


def _read_json(path: Path, name: str, sha256: str, workspace: Workspace) -> Source:
    data = _load_json(path, name)
    if _is_stac_item(data):
        return _read_stac(data, path, name, sha256, workspace)
    return _read_geojson(data, path, name, sha256, "geojson")


def _read_geojson(data: Any, path: Path, name: str, sha256: str, fmt: str) -> Source:
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise UnsupportedSource(f"{name} is JSON but not a GeoJSON Feature or FeatureCollection")
    problems = _mixed_crs(data)
    target = path.with_suffix(".geojson")
    if target != path:
        path.rename(target)
    source = Source(name, sha256, fmt)
    _read_layer(source, target, None, Path(name).stem or "features", per_feature=problems)
    return source


def _read_stac(item: dict[str, Any], path: Path, name: str, sha256: str,
               workspace: Workspace) -> Source:  # fmt: skip
    asset = (item.get("assets") or {}).get("labels")
    href = asset.get("href") if isinstance(asset, dict) else None
    if not isinstance(href, str):
        raise UnreadableSource(f"the STAC item {name} has no 'labels' asset with an href")
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
    check_regular_file(candidate, workspace.max_bytes)
    with candidate.open("rb") as handle:
        return stage(handle, workspace.folder, f"{role}.json", workspace.max_bytes).path


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


def _spatial_layers(path: Path, name: str, keep_empty: bool = True) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            layers = pyogrio.list_layers(path)
    except GDAL_ERRORS as exc:
        raise UnreadableSource(f"{name} cannot be read: {_gdal_message(exc)}") from exc
    found = [str(layer) for layer, kind in layers if kind is not None]
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, fids, wkb, values = pyogrio.raw.read(path, layer=layer, return_fids=True)
    except GDAL_ERRORS as exc:
        raise UnreadableSource(
            f"{source.name}: the layer {label} cannot be read ({_gdal_message(exc)}); is the "
            "file corrupt or cut short?"
        ) from exc
    crs = meta.get("crs")
    if problem is None and crs is None and len(fids):
        problem = f"the layer {label} has no coordinate reference system; it cannot be placed"
    geometries, faults = _geometries(wkb)
    if crs is not None:
        geometries = _to_wgs84(geometries, crs)
    fields = [str(name) for name in meta["fields"]]
    columns = {name: [_plain(v) for v in array.tolist()]
               for name, array in zip(fields, values, strict=True)}  # fmt: skip
    ids = columns.get("id")
    features = []
    for position, fid in enumerate(fids.tolist()):
        properties = {name: column[position] for name, column in columns.items()}
        own_id = ids[position] if ids is not None else None
        geometry = geometries[position]
        reason = problem or (per_feature or {}).get(position) or faults.get(position)
        if reason is None and (geometry is None or geometry.is_empty):
            reason = "the feature has no geometry"
        features.append(
            SourceFeature(
                layer=label,
                number=position + 1,
                feature_id=str(own_id if own_id not in (None, "") else fid),
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


def _gdal_message(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat("gpkg", _is_sqlite, _read_gpkg),
    SourceFormat("zip", _is_zip, _read_zip),
    SourceFormat("kml", _is_xml, _read_kml),
    SourceFormat("json", _is_json, _read_json),
)
