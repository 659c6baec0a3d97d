"""Which annotations lie in a place: a bounding box through the backend's spatial index,
and a site's area (the `site=` filter of every list, count, export and feed).

An annotation belongs to a site when its geometry meets (intersects) the site's area, not
only when it lies wholly within it, and whatever image it was drawn on: an image attached
to many sites brings into each only what lies in that site's area. The index (an R*Tree on
SQLite, GiST on PostGIS) finds the candidates in the site's bounds; the exact test then runs
in SQL, ST_Intersects with the area as a bound parameter on PostGIS and the `db.MEETS_AREA`
function on SQLite, so a LIMIT, a keyset page and a COUNT see the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from annotations.annotation import Annotation
from annotations.catalogue.area_cells import Rectangle, inner_rectangles, outer_rectangles
from annotations.catalogue.tables import Site
from annotations.db import MEETS_AREA

_RTREE = table(
    "annotations_rtree",
    column("id"),
    column("min_lon"),
    column("max_lon"),
    column("min_lat"),
    column("max_lat"),
)
#: the PostGIS geometry column (kept by triggers; not mapped on the model)
_GEOM: ColumnElement[Any] = literal_column("annotations.geom")


def in_bounds(session: Session, bbox: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """Annotations whose bounding box meets `bbox`, found through the backend's index (the
    values are bound parameters, so a bbox and a site may share one statement)."""
    west, south, east, north = bbox
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        candidates = select(_RTREE.c.id).where(
            _RTREE.c.min_lon <= east,
            _RTREE.c.max_lon >= west,
            _RTREE.c.min_lat <= north,
            _RTREE.c.max_lat >= south,
        )
        return literal_column("annotations.rowid").in_(candidates)
    if dialect == "postgresql":
        # the numbers are written into the SQL: a prepared statement's generic plan (psycopg
        # prepares a statement run 5 times) then still knows the box it plans for
        corners = [_written(value) for value in (west, south, east, north)]
        return _GEOM.op("&&")(func.ST_MakeEnvelope(*corners, 4326))
    return Annotation.overlapping(bbox)


def _written(value: float) -> BindParameter[float]:
    """A number rendered into the statement's text rather than sent as a parameter."""
    return bindparam(None, float(value), type_=Float(), unique=True, literal_execute=True)


def on_site(session: Session, site: Site) -> ColumnElement[bool]:
    """Annotations whose geometry meets (intersects, not only lies within) the site's area:
    the index with the site's bounds first, then the exact test against the area, in SQL on
    both backends. Every list and count of a site's annotations uses this."""
    bounds = (site.min_lon, site.min_lat, site.max_lon, site.max_lat)
    area: BindParameter[str] = bindparam(None, site.area_geojson, unique=True)
    if session.get_bind().dialect.name == "postgresql":
        # a subquery, run once per statement: in a generic plan (see `in_bounds`) the area
        # as a bare expression of a parameter was parsed again for every candidate row
        # (2.4-4 s for a count that took 60 ms, from the 11th run of the statement on)
        shape_ = select(func.ST_SetSRID(func.ST_GeomFromGeoJSON(area), 4326)).scalar_subquery()
        exact: ColumnElement[Any] = func.ST_Intersects(_GEOM, shape_)
    else:
        inner, outer = inner_rectangles(site.area_geojson), outer_rectangles(site.area_geojson)
        exact = or_(
            *_within_any(inner), and_(not_(or_(false(), *_within_any(outer))), _meets_sqlite(area))
        )
    return and_(in_bounds(session, bounds), exact)


def _within_any(rectangles: tuple[Rectangle, ...]) -> list[ColumnElement[bool]]:
    """Rows whose bounding box lies within one of the rectangles: wholly inside the area
    (they meet it) or wholly outside it (they do not), known without the exact test."""
    return [
        and_(
            Annotation.min_lon >= west,
            Annotation.max_lon <= east,
            Annotation.min_lat >= south,
            Annotation.max_lat <= north,
        )
        for west, south, east, north in rectangles
    ]


def _meets_sqlite(area: BindParameter[str]) -> ColumnElement[bool]:
    return (
        getattr(func, MEETS_AREA)(
            Annotation.min_lon,
            Annotation.min_lat,
            Annotation.max_lon,
            Annotation.max_lat,
            Annotation.geometry_geojson,
            area,
        )
        == 1
    )
