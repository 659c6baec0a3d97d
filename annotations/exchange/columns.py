"""The columns every export carries: the annotation, its label, and where it came from.

One table: column name, kind, short (≤ 10 character) name for the Shapefile's DBF, and what
it means. The README's Shapefile mapping and the `fields.txt` inside each zip are printed
from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "integer", "real", "time"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    short: str  # the DBF field name, at most 10 characters
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("id", "text", "id", "annotation id"),
    Column("label", "text", "label", "label id from the taxonomy, e.g. aircraft.transport.an-124"),
    Column("label_name", "text", "label_name", "the label's display name"),
    Column("shape", "text", "shape", "point, box, rotated-box, polygon or line"),
    Column("confidence", "text", "confidence", "confirmed, probable or possible"),
    Column("count", "integer", "count", "how many objects the annotation stands for"),
    Column("status", "text", "status", "draft, in_review, approved or rejected"),
    Column("version", "integer", "version", "the annotation's version"),
    Column("notes", "text", "notes", "the analyst's notes"),
    Column("attributes", "text", "attributes", "typed attributes, as JSON"),
    Column("measurements", "text", "measures", "geodesic measurements in metres, as JSON"),
    Column("observed_at", "time", "observed", "when it was seen (UTC)"),
    Column("image_id", "text", "image_id", "the image it was drawn on"),
    Column("captured_at", "time", "captured", "the image's capture time (UTC)"),
    Column("provider", "text", "provider", "the image's provider"),
    Column("licence", "text", "licence", "the image's licence"),
    Column("attribution", "text", "attributn", "the credit line the image needs"),
    Column("gsd_m", "real", "gsd_m", "the image's ground sample distance in metres"),
    Column("georeferencing", "text", "georef", "how the image was placed, and its error"),
    Column("analyst", "text", "analyst", "who drew it"),
    Column("updated_by", "text", "updated_by", "who changed it last (editor on review)"),
    Column("updated_at", "time", "updated", "when it was changed last (UTC)"),
    Column("reports", "text", "reports", "ids of the reports it is linked to, comma-separated"),
)
NAMES = tuple(column.name for column in COLUMNS)
SHORT_NAMES = {column.name: column.short for column in COLUMNS}

assert all(len(column.short) <= 10 for column in COLUMNS)
assert len(set(SHORT_NAMES.values())) == len(COLUMNS)


def field_mapping_text() -> str:
    """The long -> short names as a plain table, shipped inside each Shapefile zip."""
    lines = ["column in other formats -> Shapefile (DBF) field: meaning"]
    lines += [f"{c.name} -> {c.short}: {c.meaning}" for c in COLUMNS]
    lines.append("")
    lines.append("Times are ISO 8601 text in UTC; DBF text fields hold at most 254 bytes,")
    lines.append("so longer notes or attributes are cut at a character boundary; truncated.csv")
    lines.append("lists each one (id, field, full length in bytes): use GeoPackage for those.")
    return "\n".join(lines) + "\n"
