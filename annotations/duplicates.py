"""Possible duplicates: another annotation on the same image that is probably the same object.

A save or a "still there" copy is checked against the annotations already on its image:
those of a compatible label (the same one, one above the other in the taxonomy, or one of
them "unknown" in the other's branch) whose outline overlaps it by an IoU of at least
`Thresholds.iou` (areas), or that lie within `Thresholds.distance_m` metres of it (points and
lines, measured on the ellipsoid). The lookup is bounded: the spatial index (SQLite's R*Tree,
PostGIS's GiST) gives the annotations whose boxes meet this one's, on this image only.

IoU is computed in degrees: over an object's few hundred metres, longitude and latitude are an
affine map of the ground, and an affine map keeps ratios of areas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from sqlalchemy import text
from sqlalchemy.orm import Session

from annotations.annotation import Actor, Annotation, check_version, may_edit
from annotations.annotation import get as get_annotation
from annotations.db import utcnow
from annotations.errors import InvalidInput
from annotations.history import record
from annotations.measure import GEOD

CODE = "possible_duplicate"
#: statuses whose annotations a duplicate is looked for among (a rejected one counts nowhere)
CHECKED_STATUSES = ("draft", "in_review", "approved")
#: at most this many warnings per save, the likeliest first
MAX_WARNINGS = 5
METRES_PER_DEGREE_LAT = 111_320.0


@dataclass(frozen=True)
class Thresholds:
    """When two annotations are possibly one object: IoU of areas at least `iou` (0..1),
    or points and lines at most `distance_m` apart."""

    iou: float = 0.5
    distance_m: float = 10.0


@dataclass(frozen=True)
class Duplicate:
    """A warning: `annotation` may be the same object as the one saved."""

    annotation: str
    label: str
    iou: float | None = None
    distance_m: float | None = None

    def to_dict(self, label_name: str | None = None) -> dict[str, Any]:
        name = label_name or self.label
        if self.iou is not None:
            how = f"overlaps it by {self.iou:.0%} (IoU)"
            measured: dict[str, Any] = {"iou": self.iou}
        else:
            how = f"is {self.distance_m:.1f} m from it"
            measured = {"distance_m": self.distance_m}
        return {
            "code": CODE,
            "annotation": self.annotation,
            "label": self.label,
            "label_name": label_name,
            **measured,
            "message": f"possibly the same object as an annotation of {name} that {how}; "
            "mark it the same object, or dismiss this if they are different objects",
        }


def generic_root(label: str) -> str:
    """The branch a label stands for: 'aircraft.unknown.large' stands for any 'aircraft'."""
    parts = label.split(".")
    if "unknown" in parts:
        return ".".join(parts[: parts.index("unknown")]) or label
    return label


def _under(label: str, prefix: str) -> bool:
    return label == prefix or label.startswith(prefix + ".")


def compatible(a: str, b: str) -> bool:
    """Whether two labels may name one object: the same, one the parent of the other, or
    one of them generic ('unknown') in the other's branch."""
    return _under(a, generic_root(b)) or _under(b, generic_root(a))


def is_area(geometry: BaseGeometry) -> bool:
    return isinstance(geometry, shapely.Polygon | shapely.MultiPolygon)


def iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return 0.0 if union == 0 else a.intersection(b).area / union


def distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Metres between the nearest points of two shapes, on the ellipsoid."""
    if a.intersects(b):
        return 0.0
    near_a, near_b = nearest_points(a, b)
    return float(GEOD.inv(near_a.x, near_a.y, near_b.x, near_b.y)[2])


def search_box(geometry: BaseGeometry, distance: float) -> tuple[float, float, float, float]:
    """The shape's bounds grown by `distance` metres (for points and lines)."""
    west, south, east, north = geometry.bounds
    if is_area(geometry):
        return west, south, east, north
    lat = distance / METRES_PER_DEGREE_LAT
    lon = lat / max(math.cos(math.radians(max(abs(south), abs(north)))), 0.01)
    return west - lon, south - lat, east + lon, north + lat


#: per backend, the live annotations of the image other than this one (and not already marked
#: one object with it, either way round) whose boxes meet :west..:north, found through the
#: spatial index; on SQLite the R*Tree drives the join (CROSS JOIN keeps that order), so however
#: many annotations an image holds, only those near the new one are read
CANDIDATES = {
    "sqlite": text(
        "SELECT a.id, a.label, a.geometry_geojson FROM annotations_rtree r "
        "CROSS JOIN annotations a ON a.rowid = r.id "
        "WHERE r.min_lon <= :east AND r.max_lon >= :west AND r.min_lat <= :north "
        "AND r.max_lat >= :south "
        "AND a.image_id = :image AND a.id != :me AND a.deleted_at IS NULL "
        "AND a.status IN ('draft', 'in_review', 'approved') "
        "AND (a.same_as IS NULL OR a.same_as != :me) AND a.id != :partner"
    ),
    "postgresql": text(
        "SELECT a.id, a.label, a.geometry_geojson FROM annotations a "
        "WHERE a.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) "
        "AND a.image_id = :image AND a.id != :me AND a.deleted_at IS NULL "
        "AND a.status IN ('draft', 'in_review', 'approved') "
        "AND (a.same_as IS NULL OR a.same_as != :me) AND a.id != :partner"
    ),
}
BY_COLUMNS = text(
    "SELECT a.id, a.label, a.geometry_geojson FROM annotations a "
    "WHERE a.min_lon <= :east AND a.max_lon >= :west AND a.min_lat <= :north "
    "AND a.max_lat >= :south "
    "AND a.image_id = :image AND a.id != :me AND a.deleted_at IS NULL "
    "AND a.status IN ('draft', 'in_review', 'approved') "
    "AND (a.same_as IS NULL OR a.same_as != :me) AND a.id != :partner"
)


