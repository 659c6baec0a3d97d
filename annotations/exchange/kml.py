"""KML and KMZ: placemarks styled by label colour, with a TimeStamp for Google Earth's slider.

GDAL's KML writers cannot give each feature a shared style from a column, so KML is written
here, streamed placemark by placemark; GDAL reads it back in the tests. Every piece of text
is escaped (and characters XML cannot hold are replaced), so a label, note or report title
never becomes markup. Reusable: anything that can describe its features as `Placemark`s and
its labels as `KmlStyle`s gets a KML file (the annotation export, the evidence bundle).
"""

from __future__ import annotations

import html
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import orjson

from annotations.exchange.columns import COLUMNS
from annotations.exchange.selection import Batch, Selection, batches
from annotations.exchange.spec import Format
from annotations.labels.taxonomy import Taxonomy
from imagery.georef.placement import placement_note

KML_NS = "http://www.opengis.net/kml/2.2"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
FILL_ALPHA = "66"  # polygons filled at 40 %, outlines opaque
#: Google Earth's white dot, tinted by the label's colour; an IconStyle with no Icon also
#: stops GDAL 3.6's LIBKML driver (ogr2ogr -f LIBKML) with a failed assertion
ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"


@dataclass(frozen=True)
class KmlStyle:
    """One shared style: a label's colour ('#rrggbb')."""

    id: str
    colour: str
    width: float = 2.0


@dataclass(frozen=True)
class KmlSchema:
    """A typed <Schema>: each placemark's data written as SchemaData/SimpleData, so readers
    (GDAL, Google Earth) know a count is a whole number and a size a real one."""

    id: str
    fields: tuple[tuple[str, str], ...]  # (name, KML type: string, int, double, bool)


@dataclass(frozen=True)
class Placemark:
    name: str
    geometry: Mapping[str, Any]  # GeoJSON geometry, WGS 84 lon/lat
    style: str | None = None  # a KmlStyle id
    description: str = ""  # plain text: shown as typed (see balloon_html)
    when: datetime | None = None  # <TimeStamp>: Google Earth's time slider
    data: Mapping[str, Any] = field(default_factory=dict)  # <ExtendedData>, read by GDAL as fields
    id: str | None = None


def text(value: Any) -> str:
    """Text safe inside an XML element: escaped, and characters XML 1.0 forbids replaced."""
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def balloon_html(value: str) -> str:
    """Google Earth renders a <description> as HTML: plain text is escaped as HTML first (and
    then as XML by `text`), so markup in a note or quote is shown as typed, never run; line
    breaks become <br>. The balloon takes its direction from its text (dir="auto"), and a line
    holding right-to-left letters (a note in Arabic) is a block with its own direction."""
    blocks: list[list[str]] = []
    for line in value.split("\n"):
        rtl = any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in line)
        if rtl or not blocks or blocks[-1][0] == "rtl":
            blocks.append(["rtl" if rtl else "ltr"])
        blocks[-1].append(html.escape(line))
    return "".join('<div dir="auto">' + "<br>".join(block[1:]) + "</div>" for block in blocks)


def attribute(value: str) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", value))


def kml_colour(colour: str, alpha: str = "ff") -> str:
    """'#rrggbb' -> KML's 'aabbggrr'."""
    rgb = colour.lstrip("#").lower()
    if not re.fullmatch("[0-9a-f]{6}", rgb):
        rgb = "ffffff"
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def iso(value: datetime) -> str:
    """RFC 3339 UTC; a naive time is taken as UTC (as the database stores times)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _style(style: KmlStyle) -> str:
    line = kml_colour(style.colour)
    return (
        f"<Style id={attribute(style.id)}>"
        f"<IconStyle><color>{line}</color><Icon><href>{ICON}</href></Icon></IconStyle>"
        f"<LineStyle><color>{line}</color><width>{style.width:g}</width></LineStyle>"
        f"<PolyStyle><color>{kml_colour(style.colour, FILL_ALPHA)}</color></PolyStyle>"
        "</Style>"
    )


def _coordinates(positions: Iterable[Iterable[float]]) -> str:
    return " ".join(",".join(repr(float(v)) for v in list(p)[:2]) for p in positions)


def _ring(tag: str, ring: Iterable[Iterable[float]]) -> str:
    return (
        f"<{tag}><LinearRing><coordinates>{_coordinates(ring)}</coordinates></LinearRing></{tag}>"
    )


def geometry_kml(geometry: Mapping[str, Any]) -> str:
    kind: str = geometry["type"]
    coords: Any = geometry.get("coordinates")
    if kind == "Point":
        return f"<Point><coordinates>{_coordinates([coords])}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><tessellate>1</tessellate><coordinates>{_coordinates(coords)}</coordinates></LineString>"  # noqa: E501
    if kind == "Polygon":
        outer, *inner = coords
        holes = "".join(_ring("innerBoundaryIs", ring) for ring in inner)
        return f"<Polygon>{_ring('outerBoundaryIs', outer)}{holes}</Polygon>"
    if kind.startswith("Multi"):
        single = kind[len("Multi") :]
        parts = "".join(geometry_kml({"type": single, "coordinates": part}) for part in coords)
        return f"<MultiGeometry>{parts}</MultiGeometry>"
    if kind == "GeometryCollection":
        parts = "".join(geometry_kml(part) for part in geometry["geometries"])
        return f"<MultiGeometry>{parts}</MultiGeometry>"
    raise ValueError(f"cannot write a {kind} geometry to KML")


def _schema(schema: KmlSchema) -> str:
    fields = "".join(
        f"<SimpleField type={attribute(kind)} name={attribute(name)}/>"
        for name, kind in schema.fields
    )
    return f"<Schema name={attribute(schema.id)} id={attribute(schema.id)}>{fields}</Schema>"


def _extended_data(data: Mapping[str, Any], schema: KmlSchema | None) -> str:
    if schema is None:
        parts = [
            f"<Data name={attribute(key)}><value>{text(_shown(value))}</value></Data>"
            for key, value in data.items()
        ]
        return f"<ExtendedData>{''.join(parts)}</ExtendedData>"
    # typed: a missing value is left out (read back as null), never written as ""
    parts = [
        f"<SimpleData name={attribute(name)}>{text(_shown(data[name]))}</SimpleData>"
        for name, _ in schema.fields
        if data.get(name) is not None
    ]
    return (
        f"<ExtendedData><SchemaData schemaUrl={attribute('#' + schema.id)}>"
        f"{''.join(parts)}</SchemaData></ExtendedData>"
    )


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def placemark_kml(placemark: Placemark, schema: KmlSchema | None = None) -> str:
    parts = [f"<Placemark id={attribute(placemark.id)}>" if placemark.id else "<Placemark>"]
    parts.append(f"<name>{text(placemark.name)}</name>")
    if placemark.description:
        parts.append(f"<description>{text(balloon_html(placemark.description))}</description>")
    if placemark.when is not None:
        parts.append(f"<TimeStamp><when>{iso(placemark.when)}</when></TimeStamp>")
    if placemark.style:
        parts.append(f"<styleUrl>#{text(placemark.style)}</styleUrl>")
    if placemark.data:
        parts.append(_extended_data(placemark.data, schema))
    parts.append(geometry_kml(placemark.geometry))
    parts.append("</Placemark>")
    return "".join(parts)


def write_kml(
    out: IO[bytes],
    placemarks: Iterable[Placemark],
    styles: Iterable[KmlStyle],
    *,
    name: str,
    description: str = "",
    schema: KmlSchema | None = None,
) -> int:
    """Write a KML document to a binary stream, one placemark at a time; returns how many.
    With a `schema`, each placemark's data is typed by it (fields outside it are left out)."""
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    head = f'<kml xmlns="{KML_NS}"><Document><name>{text(name)}</name>'
    if description:
        head += f"<description>{text(balloon_html(description))}</description>"
    out.write((head + "\n").encode())
    if schema is not None:
        out.write((_schema(schema) + "\n").encode())
    for style in styles:
        out.write((_style(style) + "\n").encode())
    count = 0
    for placemark in placemarks:
        out.write((placemark_kml(placemark, schema) + "\n").encode())
        count += 1
    out.write(b"</Document></kml>\n")
    return count


