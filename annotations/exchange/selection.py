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

from sqlalchemy import DateTime, func, select, type_coerce
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.db import Database
from annotations.images import Image
from annotations.labels import Taxonomy
from annotations.links import reports_by_annotation
from annotations.search import Filters, meets, statement
from annotations.users import Role

BATCH = 20_000
LINKS_CHUNK = 5_000

#: the Annotation columns an export reads (never the history or the stored `source` JSON)
_READ = (
    "id", "image_id", "label", "shape", "confidence", "count", "attributes_json", "notes",
    "observed_at", "status", "version", "geometry_geojson", "measurements_json",
    "created_by", "updated_by", "updated_at", "min_lon", "min_lat", "max_lon", "max_lat",
)  # fmt: skip


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


@dataclass(frozen=True)
class ImageFacts:
    """The provenance an export copies from an image onto each of its annotations."""

    id: str
    captured_at: datetime | None
    provider: str | None
    licence: str | None
    attribution: str | None
    gsd_m: float | None


@dataclass
class Batch:
    """Up to BATCH annotations, column by column (names as in `columns.COLUMNS`). Times
    are UTC; `observed_at` and `updated_at` come naive (read as stored, see `utc`)."""

    columns: dict[str, list[Any]]
    geometry: list[str]  # GeoJSON geometry text, as stored (RFC 7946, 7 decimals)

    def __len__(self) -> int:
        return len(self.geometry)


def _statement(session: Session, filters: Filters) -> Any:
    everything = dataclasses.replace(filters, cursor=None)
    query = statement(session, everything)
    table = Annotation.__table__.columns
    columns = [
        # plain DateTime: naive UTC, without a timezone object made per value
        type_coerce(table[name], DateTime()).label(name) if name in _TIMES else table[name]
        for name in _READ
    ]
    return query.with_only_columns(*columns, maintain_column_froms=True)


def check(selection: Selection) -> None:
    """Refuse bad filters (an unknown status, a bad cursor) before anything is written."""
    with selection.database.read() as session:
        _statement(session, selection.filters)


def count(selection: Selection) -> int:
    """How many annotations the filters select (before the exact bbox test: an upper bound)."""
    with selection.database.read() as session:
        query = _statement(session, selection.filters).order_by(None)
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
        )
    )
    return {row.id: ImageFacts(*row) for row in rows}


def report_links(session: Session, annotation_ids: list[str], role: Role) -> dict[str, list[int]]:
    """The reports each annotation is evidence for, among those `role` may see (asked a few
    thousand ids at a time: SQLite takes at most 32,766 parameters a statement)."""
    found: dict[str, list[int]] = {}
    for start in range(0, len(annotation_ids), LINKS_CHUNK):
        found.update(
            reports_by_annotation(session, annotation_ids[start : start + LINKS_CHUNK], role)
        )
    return found


def batches(selection: Selection) -> Iterator[Batch]:
    """The selected annotations in creation order, `selection.batch_size` at a time."""
    size = selection.batch_size
    names = {label.id: label.name for label in selection.taxonomy}
    bbox = selection.filters.bbox
    with selection.database.read() as session:
        images = image_facts(session)
        query = _statement(session, selection.filters)
        # Core rows through the session's connection: no ORM row processing per row
        result = session.connection().execution_options(yield_per=size).execute(query)
        for rows in result.partitions(size):
            if bbox is not None:
                rows = [row for row in rows if meets(row, bbox)]
            if rows:
                reports = report_links(session, [r.id for r in rows], selection.role)
                yield _columns(list(rows), names, images, reports)


def _columns(
    rows: list[Any],
    names: dict[str, str],
    images: dict[str, ImageFacts],
    reports: dict[str, list[int]],
) -> Batch:
    facts = [images.get(row.image_id) for row in rows]
    return Batch(
        columns={
            "id": [row.id for row in rows],
            "label": [row.label for row in rows],
            "label_name": [names.get(row.label, row.label) for row in rows],
            "shape": [row.shape for row in rows],
            "confidence": [row.confidence for row in rows],
            "count": [row.count for row in rows],
            "status": [row.status for row in rows],
            "version": [row.version for row in rows],
            "notes": [row.notes for row in rows],
            "attributes": [row.attributes_json for row in rows],
            "measurements": [row.measurements_json for row in rows],
            "observed_at": [row.observed_at for row in rows],
            "image_id": [row.image_id for row in rows],
            "captured_at": [f.captured_at if f else None for f in facts],
            "provider": [f.provider if f else None for f in facts],
            "licence": [f.licence if f else None for f in facts],
            "attribution": [f.attribution if f else None for f in facts],
            "gsd_m": [f.gsd_m if f else None for f in facts],
            "analyst": [row.created_by for row in rows],
            "updated_by": [row.updated_by for row in rows],
            "updated_at": [row.updated_at for row in rows],
            "reports": [",".join(map(str, reports.get(row.id, ()))) for row in rows],
        },
        geometry=[row.geometry_geojson for row in rows],
    )


def utc(value: datetime | None) -> datetime | None:
    """A batch's time as an aware UTC datetime."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