@dataclass(frozen=True)
class Candidate:
    id: str
    label: str
    geometry: BaseGeometry


def candidates(
    session: Session, annotation: Annotation, geometry: BaseGeometry, distance: float
) -> list[Candidate]:
    """Live annotations on the same image whose boxes meet this one's (grown by `distance`
    for points and lines), other than itself and those already marked the same object."""
    session.flush()  # an edit's new shape is in the indexes before it is looked up
    west, south, east, north = search_box(geometry, distance)
    statement = CANDIDATES.get(session.get_bind().dialect.name, BY_COLUMNS)
    rows = session.execute(
        statement,
        {
            "west": west,
            "south": south,
            "east": east,
            "north": north,
            "image": annotation.image_id,
            "me": annotation.id,
            "partner": annotation.same_as or "",
        },
    )
    return [
        Candidate(row.id, row.label, shapely.from_geojson(row.geometry_geojson)) for row in rows
    ]


def find_duplicates(
    session: Session, annotation: Annotation, thresholds: Thresholds
) -> list[Duplicate]:
    """Possible duplicates of `annotation` (saved, flushed) on its image, likeliest first."""
    geometry = shapely.from_geojson(annotation.geometry_geojson)
    found: list[Duplicate] = []
    for other in candidates(session, annotation, geometry, thresholds.distance_m):
        if not compatible(annotation.label, other.label):
            continue
        shape = other.geometry
        if is_area(geometry) and is_area(shape):
            overlap = iou(geometry, shape)
            if overlap >= thresholds.iou:
                found.append(Duplicate(other.id, other.label, iou=round(overlap, 3)))
        else:
            apart = distance_m(geometry, shape)
            if apart <= thresholds.distance_m:
                found.append(Duplicate(other.id, other.label, distance_m=round(apart, 2)))
    found.sort(key=lambda d: (-(d.iou or 0.0), d.distance_m or 0.0, d.annotation))
    return found[:MAX_WARNINGS]


def warnings_of(
    duplicates: Iterable[Duplicate], label_names: dict[str, str]
) -> list[dict[str, Any]]:
    return [d.to_dict(label_names.get(d.label)) for d in duplicates]


# ---- "same object as": a link from an annotation to another on the same capture ----------

#: how far a chain of same-object links is followed to the annotation that stands for them all
MAX_CHAIN = 50


def _snapshot(annotation: Annotation) -> dict[str, Any]:
    return annotation.to_feature()


def _mark(
    session: Session,
    annotation: Annotation,
    target: str | None,
    actor: Actor,
    comment: str,
) -> Annotation:
    before = _snapshot(annotation)
    annotation.same_as = target
    annotation.version += 1
    annotation.updated_by = actor.name
    annotation.updated_at = utcnow()
    after = _snapshot(annotation)
    record(session, annotation.id, annotation.version, "edit", actor.name, before, after, comment)
    return annotation


def set_same_as(
    session: Session,
    annotation: Annotation,
    other_id: str,
    actor: Actor,
    expected_version: int | None,
    comment: str | None = None,
) -> Annotation:
    """Mark `annotation` the same object as `other_id` (on the same capture): counted once,
    as the other. The link goes to the annotation the other stands for when the other is
    itself marked the same as a third. Who may do it: whoever may edit `annotation`."""
    check_version(annotation, expected_version)
    may_edit(annotation, actor)
    if other_id == annotation.id:
        raise InvalidInput("an annotation cannot be the same object as itself; pick another")
    other = get_annotation(session, other_id)
    if other.image_id != annotation.image_id:
        raise InvalidInput(
            f"the same object is marked on one capture: annotation {annotation.id} is on image "
            f"{annotation.image_id}, annotation {other.id} on image {other.image_id}",
            details={"where": "annotation"},
        )
    root = other
    for _ in range(MAX_CHAIN):
        if root.same_as is None:
            break
        found = session.get(Annotation, root.same_as)
        if found is None or found.deleted_at is not None:
            break
        root = found
    if root.id == annotation.id:
        raise InvalidInput(
            f"annotation {other.id} is marked the same object as this one already; "
            "clear that link first to turn it round"
        )
    if annotation.same_as == root.id:
        raise InvalidInput(f"this annotation is marked the same object as {root.id} already")
    why = comment or f"the same object as annotation {root.id}"
    return _mark(session, annotation, root.id, actor, why)


def clear_same_as(
    session: Session,
    annotation: Annotation,
    actor: Actor,
    expected_version: int | None,
    comment: str | None = None,
) -> Annotation:
    """Undo `set_same_as`: the annotation is its own object again, counted on its own."""
    check_version(annotation, expected_version)
    may_edit(annotation, actor)
    if annotation.same_as is None:
        raise InvalidInput("this annotation is not marked the same object as another")
    why = comment or f"not the same object as annotation {annotation.same_as}"
    return _mark(session, annotation, None, actor, why)


def merged_ids(annotations: Iterable[Any]) -> set[str]:
    """Of a set of annotations counted together, those that are the same object as another
    one in the set: each object is counted once, as the one the others point at."""
    rows = list(annotations)
    present = {row.id for row in rows}
    return {row.id for row in rows if row.same_as is not None and row.same_as in present}
