"""CSV: geometry from a WKT column, or points from longitude and latitude columns.

The columns are chosen by name, whatever their case: a WKT column named one of
`WKT_NAMES`, else a longitude column (`LON_NAMES`) with a latitude one (`LAT_NAMES`); a
CSV with neither is refused, naming what was looked for. The delimiter is sniffed from the
header (comma, semicolon or tab); the text is UTF-8, with or without a byte order mark.
Coordinates are WGS 84 longitude and latitude (a CSV has no CRS); a decimal comma is read
in a file delimited by semicolons or tabs.

Every cell is read as text (pyarrow, all at once); `readback.lenient` turns a count or a
time back into what an annotation takes. Our own CSV export puts a single quote before text
a spreadsheet would run as a formula (`spreadsheet.neutralise`): that quote is taken off
again, so a value reads back as it was written, and any CSV export of it is neutralised
again; nothing is ever written out as a live formula.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from annotations.exchange.safety import UnreadableSource
from annotations.exchange.tables.layer import LON_LAT, Layer, objects

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow is imported by the functions that read a table: `sniff` and a command or a web
# worker that reads no CSV start without it

WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
DELIMITERS = (",", ";", "\t")
BOM = b"\xef\xbb\xbf"
#: bytes read to find the header and sniff the delimiter
HEAD_BYTES = 64 * 1024
#: a single quote our export put before a cell a spreadsheet would run as a formula
_NEUTRALISED = r"^'[=+\-@\t\r]"
#: how many unreadable geometries are explained one by one (the rest say so briefly)
EXPLAINED = 1_000


def sniff(head: bytes) -> bool:
    """UTF-8 text whose first line holds a delimiter, or names a WKT column alone."""
    if b"\x00" in head:
        return False
    text = _decode_head(head.removeprefix(BOM))
    if text is None or not text.strip():
        return False
    first = text.splitlines()[0]
    return any(d in first for d in DELIMITERS) or first.strip().strip('"').lower() in WKT_NAMES


def _decode_head(head: bytes) -> str | None:
    """The head as text, if it is UTF-8 (a character cut at its end is allowed)."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None
        return head[: exc.start].decode("utf-8")


def read(path: Path, name: str, max_bytes: int) -> Layer:
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        sample = head.removeprefix(BOM).decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3 - len(BOM) or len(head) < HEAD_BYTES:
            raise UnreadableSource(f"{name} is not UTF-8 text (byte {exc.start + 1})") from exc
        sample = head.removeprefix(BOM)[: exc.start].decode("utf-8")
    delimiter = _delimiter(sample)
    header = _header(sample, delimiter, name)
    geometry = _geometry_columns(header, name)
    table = _table(path, name, header, delimiter)
    count = table.num_rows
    faults: dict[int, str] = {}
    if len(geometry) == 1:
        wkb = _from_wkt(table.column(geometry[0]), faults)
    else:
        wkb = _from_lon_lat(table, geometry[0], geometry[1], delimiter != ",", faults)
    fields = [column for column in header if len(geometry) == 2 or column != geometry[0]]
    values = [_restored(table.column(column)) for column in fields]
    return Layer(
        name=Path(name).stem or "features",
        fids=np.arange(count, dtype=np.int64),
        wkb=wkb,
        fields=fields,
        values=values,
        crs=LON_LAT,
        faults=faults,
    )


def _delimiter(sample: str) -> str:
    lines = sample.splitlines()
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        return max(counts, key=lambda d: counts[d])


def _header(sample: str, delimiter: str, name: str) -> list[str]:
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    except csv.Error as exc:
        raise UnreadableSource(f"{name}: the CSV header cannot be read ({exc})") from exc
    header = [column.strip() for column in header]
    if not header or not any(header):
        raise UnreadableSource(f"{name} has no header row naming its columns")
    seen: set[str] = set()
    for column in header:
        if not column:
            raise UnreadableSource(f"{name}: a column of the header has no name")
        if column.lower() in seen:
            raise UnreadableSource(f"{name} names the column {column!r} twice; rename one")
        seen.add(column.lower())
    return header


