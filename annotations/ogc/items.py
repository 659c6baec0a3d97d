"""Item pages of a collection: the query parameters of OGC API - Features read into the
store's `Filters`, and one page of flat GeoJSON Features (keyset paging, as the REST API).

Features carry flat properties (label, status, confidence, ... as plain values) so that
GDAL and QGIS read them as columns; the nested parts of the REST API's Feature (attributes,
measurements, source, reports) are left to the REST API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import String, type_coerce
from sqlalchemy.orm import Session

from annotations.annotation import STATUSES, Annotation
from annotations.errors import InvalidInput
from annotations.feature import CONFIDENCES
from annotations.ogc.crs import CRS84, bbox_to_crs84, parse_crs, project
from annotations.search import Filters, encode_cursor, meets, parse_bbox, statement
from annotations.times import parse_interval

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
#: the query parameters of an items request (also listed, in this order, in /ogcapi/api)
FILTERS = (
    "bbox",
    "bbox-crs",
    "datetime",
    "limit",
    "cursor",
    "crs",
    "label",
    "status",
    "confidence",
)
#: what an items request may carry: the filters, the format (`f`) and a read-only key (`key`,
#: see annotator/access); any other is a 400 (OGC: "unknown parameters are an error unless
#: the server says otherwise")
KNOWN = {"f", "key", *FILTERS}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ItemQuery:
    filters: Filters
    crs: str  # output CRS (a URI the collection offers)
    confidence: tuple[str, ...] = ()
    asked_limit: int = DEFAULT_LIMIT  # the limit asked for, before clamping
    #: the query string to repeat in the next link (without cursor)
    params: tuple[tuple[str, str], ...] = ()

    @property
    def clamped(self) -> bool:
        return self.asked_limit > self.filters.limit


def _bbox(value: str, bbox_crs: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be 4 (or 6) numbers: west,south,east,north") from None
    if len(parts) == 6:  # 3D: the heights are dropped; annotations lie on the ground
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise InvalidInput(
            f"bbox must be 4 (or 6) numbers: west,south,east,north; {len(parts)} given"
        )
    box = bbox_to_crs84((parts[0], parts[1], parts[2], parts[3]), bbox_crs)
    return parse_bbox(",".join(repr(p) for p in box))


def _interval(value: str) -> tuple[datetime | None, datetime | None]:
    """An instant, a closed interval, or an open one (`../x`, `x/..`). A bare date stands for
    its whole day (UTC)."""
    if value.count("/") > 1:
        raise InvalidInput("datetime is an instant or one interval start/end ('..' for open)")
    start, end = parse_interval(value)
    parts = value.split("/") if "/" in value else [value, value]
    if end is not None and _DAY.match(parts[1].strip()):
        end = end + timedelta(days=1) - timedelta(microseconds=1)
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"datetime interval {value!r} ends before it starts")
    return start, end


def _choices(value: str, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [part for part in chosen if part not in allowed]
    if unknown or not chosen:
        raise InvalidInput(f"{name} must be among {', '.join(allowed)} (comma-separated)")
    return chosen


def read_query(args: Mapping[str, str], base: Filters, offered: tuple[str, ...]) -> ItemQuery:
    """The items parameters (`args`, a plain mapping of the query string) over `base`, the
    collection's own filters (a site, a report, the reader's role)."""
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {unknown[0]!r}; "
            f"these are read: {', '.join(sorted(KNOWN - {'key'}))}"
        )
    crs = parse_crs(args["crs"], offered) if "crs" in args else CRS84
    bbox_crs = parse_crs(args["bbox-crs"], offered) if "bbox-crs" in args else CRS84
    limit = DEFAULT_LIMIT
    if "limit" in args:
        try:
            limit = int(args["limit"])
        except ValueError:
            raise InvalidInput("limit must be a whole number") from None
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
    changes: dict[str, Any] = {"limit": min(limit, MAX_LIMIT), "cursor": args.get("cursor")}
    if "bbox" in args:
        changes["bbox"] = _bbox(args["bbox"], bbox_crs)
    if "datetime" in args:
        changes["start"], changes["end"] = _interval(args["datetime"])
    if "label" in args:
        changes["label"] = args["label"].strip() or None
    if "status" in args:
        changes["status"] = _choices(args["status"], "status", STATUSES)
    confidence = (
        _choices(args["confidence"], "confidence", CONFIDENCES) if "confidence" in args else ()
    )
    params = tuple((k, v) for k, v in args.items() if k not in ("cursor", "limit"))
    return ItemQuery(replace(base, **changes), crs, confidence, limit, params)


#: the columns a feature is made of (and the exact bbox test's); not the JSON columns the
#: REST API's Feature nests (attributes, measurements, source), which are long and unused here
COLUMNS = (
    Annotation.id,
    Annotation.geometry_geojson,
    Annotation.label,
    Annotation.shape,
    Annotation.confidence,
    Annotation.count,
    Annotation.status,
    Annotation.observed_at,
    Annotation.image_id,
    Annotation.notes,
    Annotation.version,
    Annotation.created_by,
    Annotation.created_at,
    Annotation.updated_at,
    Annotation.min_lon,
    Annotation.min_lat,
    Annotation.max_lon,
    Annotation.max_lat,
)
#: the timestamps of a feature: SQLite keeps them as text, read as it is and only reshaped
#: (not parsed into datetimes to be printed again: a fifth of a page's time)
_STAMPS = (Annotation.observed_at, Annotation.created_at, Annotation.updated_at)
_AS_TEXT = tuple(
    type_coerce(column, String).label(column.key)
    if any(column is stamp for stamp in _STAMPS)
    else column
    for column in COLUMNS
)
#: how SQLite stores a timestamp (SQLAlchemy's format: always 6 digits of microseconds)
_STORED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}")


def _stamp(value: Any) -> Any:
    """A timestamp as the JSON encoder writes a UTC datetime (`...T...[.ffffff]Z`), from the
    text SQLite stores; a datetime (PostgreSQL) or None is left to the encoder."""
    if not isinstance(value, str):
        return value
    if _STORED.fullmatch(value):
        fraction = "" if value.endswith(".000000") else value[19:]
        return f"{value[:10]}T{value[11:19]}{fraction}Z"
    return _moment(value)


def _moment(value: Any) -> Any:
    """A timestamp as an aware datetime, from the text SQLite stores or a datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class Page:
    features: list[bytes]  # each one GeoJSON Feature, encoded
    cursor: str | None  # the next page's, None on the last


