"""Finding annotations: filters, a spatial index per backend, keyset pagination.

The bounding-box test uses the backend's index: an R*Tree virtual table on SQLite, the
GiST index of the `geom` column on PostGIS (both kept in step by triggers made in the
migration); then the exact geometry is checked in Python for the few candidates left.

A site selects the annotations whose geometry meets (intersects) the site's area, whatever
image they were drawn on: an image attached to many sites (a wide or global capture) brings
in only what lies in each site's area. The index finds candidates in the site's bounds, then
the exact test runs in SQL (see `catalogue.areas`), so lists, counts and keyset pages agree.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from annotations.annotation import STATUSES, Annotation
from annotations.catalogue.areas import in_bounds, on_site
from annotations.catalogue.sites import get_site
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput
from annotations.newsroom.links import linked_annotation_ids

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000


@dataclass(frozen=True)
class Filters:
    bbox: tuple[float, float, float, float] | None = None
    site: str | None = None
    image: str | None = None
    label: str | None = None
    status: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    author: str | None = None
    report: int | None = None  # linked to this report (directly, by a claim or an event)
    event: int | None = None  # grouped into this event
    include_deleted: bool = False
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    #: whose view: `report` matches only a report this role may see (viewers: published
    #: ones), so a draft's id selects nothing, as an id that does not exist. The HTTP layer
    #: sets the signed-in user's role; the default is the CLI's (the server's operator).
    role: Role = Role.admin


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise InvalidInput("bbox must be four numbers: west,south,east,north")
    west, south, east, north = parts
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox is west,south,east,north in degrees, lon in -180..180")
    # west > east is a box across the antimeridian (RFC 7946 section 5.2, OGC API Features):
    # [west, 180] and [-180, east]; see `halves`
    return west, south, east, north


def halves(
    bbox: tuple[float, float, float, float],
) -> tuple[tuple[float, float, float, float], ...]:
    """The box itself, or its two halves either side of 180 degrees when west > east."""
    west, south, east, north = bbox
    if west <= east:
        return (bbox,)
    return (west, south, 180.0, north), (-180.0, south, east, north)


def label_branch(prefix: str) -> ColumnElement[bool]:
    """`aircraft.transport` matches itself and every id below it, never `aircraft.transports`."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(Annotation.label == prefix, Annotation.label.like(f"{escaped}.%", escape="\\"))


def encode_cursor(annotation: Any) -> str:
    raw = f"{annotation.created_at.isoformat()}|{annotation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, identifier = raw.partition("|")
        created = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        created = None
    # the server writes every cursor with a zone; one without was not made here
    if created is None or created.tzinfo is None or not identifier:
        raise InvalidInput("cursor is not one this server gave out; start without it")
    return created, identifier


def statement(session: Session, filters: Filters) -> Select[Any]:
    query = select(Annotation)
    if not filters.include_deleted:
        query = query.where(Annotation.deleted_at.is_(None))
    if filters.image:
        query = query.where(Annotation.image_id == filters.image)
    if filters.site:
        query = query.where(on_site(session, get_site(session, filters.site)))
    if filters.label:
        query = query.where(label_branch(filters.label))
    if filters.status:
        unknown = set(filters.status) - set(STATUSES)
        if unknown:
            raise InvalidInput(f"status must be among {', '.join(STATUSES)}")
        query = query.where(Annotation.status.in_(filters.status))
    if filters.start is not None:
        query = query.where(Annotation.observed_at >= filters.start)
    if filters.end is not None:
        query = query.where(Annotation.observed_at <= filters.end)
    if filters.author:
        query = query.where(Annotation.created_by == filters.author)
    if filters.report is not None:
        linked = linked_annotation_ids(report_id=filters.report, role=filters.role)
        query = query.where(Annotation.id.in_(linked))
    if filters.event is not None:
        linked = linked_annotation_ids(event_id=filters.event, role=filters.role)
        query = query.where(Annotation.id.in_(linked))
    if filters.bbox is not None:
        # across 180: two index ranges OR'd (R*Tree searches on SQLite, GiST on PostGIS)
        query = query.where(or_(*(in_bounds(session, part) for part in halves(filters.bbox))))
    if filters.cursor:
        created, identifier = _decode_cursor(filters.cursor)
        # `created_at >=` is implied by the OR below, but spelled out it lets SQLite and
        # PostgreSQL start the page's index range at the cursor (SEARCH, not a SCAN of every
        # earlier row: a page 500,000 rows deep took 0.7-1 s instead of 1 ms on SQLite)
        query = query.where(
            Annotation.created_at >= created,
            or_(
                Annotation.created_at > created,
                and_(Annotation.created_at == created, Annotation.id > identifier),
            ),
        )
    return query.order_by(Annotation.created_at, Annotation.id)


def meets(row: Any, bbox: tuple[float, float, float, float]) -> bool:
    """Exact test, needed only for features reaching outside the box (most are inside).
    `row` is an Annotation or a result row of its columns; a box across 180 is its halves."""
    parts = halves(bbox)
    for west, south, east, north in parts:
        if (
            west <= row.min_lon
            and row.max_lon <= east
            and south <= row.min_lat <= row.max_lat <= north
        ):
            return True
    geometry = shape(json.loads(row.geometry_geojson))
    return any(geometry.intersects(shapely.box(*part)) for part in parts)


def _page(rows: list[Any], filters: Filters) -> tuple[list[Any], str | None]:
    """Cut the one-extra row that tells whether another page follows, then the exact test."""
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    cursor = encode_cursor(rows[-1]) if more and rows else None
    if filters.bbox is not None:
        rows = [row for row in rows if meets(row, filters.bbox)]
    return rows, cursor


def _check_limit(filters: Filters) -> None:
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")


def search(session: Session, filters: Filters) -> tuple[list[Annotation], str | None]:
    """One page of matching Annotation objects, and the next page's cursor (None on the last)."""
    _check_limit(filters)
    query = statement(session, filters).limit(filters.limit + 1)
    return _page(list(session.scalars(query)), filters)


def search_rows(session: Session, filters: Filters) -> tuple[list[Any], str | None]:
    """Like `search`, but plain result rows of the table's columns: no ORM objects, for
    lists that are only serialised (about half the cost per feature)."""
    _check_limit(filters)
    query = statement(session, filters).with_only_columns(
        *Annotation.__table__.columns, maintain_column_froms=True
    )
    return _page(list(session.execute(query.limit(filters.limit + 1))), filters)
