"""The export formats: ONE table from format name to writer, GDAL driver and options.

A format written through GDAL names its driver and options and uses `write_gdal`; a format
GDAL cannot write the way analysts need (KML styled per label, a STAC catalogue, the
machine-learning sets) names its own writer. Every writer takes the same arguments:
(selection, format, target path) and returns how many annotations it wrote.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
import zipfile
from pathlib import Path

from annotations.errors import AnnotationError, InvalidInput
from annotations.exchange import gdal, geopackage, kml, ml, stac
from annotations.exchange.gdal import GEOJSON
from annotations.exchange.selection import Selection, check
from annotations.exchange.spec import Format
from annotations.exchange.tables import geoparquet

log = logging.getLogger(__name__)

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        GEOJSON,
        Format(
            "gpkg",
            "GeoPackage 1.2 (a layer per geometry type, styled by label colour)",
            ".gpkg",
            "application/geopackage+sqlite3",
            geopackage.write_geopackage,
            "GPKG",
            # 1.2: what GDAL 3.6 / QGIS 3.22 and ArcGIS read in full; nothing here needs 1.4
            dataset_options={"VERSION": "1.2"},
            layer_options={"SPATIAL_INDEX": "YES"},
        ),
        Format(
            "shp",
            "Shapefile (zip: one .shp per geometry type, .prj, .cpg, .qml, fields.txt)",
            ".zip",
            "application/zip",
            gdal.write_shapefile,
            "ESRI Shapefile",
        ),
        Format(
            "kml",
            "KML (styled by label colour, TimeStamp = capture time)",
            ".kml",
            "application/vnd.google-earth.kml+xml",
            kml.export_kml,
            "LIBKML",
        ),
        Format(
            "kmz",
            "KMZ (zipped KML)",
            ".kmz",
            "application/vnd.google-earth.kmz",
            kml.export_kmz,
            "LIBKML",
        ),
        Format(
            "csv",
            "CSV (geometry as WKT, centroid lon/lat)",
            ".csv",
            "text/csv",
            gdal.write_gdal,
            "CSV",
            layer_options={"GEOMETRY": "AS_WKT"},
            centroid=True,
            times_as_text=True,
            spreadsheet=True,
        ),
        Format(
            "fgb",
            "FlatGeobuf",
            ".fgb",
            "application/vnd.flatgeobuf",
            gdal.write_gdal,
            "FlatGeobuf",
            layer_options={"SPATIAL_INDEX": "YES"},
        ),
        Format(
            "geoparquet",
            "GeoParquet 1.1 (WKB geometry with a bbox covering column)",
            ".parquet",
            "application/vnd.apache.parquet",
            geoparquet.write_geoparquet,
        ),
        Format(
            "stac",
            "STAC catalogue (images, label items, a collection per site)",
            ".zip",
            "application/zip",
            stac.write_stac,
            folder=True,
        ),
        Format(
            "coco",
            "COCO JSON with PNG image chips (training set)",
            ".zip",
            "application/zip",
            ml.write_coco,
            folder=True,
        ),
        Format(
            "yolo",
            "YOLO labels (oriented boxes for rotated boxes) with PNG image chips",
            ".zip",
            "application/zip",
            ml.write_yolo,
            folder=True,
        ),
    )
}


class UnknownFormat(InvalidInput):
    """A format name not in the table; the message lists the formats."""


class TargetExists(AnnotationError):
    """The output path is taken: exports never overwrite."""


def get_format(name: str) -> Format:
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise UnknownFormat(
            f"unknown export format {name!r}; formats: {', '.join(FORMATS)}",
            details={"formats": list(FORMATS)},
        )
    return found


def export(selection: Selection, format_name: str, target: Path) -> int:
    """Write the selection to `target` in the named format; returns how many annotations.

    Written beside the target under a temporary name and renamed when complete, so a
    failed export leaves nothing behind and a reader never sees half a file.
    """
    fmt = get_format(format_name)
    check(selection)
    if target.exists():
        raise TargetExists(f"{target} exists; choose another path or remove it first")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a folder")
    # the partial name keeps the extension: GDAL's CSV and FlatGeobuf drivers write a folder
    # for a path without theirs, and GeoPackage warns
    suffix = "" if fmt.folder else fmt.extension
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial{suffix}")
    if fmt.folder:
        partial.mkdir()
    started = time.perf_counter()
    log.info(
        "export begins: %s to %s",
        fmt.name,
        target.name,
        extra={"event": "export.begin", "format": fmt.name, "file": target.name},
    )
    try:
        written = fmt.writer(selection, fmt, partial)
        size = _size(partial)
        os.replace(partial, target)
    except BaseException as exc:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
        seconds = round(time.perf_counter() - started, 3)
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        log.warning(
            "export (%s) failed after %.2f s: %s",
            fmt.name,
            seconds,
            reason,
            extra={"event": "export.failed", "format": fmt.name, "seconds": seconds},
        )
        raise
    seconds = round(time.perf_counter() - started, 3)
    log.info(
        "export ends: %s, %d annotations, %d bytes, %.2f s",
        fmt.name,
        written,
        size,
        seconds,
        extra={
            "event": "export.end",
            "format": fmt.name,
            "annotations": written,
            "bytes": size,
            "seconds": seconds,
        },
    )
    return written


def _size(path: Path) -> int:
    """Bytes in a file, or in every file of a folder (the folder formats)."""
    if not path.is_dir():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_file(selection: Selection, format_name: str, folder: Path) -> tuple[Path, int]:
    """Export into `folder` as ONE file (a folder format zipped), for sending over HTTP."""
    fmt = get_format(format_name)
    target = folder / f"annotations{fmt.extension}"
    if not fmt.folder:
        return target, export(selection, fmt.name, target)
    inside = folder / "annotations"
    written = export(selection, fmt.name, inside)
    archive = folder / f"annotations{fmt.extension}"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
        for number, path in enumerate(sorted(inside.rglob("*")), start=1):
            if selection.budget is not None and number % 100 == 0:
                selection.budget.check()  # zipping many chips takes a while too
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
    shutil.rmtree(inside)
    return archive, written
