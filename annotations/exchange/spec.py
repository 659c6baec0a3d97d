"""What an export format is: its name, media type, writer, GDAL driver and options.

The writers (gdal, kml, ml, stac) depend on this module, and the table of formats in `formats`
depends on them: one way only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from annotations.exchange.selection import Selection

Writer = Callable[[Selection, "Format", Path], int]


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    extension: str  # of the file, or of the zip the HTTP API sends for a folder format
    media_type: str
    writer: Writer
    driver: str | None = None  # the GDAL driver that writes it (or reads it back)
    dataset_options: Mapping[str, str] = field(default_factory=dict)
    layer_options: Mapping[str, str] = field(default_factory=dict)
    layer: str | None = None
    folder: bool = False  # writes a folder (a catalogue, image chips); sent zipped over HTTP
    centroid: bool = False  # add centroid_lon / centroid_lat columns
    times_as_text: bool = False  # ISO 8601 text rather than the driver's own time format
    spreadsheet: bool = False  # opened in spreadsheets: text cells that are formulas made inert
    #: the CRS GDAL writes: EPSG:4326 (lon/lat coordinates, as GIS files store them), or
    #: OGC:CRS84 where the format defines its CRS as that (GeoJSON, RFC 7946)
    crs: str = "EPSG:4326"