def _geometry_columns(header: list[str], name: str) -> tuple[str, ...]:
    by_name = {column.lower(): column for column in header}
    for candidate in WKT_NAMES:
        if candidate in by_name:
            return (by_name[candidate],)
    lon = next((by_name[c] for c in LON_NAMES if c in by_name), None)
    lat = next((by_name[c] for c in LAT_NAMES if c in by_name), None)
    if lon is not None and lat is not None:
        return (lon, lat)
    shown = ", ".join(header[:30]) + (f" and {len(header) - 30} more" if len(header) > 30 else "")
    raise UnreadableSource(
        f"{name} has no geometry columns: looked for a WKT column named "
        f"{', '.join(WKT_NAMES)}, or a longitude column ({', '.join(LON_NAMES)}) with a "
        f"latitude column ({', '.join(LAT_NAMES)}), in any case; its columns are: {shown}",
        details={
            "columns": header[:200],
            "wkt_columns": list(WKT_NAMES),
            "longitude_columns": list(LON_NAMES),
            "latitude_columns": list(LAT_NAMES),
        },
    )


def _table(path: Path, name: str, header: list[str], delimiter: str) -> pa.Table:
    """Every cell as text (or null when empty), the header row skipped."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = " ".join(str(exc).split())[:300]
        if "UTF8" in reason or "utf8" in reason.lower():
            raise UnreadableSource(f"{name} is not UTF-8 text: {reason}") from exc
        raise UnreadableSource(f"{name} is not a CSV table this server reads: {reason}") from exc


def _from_wkt(column: pa.ChunkedArray, faults: dict[int, str]) -> np.ndarray:
    texts = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    geometries = shapely.from_wkt(texts, on_invalid="ignore")
    failed = np.flatnonzero(shapely.is_missing(geometries) & (texts != None))  # noqa: E711
    for number, position in enumerate(failed.tolist()):
        if number >= EXPLAINED:
            faults[position] = "the WKT is not a geometry"
            continue
        try:
            shapely.from_wkt(texts[position])
            faults[position] = "the WKT is not a geometry"
        except shapely.errors.GEOSException as exc:
            faults[position] = f"the WKT is not a geometry: {' '.join(str(exc).split())[:200]}"
    wkb: np.ndarray = shapely.to_wkb(geometries)
    return wkb


def _from_lon_lat(
    table: pa.Table, lon: str, lat: str, decimal_comma: bool, faults: dict[int, str]
) -> np.ndarray:
    xs = _numbers(table.column(lon), lon, decimal_comma, faults)
    ys = _numbers(table.column(lat), lat, decimal_comma, faults)
    points = objects([None] * len(xs))
    good = np.isfinite(xs) & np.isfinite(ys)
    points[good] = shapely.points(xs[good], ys[good])
    wkb: np.ndarray = shapely.to_wkb(points)
    return wkb


def _numbers(
    column: pa.ChunkedArray, name: str, decimal_comma: bool, faults: dict[int, str]
) -> np.ndarray:
    """The column's numbers (NaN where empty); a cell that is not a number is a fault."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(column)
    if decimal_comma:
        text = pc.replace_substring(text, ",", ".")
    try:  # every cell a number (or empty): at once
        numbers = np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False))
        empty = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if np.isfinite(numbers[~empty]).all():  # "nan" or "inf" cells: said one by one
            return numbers.astype(np.float64)
    except pa.ArrowInvalid:
        pass
    out = np.full(len(column), math.nan)
    for position, text in enumerate(column.to_pylist()):
        if text is None:
            continue
        cleaned = text.strip().replace(",", ".") if decimal_comma else text.strip()
        try:
            out[position] = float(cleaned)
        except ValueError:
            faults.setdefault(position, f"the {name} {text[:40]!r} is not a number")
            continue
        if not math.isfinite(out[position]):
            faults.setdefault(position, f"the {name} {text[:40]!r} is not a number")
    return out


def _restored(column: pa.ChunkedArray) -> np.ndarray:
    """Text cells as written: the quote our CSV export puts before a formula taken off."""
    import pyarrow.compute as pc

    quoted = pc.fill_null(pc.match_substring_regex(column, _NEUTRALISED), False)
    if pc.any(quoted).as_py():
        column = pc.if_else(quoted, pc.utf8_slice_codeunits(column, 1), column)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