def write_kmz(
    path: Path,
    placemarks: Iterable[Placemark],
    styles: Iterable[KmlStyle],
    *,
    name: str,
    description: str = "",
    schema: KmlSchema | None = None,
) -> int:
    """A KMZ: the KML as doc.kml in a zip, streamed into the archive."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("doc.kml", "w") as out,
    ):
        return write_kml(out, placemarks, styles, name=name, description=description, schema=schema)


# ---- annotations as placemarks ----------------------------------------------------


#: the export's columns as KML types (KML has no time type: times are RFC 3339 text)
_KML_TYPES = {"text": "string", "integer": "int", "real": "double", "time": "string"}
ANNOTATION_SCHEMA = KmlSchema("annotations", tuple((c.name, _KML_TYPES[c.kind]) for c in COLUMNS))


def label_styles(taxonomy: Taxonomy) -> list[KmlStyle]:
    return [KmlStyle(id=label.id, colour=label.colour) for label in taxonomy]


def describe(row: Mapping[str, Any]) -> str:
    """The balloon text: what it is, how sure, and the image it was seen on."""
    captured = row.get("captured_at")
    lines = [
        f"{row['label_name']} ({row['label']})",
        f"count {row['count']}, {row['confidence']}, {row['status']}, version {row['version']}",
        f"image {row['image_id']} captured {iso(captured) if captured else 'unknown'}",
        f"provider {row.get('provider') or 'unknown'}, licence {row.get('licence') or 'unknown'}",
        f"analyst {row['analyst']}",
    ]
    placed = placement_note(row.get("georeferencing"))
    if placed:  # e.g. "placed by 12 control points, RMSE 3.2 m": sizes are off by about that
        lines.insert(-1, placed)
    if row.get("notes"):
        lines.append(str(row["notes"]))
    return "\n".join(lines)


def annotation_placemarks(selection: Selection) -> Iterator[Placemark]:
    for batch in batches(selection):
        yield from batch_placemarks(batch)


def batch_placemarks(batch: Batch) -> Iterator[Placemark]:
    names = [c.name for c in COLUMNS]
    for index in range(len(batch)):
        row = {name: batch.columns[name][index] for name in names}
        yield Placemark(
            # an XML id (not starting with a digit); LIBKML reads it as the field `id` and
            # the typed data's `id` as `id2` (both lead back to the annotation: `readback`)
            id=f"annotation-{row['id']}",
            name=str(row["label_name"]),
            geometry=orjson.loads(batch.geometry[index]),
            style=str(row["label"]),
            description=describe(row),
            when=row["captured_at"] or row["observed_at"],
            data=row,
        )


def _document_name(selection: Selection) -> str:
    return "annotations"


def export_kml(selection: Selection, fmt: Format, target: Path) -> int:
    with target.open("wb") as out:
        return write_kml(
            out,
            annotation_placemarks(selection),
            label_styles(selection.taxonomy),
            name=_document_name(selection),
            schema=ANNOTATION_SCHEMA,
        )


def export_kmz(selection: Selection, fmt: Format, target: Path) -> int:
    return write_kmz(
        target,
        annotation_placemarks(selection),
        label_styles(selection.taxonomy),
        name=_document_name(selection),
        schema=ANNOTATION_SCHEMA,
    )
