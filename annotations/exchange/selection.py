"""Which annotations an export holds, read from the database in batches.

An export never holds the whole selection: rows are fetched `BATCH` at a time with a
streaming cursor (server-side on PostgreSQL), turned into columns, handed to the writer,
and dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, String, func, select, type_coerce
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.catalogue.images import Image
from annotations.catalogue.tables import georeferencing_of
from annotations.catalogue.users import Role
from annotations.db import Database
from annotations.exchange.budget import Budget
from annotations.labels.taxonomy import Taxonomy
from annotations.newsroom.links import reports_by_annotation
from annotations.search import Filters, meets, statement
from imagery.georef.placement import placement_text

BATCH = 20_000

#: the Annotation columns an export reads (never the history or the stored `source` JSON)
_READ = (
    "id",
    "image_id",
    "label",
    "shape",
    "confidence",
    "count",
    "attributes_json",
    "notes",
    "observed_at",
    "status",
    "version",
    "geometry_geojson",
    "measurements_json",
    "created_by",
    "updated_by",
    "updated_at",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
)


_TIMES = ("observed_at", "updated_at")


@dataclass(frozen=True)
class Selection:
    """What to export: the search filters, and what is needed to describe each annotation."""

    database: Database
    filters: Filters
    taxonomy: Taxonomy
    images_dir: Path
    #: format-specific options, e.g. chip size for the machine-learning formats
    options: Mapping[str, str] = field(default_factory=dict)
    batch_size: int = BATCH  # annotations held at once
    role: Role = Role.admin  # whose view of linked reports (viewers: published ones only)
    #: chips, bytes and seconds the export may spend (over HTTP); checked every batch
    budget: Budget | None = None


@dataclass(frozen=True)
class ImageFacts:
    """The provenance an export copies from an image onto each of its annotations."""

    id: str
    captured_at: datetime | None
    provider: str | None
    licence: str | None
    attribution: str | None
    gsd_m: float | None
    #: how the image was placed and its error, e.g. "placed by 10 control points, RMSE 0.85 m"
    georeferencing: str | None = None


@dataclass
class Batch:
    """Up to BATCH annotations, column by column (names as in `columns.COLUMNS`). Times
    are UTC; `observed_at` and `updated_at` come naive (read as stored, see `utc`)."""

    columns: dict[str, list[Any]]
    geometry: list[str]  # GeoJSON geometry text, as stored (RFC 7946, 7 decimals)

    def __len__(self) -> int:
        return len(self.geometry)


def _statement(session: Session, filters: Filters, role: Role) -> Any:
    # a report filter sees what the lesser of the two roles may see (the Selection's role
    # is the user's over HTTP), so a draft's id selects nothing for a viewer
    everything = dataclasses.replace(filters, cursor=None, role=min(filters.role, role))
    query = statement(session, everything)
    table = Annotation.__table__.columns
    # times as plain DateTime (naive UTC, no timezone object made per value); on SQLite, as
    # the stored ISO text, parsed per batch by `_times` (no per-row processor in the driver)
    as_type = String() if session.get_bind().dialect.name == "sqlite" else DateTime()
    columns = [
        type_coerce(table[name], as_type).label(name) if name in _TIMES else table[name]
        for name in _READ
    ]
    return query.with_only_columns(*columns, maintain_column_froms=True)


def check(selection: Selection) -> None:
    """Refuse bad filters (an unknown status, a bad cursor) before anything is written."""
    with selection.database.read() as session:
        _statement(session, selection.filters, selection.role)


def count(selection: Selection) -> int:
    """How many annotations the filters select (before the exact bbox test: an upper bound)."""
    with selection.database.read() as session:
        query = _statement(session, selection.filters, selection.role).order_by(None)
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def image_facts(session: Session) -> dict[str, ImageFacts]:
    """Every image's provenance, read once per export (a catalogue holds thousands at most)."""
    rows = session.execute(
        select(
            Image.id,
            Image.captured_at,
            Image.provider,
            Image.licence,
            Image.attribution,
            Image.gsd_m,
            Image.tags_json,
            Image.warped,
        )
    )
    return {
        row.id: ImageFacts(
            *row[:6], georeferencing=placement_text(georeferencing_of(row.tags_json, row.warped))
        )
        for row in rows
    }


def batches(selection: Selection) -> Iterator[Batch]:
    """The selected annotations in creation order, `selection.batch_size` at a time."""
    size = selection.batch_size
    names = {label.id: label.name for label in selection.taxonomy}
    bbox = selection.filters.bbox
    with selection.database.read() as session:
        images = image_facts(session)
        # every link at once: they are what editors curated, a few thousand at most, and one
        # query beats one per batch (SQLite takes 32,766 parameters a statement at most)
        reports = reports_by_annotation(session, None, selection.role)
        query = _statement(session, selection.filters, selection.role)
        # Core rows through the session's connection: no ORM row processing per row
        result = session.connection().execution_options(yield_per=size).execute(query)
        for rows in result.partitions(size):
            if bbox is not None:
                rows = [row for row in rows if meets(row, bbox)]
            if selection.budget is not None:
                selection.budget.check()
            if rows:
                yield _columns(list(rows), names, images, reports)


def _columns(
    rows: list[Any],
    names: dict[str, str],
    images: dict[str, ImageFacts],
    reports: dict[str, list[int]],
) -> Batch:
    # one transposition in C rather than a pass over the rows per column
    read = dict(zip(_READ, zip(*rows, strict=True), strict=True))
    unknown = ImageFacts("", None, None, None, None, None)
    facts = [images.get(image_id, unknown) for image_id in read["image_id"]]
    captured, provider, licence, attribution, gsd, placed = zip(
        *(
            (f.captured_at, f.provider, f.licence, f.attribution, f.gsd_m, f.georeferencing)
            for f in facts
        ),
        strict=True,
    )
    return Batch(
        columns={
            "id": list(read["id"]),
            "label": list(read["label"]),
            "label_name": [names.get(label, label) for label in read["label"]],
            "shape": list(read["shape"]),
            "confidence": list(read["confidence"]),
            "count": list(read["count"]),
            "status": list(read["status"]),
            "version": list(read["version"]),
            "notes": list(read["notes"]),
            "attributes": list(read["attributes_json"]),
            "measurements": list(read["measurements_json"]),
            "observed_at": _times(read["observed_at"]),
            "image_id": list(read["image_id"]),
            "captured_at": list(captured),
            "provider": list(provider),
            "licence": list(licence),
            "attribution": list(attribution),
            "gsd_m": list(gsd),
            "georeferencing": list(placed),
            "analyst": list(read["created_by"]),
            "updated_by": list(read["updated_by"]),
            "updated_at": _times(read["updated_at"]),
            "reports": [_joined(reports.get(i)) for i in read["id"]],
        },
        geometry=list(read["geometry_geojson"]),
    )


def _joined(report_ids: list[int] | None) -> str:
    return ",".join(map(str, report_ids)) if report_ids else ""


def _times(values: tuple[Any, ...]) -> list[datetime | None]:
    """Naive UTC datetimes, from the driver's datetimes or SQLite's stored ISO text."""
    parse = datetime.fromisoformat
    return [parse(v) if isinstance(v, str) else v for v in values]


def utc(value: datetime | None) -> datetime | None:
    """A batch's time as an aware UTC datetime."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
