"""Text cells a spreadsheet would run as a formula, made inert (CSV injection).

Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-` or `@`
as a formula, and some also after a leading tab or carriage return; a formula can fetch
URLs, or run commands through DDE. Following OWASP's advice ("CSV Injection"), every
*text* cell of a CSV the app writes that starts with one of those characters gets a
single quote in front: spreadsheets show the text as written and run nothing. Numbers
written as numbers (a negative longitude, a count) are left alone: they are not text, and
a spreadsheet reads them as the numbers they are.

The quote is part of the value in the file: a program that reads the CSV (not a
spreadsheet) sees `'=...`. Formats read by GIS programs (GeoJSON, GeoPackage, ...) are
not changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: a text cell starting with one of these is a formula to a spreadsheet
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """`value`, with a single quote in front if a spreadsheet would run it."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def neutralise_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every text column of `batch` neutralised (vectorised); other columns as they are."""
    import pyarrow as pa  # here, not at the top: a CSV cell needs only `neutralise`
    import pyarrow.compute as pc

    starts = pa.array(FORMULA_START, pa.string())
    arrays = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # the first character looked up in a set: twice as fast as a regular expression
            first = pc.utf8_slice_codeunits(column, 0, 1)
            risky = pc.fill_null(pc.is_in(first, value_set=starts.cast(column.type)), False)
            if pc.any(risky).as_py():
                quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
                column = pc.if_else(risky, quoted, column)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV (CRLF line ends, quoted where needed), text cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()