def _properties(row: Any, names: Mapping[str, str]) -> bytes:
    return orjson.dumps(
        {
            "label": row.label,
            "label_name": names.get(row.label),
            "shape": row.shape,
            "confidence": row.confidence,
            "count": row.count,
            "status": row.status,
            "observed_at": _stamp(row.observed_at),
            "image_id": row.image_id,
            "notes": row.notes,
            "version": row.version,
            "created_by": row.created_by,
            "created_at": _stamp(row.created_at),
            "updated_at": _stamp(row.updated_at),
        },
        option=orjson.OPT_UTC_Z,
    )


def _geometries(rows: list[Any], crs: str) -> list[str]:
    texts = [row.geometry_geojson for row in rows]
    if crs == CRS84 or not texts:
        return texts
    shapes = project(shapely.from_geojson(np.array(texts, dtype=object)), crs)
    return [str(text) for text in shapely.to_geojson(shapes)]


def _columns(session: Session) -> tuple[Any, ...]:
    return _AS_TEXT if session.get_bind().dialect.name == "sqlite" else COLUMNS


def page(session: Session, query: ItemQuery, names: Mapping[str, str]) -> Page:
    """One page of the collection's features, oldest first, and the next page's cursor."""
    filters = query.filters
    select = statement(session, filters).with_only_columns(
        *_columns(session), maintain_column_froms=True
    )
    if query.confidence:
        select = select.where(Annotation.confidence.in_(query.confidence))
    rows = list(session.execute(select.limit(filters.limit + 1)))
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    cursor = None
    if more and rows:
        last = SimpleNamespace(id=rows[-1].id, created_at=_moment(rows[-1].created_at))
        cursor = encode_cursor(last)
    if filters.bbox is not None:
        rows = [row for row in rows if meets(row, filters.bbox)]
    geometries = _geometries(rows, query.crs)
    features = [
        b'{"type":"Feature","id":"%s","geometry":%s,"properties":%s}'
        % (row.id.encode(), geometry.encode(), _properties(row, names))
        for row, geometry in zip(rows, geometries, strict=True)
    ]
    return Page(features, cursor)


def one(
    session: Session, query: ItemQuery, feature_id: str, names: Mapping[str, str]
) -> bytes | None:
    """One feature of the collection by id, or None when the collection does not hold it."""
    select = statement(session, replace(query.filters, cursor=None)).with_only_columns(
        *_columns(session), maintain_column_froms=True
    )
    row = session.execute(select.where(Annotation.id == feature_id).limit(1)).first()
    if row is None:
        return None
    geometry = _geometries([row], query.crs)[0]
    return b'{"type":"Feature","id":"%s","geometry":%s,"properties":%s}' % (
        row.id.encode(),
        geometry.encode(),
        _properties(row, names),
    )
