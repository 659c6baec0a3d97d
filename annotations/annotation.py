"""Annotations: what an analyst saw on one image, as a GeoJSON Feature with provenance.

GeoJSON appears only at the edges (`annotations.feature.parse_feature`, `to_feature`); in between an
annotation is a typed row. Every change goes through the functions here, which check
the actor's role, the version the actor last saw, and append a revision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.catalogue.images import Image, get_image
from annotations.catalogue.users import Role
from annotations.db import Base, BoundingBox, UTCDateTime, new_ids, utcnow
from annotations.errors import AnnotationError, InvalidInput, NotFound
from annotations.feature import AnnotationInput
from annotations.geometry import geojson_texts
from annotations.history import (
    Creation,
    Same,
    insert_columns,
    record,
    record_creations,
    revisions_of,
)
from annotations.measure import measure, measurement_texts, with_placement_error
from annotations.times import parse_time
from imagery.georef.placement import placement_error_m

STATUSES = ("draft", "in_review", "approved", "rejected")


def status_words(status: str) -> str:
    """A status as people say it: 'in review', not 'in_review'."""
    return status.replace("_", " ")


#: status -> statuses it may move to, and the least role that may move it there
TRANSITIONS: dict[str, dict[str, Role]] = {
    "draft": {"in_review": Role.analyst},
    "in_review": {"approved": Role.editor, "rejected": Role.editor, "draft": Role.analyst},
    "rejected": {"draft": Role.analyst, "in_review": Role.analyst},
    "approved": {"in_review": Role.editor},
}


class Forbidden(AnnotationError):
    """The actor's role or ownership does not allow this change."""


class VersionConflict(AnnotationError):
    """The change was made against an older version; `details` holds the current one."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role


class Annotation(Base, BoundingBox):
    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_page", "created_at", "id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id"), index=True)
    label: Mapped[str] = mapped_column(String(120), index=True)
    shape: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=1)
    attributes_json: Mapped[str] = mapped_column(Text, default="{}")
    notes: Mapped[str] = mapped_column(Text, default="")
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    geometry_geojson: Mapped[str] = mapped_column(Text)
    measurements_json: Mapped[str] = mapped_column(Text, default="{}")
    source_json: Mapped[str] = mapped_column(Text, default="{}")
    created_by: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: the annotation this one was copied from, on another capture ("still there")
    derived_from: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    #: the annotation on the same capture this one is the same object as (counted once)
    same_as: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    #: for imported annotations, a digest of the source feature (its id, geometry and
    #: image), so importing the same file again finds what it made the first time
    import_key: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )

    @property
    def geometry(self) -> BaseGeometry:
        return shape(json.loads(self.geometry_geojson))

    @property
    def etag(self) -> str:
        return f"{self.id}-v{self.version}"

    def to_feature(
        self, label_name: str | None = None, reports: list[int] | None = None
    ) -> dict[str, Any]:
        """The Feature as a dict: one definition, `feature_text`, for both forms."""
        result: dict[str, Any] = orjson.loads(feature_text(self, label_name, reports))
        return result


def feature_text(row: Any, label_name: str | None, reports: list[int] | None = None) -> str:
    """An annotation as GeoJSON Feature text, from an Annotation or a result row: the JSON
    columns are spliced in as stored, never parsed and re-encoded, and the rest is encoded
    by orjson (datetimes as RFC 3339 with 'Z')."""
    head = orjson.dumps(
        {
            "label": row.label,
            "label_name": label_name,
            "shape": row.shape,
            "confidence": row.confidence,
            "count": row.count,
        }
    )[:-1].decode()
    middle = orjson.dumps(
        {
            "notes": row.notes,
            "image_id": row.image_id,
            "observed_at": row.observed_at,
            "status": row.status,
            "version": row.version,
            "created_by": row.created_by,
            "created_at": row.created_at,
            "updated_by": row.updated_by,
            "updated_at": row.updated_at,
            "deleted": row.deleted_at is not None,
            "derived_from": row.derived_from,
            "same_as": row.same_as,
        },
        option=orjson.OPT_UTC_Z,
    )[1:-1].decode()
    return (
        f'{{"type":"Feature","id":"{row.id}","geometry":{row.geometry_geojson},'
        f'"properties":{head},"attributes":{row.attributes_json},{middle},'
        f'"measurements":{row.measurements_json},"source":{row.source_json},'
        f'"reports":{orjson.dumps(reports or []).decode()}}}}}'
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# ---- changes, each checked and recorded --------------------------------------------


def _snapshot(annotation: Annotation) -> dict[str, Any]:
    return annotation.to_feature()


def _source_of(image: Image) -> dict[str, Any]:
    return {
        "image_sha256": image.sha256,
        "provider": image.provider,
        "licence": image.licence,
        "attribution": image.attribution,
        "gsd_m": image.gsd_m,
        "captured_at": _iso(image.captured_at),
        "synthetic": image.synthetic,
    }


class ImageCache:
    """Images with their parsed footprints and provenance, looked up once per batch."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._found: dict[str, tuple[Image, BaseGeometry, dict[str, Any]]] = {}

    def get(self, image_id: str) -> tuple[Image, BaseGeometry, dict[str, Any]]:
        if image_id not in self._found:
            image = get_image(self._session, image_id)
            footprint = image.footprint
            shapely.prepare(footprint)
            self._found[image_id] = (image, footprint, _source_of(image))
        return self._found[image_id]


def _apply(session: Session, annotation: Annotation, data: AnnotationInput) -> None:
    for name, value in _content(data, ImageCache(session)).items():
        setattr(annotation, name, value)


def _extent(image: Image) -> str:
    """The footprint's real extent in words: "lon 179.5000 to -179.5000 across 180, ..." for
    an image cut at the antimeridian (its columns hold -180..180 then)."""
    west, south, east, north = image.rfc7946_bbox
    lon = f"lon {west:.4f}..{east:.4f}"
    if west > east:
        lon = f"lon {west:.4f} to {east:.4f} across 180"
    return f"{lon}, lat {south:.4f}..{north:.4f}"


def _content(data: AnnotationInput, images: ImageCache) -> dict[str, Any]:
    """The columns an annotation's content fills, checked against its image."""
    image, footprint, source = images.get(data.image_id)
    if not data.geometry.intersects(footprint):
        raise InvalidInput(
            f"the geometry does not meet the footprint of image {image.id} "
            f"({_extent(image)}); are lon and lat swapped?",
            details={"where": "geometry", "image_bbox": image.rfc7946_bbox},
        )
    west, south, east, north = data.geometry.bounds
    return {
        "image_id": image.id,
        "label": data.label,
        "shape": data.shape,
        "confidence": data.confidence,
        "count": data.count,
        "attributes_json": json.dumps(data.attributes, ensure_ascii=False, sort_keys=True),
        "notes": data.notes,
        "observed_at": data.observed_at or image.captured_at,
        "geometry_geojson": json.dumps(mapping(data.geometry), separators=(",", ":")),
        "min_lon": west,
        "min_lat": south,
        "max_lon": east,
        "max_lat": north,
        "measurements_json": with_placement_error(
            json.dumps(measure(data.geometry).to_dict()), placement_error_m(image.georeferencing)
        ),
        "source_json": json.dumps(source, ensure_ascii=False),
    }


def as_input(annotation: Annotation) -> AnnotationInput:
    return AnnotationInput(
        geometry=annotation.geometry,
        label=annotation.label,
        image_id=annotation.image_id,
        shape=annotation.shape,
        confidence=annotation.confidence,
        count=annotation.count,
        attributes=json.loads(annotation.attributes_json),
        notes=annotation.notes,
        observed_at=annotation.observed_at,
    )


@dataclass(frozen=True)
class Origin:
    """Where an imported annotation came from: kept in its `source` and its history."""

    file: str
    sha256: str
    layer: str
    feature_id: str
    key: str

    def to_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "layer": self.layer,
            "feature_id": self.feature_id,
        }

    def comment(self) -> str:
        return (
            f"imported from {self.file} (sha256 {self.sha256}), layer {self.layer}, "
            f"feature {self.feature_id}"
        )


def create(
    session: Session,
    data: AnnotationInput,
    actor: Actor,
    comment: str | None = None,
    *,
    derived_from: str | None = None,
) -> Annotation:
    _may_create(actor)
    now = utcnow()
    annotation = Annotation(
        id=uuid.uuid4().hex,
        status="draft",
        version=1,
        created_by=actor.name,
        created_at=now,
        updated_by=actor.name,
        updated_at=now,
        derived_from=derived_from,
    )
    _apply(session, annotation, data)
    session.add(annotation)
    session.flush()
    record(session, annotation.id, 1, "create", actor.name, None, _snapshot(annotation), comment)
    return annotation


def create_many(
    session: Session,
    items: Iterable[tuple[AnnotationInput, Origin | None]],
    actor: Actor,
    *,
    batch: int = 5000,
    after_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Create many annotations in the caller's transaction, each checked, measured and
    recorded as `create` does (the same columns and `create` revision, to the character),
    `batch` at a time: images looked up once, footprints, bounds, measurements and GeoJSON
    text computed on arrays, rows inserted by one executemany (for imports of 100,000
    features). `after_batch(made so far)` is called after each batch (an import's progress;
    whatever it raises rolls the caller's transaction back). Returns the ids."""
    _may_create(actor)
    images = ImageCache(session)
    now = utcnow()
    made: list[str] = []
    items = list(items)
    with _indexes_after(session, len(items)):
        for start in range(0, len(items), batch):
            made += _insert_many(session, items[start : start + batch], images, actor, now)
            if after_batch is not None:
                after_batch(len(made))
    return made


#: from this many new annotations on, SQLite's R*Tree is filled after the rows, not by its
#: trigger row by row (which takes about two thirds of the time of inserting them)
SPATIAL_INDEX_AFTER = 1_000
_RTREE_TRIGGER = "annotations_rtree_insert"
#: SQLite's page cache during such an insert (KiB; the default is 2 MiB): the new rows'
#: random ids and import keys land all over their indexes, which outgrow a small cache and
#: are then written out and read back page by page (an insert of 100,000 rows took 6.6 times
#: as long as one of 20,000); the cache only grows as far as it is used
BULK_CACHE_KB = 256 * 1024


#: SQLite's indexes of a table that gets at least as many new rows as it holds are made
#: again once the rows are in (a sort), rather than filled row by row in random order (the
#: ids and keys are random): about a fifth of the SQL time of a first import
LATE_INDEX_TABLES = ("annotations", "revisions")


@contextmanager
def _indexes_after(session: Session, new_rows: int) -> Iterator[None]:
    """On SQLite, for `new_rows` >= `SPATIAL_INDEX_AFTER`: new annotations' boxes go into
    the R*Tree in one statement once they are all inserted, and the indexes of a table
    that gets at least as many rows as it has are made again after them
    (`LATE_INDEX_TABLES`): the trigger and the indexes are dropped and made again inside
    the caller's transaction, so another connection never sees them missing (a failure
    rolls it back; a unique index that no longer holds fails the transaction). The
    connection's page cache is `BULK_CACHE_KB` meanwhile."""
    connection = session.connection()
    if new_rows < SPATIAL_INDEX_AFTER or connection.dialect.name != "sqlite":
        yield
        return
    late: list[str] = []
    for table in LATE_INDEX_TABLES:
        held = connection.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table}")  # noqa: S608
        if new_rows >= held.scalar_one():
            indexes = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            ).all()
            for name, sql in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
                late.append(sql)
    with _spatial_index_after(connection):
        yield
        for sql in late:  # a failure above leaves them to the rollback
            connection.exec_driver_sql(sql)


@contextmanager
def _spatial_index_after(connection: Connection) -> Iterator[None]:
    """New annotations' boxes go into the R*Tree in one statement once they are all
    inserted (see `_indexes_after`)."""
    trigger = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_RTREE_TRIGGER,)
    ).scalar()
    if trigger is None:
        yield
        return
    last = connection.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM annotations").scalar()
    connection.exec_driver_sql(f"DROP TRIGGER {_RTREE_TRIGGER}")
    cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
    try:
        try:
            yield
        except BaseException:
            with suppress(Exception):  # the rollback that follows restores it in any case
                connection.exec_driver_sql(trigger)
            raise
        connection.exec_driver_sql(
            "INSERT INTO annotations_rtree SELECT rowid, min_lon, max_lon, min_lat, max_lat "
            "FROM annotations WHERE rowid > ?",
            (last,),
        )
        connection.exec_driver_sql(trigger)
    finally:
        with suppress(Exception):
            connection.exec_driver_sql(f"PRAGMA cache_size = {cache}")


def _insert_many(
    session: Session,
    items: list[tuple[AnnotationInput, Origin | None]],
    images: ImageCache,
    actor: Actor,
    now: datetime,
) -> list[str]:
    count = len(items)
    geometries = np.empty(count, dtype=object)
    geometries[:] = [data.geometry for data, _ in items]
    _check_footprints(items, geometries, images)
    bounds = shapely.bounds(geometries).T.tolist()
    geojson = geojson_texts(geometries)
    measured = measurement_texts(geometries)
    ids = new_ids(count)
    sources: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    errors: dict[str, float | None] = {}
    image_ids: list[str] = []
    labels: list[str] = []
    shapes: list[str] = []
    confidences: list[str] = []
    counts: list[int] = []
    attributes: list[str] = []
    notes: list[str] = []
    observed: list[datetime | None] = []
    measurements: list[str] = []
    source_texts: list[str] = []
    keys: list[str | None] = []
    created: list[Creation] = []
    for (data, origin), annotation_id, geometry_text, measurement in zip(
        items, ids, geojson, measured, strict=True
    ):
        image, _, source = images.get(data.image_id)
        if image.id not in errors:
            errors[image.id] = placement_error_m(image.georeferencing)
        image_ids.append(image.id)
        labels.append(data.label)
        shapes.append(data.shape)
        confidences.append(data.confidence)
        counts.append(data.count)
        attributes.append(
            json.dumps(data.attributes, ensure_ascii=False, sort_keys=True)
            if data.attributes
            else "{}"
        )
        notes.append(data.notes)
        observed.append(data.observed_at or image.captured_at)
        measurements.append(with_placement_error(measurement, errors[image.id]))
        source_texts.append(_source_text(sources, image.id, source, origin))
        keys.append(origin.key if origin else None)
        snapshot = feature_text(
            SimpleNamespace(
                id=annotation_id,
                label=data.label,
                shape=data.shape,
                confidence=data.confidence,
                count=data.count,
                notes=data.notes,
                image_id=image.id,
                observed_at=observed[-1],
                status="draft",
                version=1,
                created_by=actor.name,
                created_at=now,
                updated_by=actor.name,
                updated_at=now,
                deleted_at=None,
                derived_from=None,
                same_as=None,
                geometry_geojson=geometry_text,
                attributes_json=attributes[-1],
                measurements_json=measurements[-1],
                source_json=source_texts[-1],
            ),
            None,
        )
        created.append(Creation(annotation_id, snapshot, origin.comment() if origin else None))
    columns: dict[str, list[Any] | Same] = {
        "image_id": image_ids,
        "label": labels,
        "shape": shapes,
        "confidence": confidences,
        "count": counts,
        "attributes_json": attributes,
        "notes": notes,
        "observed_at": observed,
        "measurements_json": measurements,
        "source_json": source_texts,
        "import_key": keys,
        "geometry_geojson": geojson,
        "min_lon": bounds[0],
        "min_lat": bounds[1],
        "max_lon": bounds[2],
        "max_lat": bounds[3],
        "id": ids,
        "status": Same("draft"),
        "version": Same(1),
        "created_by": Same(actor.name),
        "created_at": Same(now),
        "updated_by": Same(actor.name),
        "updated_at": Same(now),
        "deleted_at": Same(None),
        "deleted_by": Same(None),
        "derived_from": Same(None),
        "same_as": Same(None),
    }
    if session.connection().dialect.name == "postgresql":  # kept by its trigger (0012)
        columns["geom"] = shapely.to_wkb(
            shapely.set_srid(geometries, 4326), hex=True, output_dimension=2, include_srid=True
        ).tolist()
    insert_columns(session, Annotation.__tablename__, count, columns)
    record_creations(session, created, actor.name, now)
    return ids


def _check_footprints(
    items: list[tuple[AnnotationInput, Origin | None]], geometries: np.ndarray, images: ImageCache
) -> None:
    """`_content`'s check, for each image's geometries at once: the first that does not
    meet its image's footprint is refused with the same words."""
    by_image: dict[str, list[int]] = {}
    for position, (data, _) in enumerate(items):
        by_image.setdefault(data.image_id, []).append(position)
    missing: list[int] = []
    for image_id, positions in by_image.items():
        footprint = images.get(image_id)[1]
        meets = shapely.intersects(footprint, geometries[positions])
        missing += np.asarray(positions)[~meets].tolist()
    if missing:
        _content(items[min(missing)][0], images)  # raises the refusal


def _source_text(
    cache: dict[tuple[str, str, str, str], tuple[str, str]],
    image_id: str,
    source: dict[str, Any],
    origin: Origin | None,
) -> str:
    """`json.dumps` of the image's provenance and where the feature came from: the text
    around the feature id made once per image and file layer, the id encoded alone."""
    if origin is None:
        return json.dumps(source, ensure_ascii=False)
    key = (image_id, origin.file, origin.sha256, origin.layer)
    if key not in cache:
        mark = uuid.uuid4().hex  # no file name or layer holds it
        template = json.dumps(
            source | {"imported_from": Origin(*key[1:], mark, "").to_dict()}, ensure_ascii=False
        )
        head, _, tail = template.partition(json.dumps(mark, ensure_ascii=False))
        cache[key] = (head, tail)
    head, tail = cache[key]
    return head + json.dumps(origin.feature_id, ensure_ascii=False) + tail


def _may_create(actor: Actor) -> None:
    if actor.role < Role.analyst:
        raise Forbidden(f"creating annotations needs the analyst role; {actor.name} is a viewer")


def copy_to(session: Session, source: Annotation, image_id: str, actor: Actor) -> Annotation:
    """Still there on this date: the same object on another capture, as a new draft by
    `actor` with the same label, shape, geometry, confidence, count, attributes and notes,
    observed at that capture's time and linked back to `source` (`derived_from`)."""
    if image_id == source.image_id:
        raise InvalidInput("the annotation is on that capture already; pick another image")
    image = get_image(session, image_id)
    data = as_input(source)
    if not image.footprint.covers(data.geometry):
        raise InvalidInput(
            f"the annotation reaches outside the footprint of image {image.id} "
            f"({_extent(image)}); that capture does not show it whole",
            details={"where": "geometry", "image_bbox": image.rfc7946_bbox},
        )
    data.image_id, data.observed_at = image.id, None
    why = f"still there: copied from annotation {source.id} on image {source.image_id}"
    return create(session, data, actor, comment=why, derived_from=source.id)


def get(
    session: Session, annotation_id: str, *, include_deleted: bool = False, for_update: bool = False
) -> Annotation:
    """One annotation. `for_update` locks its row until the transaction ends (PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serialises writers), so two edits made against the
    same version cannot both pass the version check."""
    annotation = (
        session.get(Annotation, annotation_id, with_for_update=for_update)
        if len(annotation_id) <= 32
        else None
    )
    if annotation is None or (annotation.deleted_at is not None and not include_deleted):
        raise NotFound(f"no annotation {annotation_id!r}")
    return annotation


def check_version(annotation: Annotation, expected: int | None) -> None:
    if expected is None:
        raise PreconditionRequired(
            "send If-Match with the annotation's current ETag, so a stale edit cannot "
            "overwrite someone else's",
            details={"current": annotation.to_feature()},
        )
    if expected != annotation.version:
        raise VersionConflict(
            f"annotation {annotation.id} is at version {annotation.version}, you edited "
            f"version {expected}; merge with the current version and try again",
            details={"current": annotation.to_feature()},
        )


def may_edit(annotation: Annotation, actor: Actor) -> None:
    if actor.role >= Role.editor:
        return
    if actor.role < Role.analyst:
        raise Forbidden("editing needs the analyst role")
    if annotation.created_by != actor.name:
        raise Forbidden(
            f"analysts edit only their own annotations; this is {annotation.created_by}'s"
        )
    if annotation.status not in ("draft", "rejected"):
        raise Forbidden(f"analysts edit only drafts; this one is {annotation.status}")


def update(
    session: Session,
    annotation: Annotation,
    data: AnnotationInput,
    actor: Actor,
    expected_version: int | None,
    comment: str | None = None,
) -> Annotation:
    check_version(annotation, expected_version)
    may_edit(annotation, actor)
    before = _snapshot(annotation)
    _apply(session, annotation, data)
    _bump(annotation, actor)
    record(
        session,
        annotation.id,
        annotation.version,
        "edit",
        actor.name,
        before,
        _snapshot(annotation),
        comment,
    )
    return annotation


def delete(
    session: Session,
    annotation: Annotation,
    actor: Actor,
    expected_version: int | None,
    comment: str | None = None,
) -> Annotation:
    check_version(annotation, expected_version)
    may_edit(annotation, actor)
    before = _snapshot(annotation)
    annotation.deleted_at = utcnow()
    annotation.deleted_by = actor.name
    _bump(annotation, actor)
    record(
        session,
        annotation.id,
        annotation.version,
        "delete",
        actor.name,
        before,
        _snapshot(annotation),
        comment,
    )
    return annotation


def restore(
    session: Session,
    annotation: Annotation,
    actor: Actor,
    expected_version: int | None,
    to_version: int | None = None,
    comment: str | None = None,
) -> Annotation:
    """Undelete, and with `to_version` bring back the content of an earlier version."""
    check_version(annotation, expected_version)
    may_edit(annotation, actor)
    before = _snapshot(annotation)
    if to_version is not None:
        old = next(
            (
                r
                for r in revisions_of(session, annotation.id)
                if r.version == to_version and r.after_json
            ),
            None,
        )
        if old is None:
            raise NotFound(f"annotation {annotation.id} has no version {to_version}")
        feature = json.loads(old.after_json or "{}")
        _apply(session, annotation, _input_from_snapshot(feature))
    annotation.deleted_at = None
    annotation.deleted_by = None
    _bump(annotation, actor)
    why = comment or (f"restored version {to_version}" if to_version else None)
    record(
        session,
        annotation.id,
        annotation.version,
        "restore",
        actor.name,
        before,
        _snapshot(annotation),
        why,
    )
    return annotation


def set_status(
    session: Session,
    annotation: Annotation,
    status: str,
    actor: Actor,
    expected_version: int | None,
    comment: str | None = None,
) -> Annotation:
    check_version(annotation, expected_version)
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    allowed = TRANSITIONS[annotation.status]
    if status not in allowed:
        options = " or ".join(status_words(s) for s in allowed) or "nothing"
        now = "a draft" if annotation.status == "draft" else status_words(annotation.status)
        raise InvalidInput(
            f"this annotation is {now}: it can move to {options}, not to {status_words(status)}"
        )
    needed = allowed[status]
    if actor.role < needed:
        raise Forbidden(f"moving it to {status_words(status)} needs the {needed.name} role")
    if needed == Role.analyst and actor.role < Role.editor and annotation.created_by != actor.name:
        raise Forbidden("analysts submit only their own annotations")
    if status == "rejected" and not (comment and comment.strip()):
        raise InvalidInput("say why: rejecting needs a comment")
    before = _snapshot(annotation)
    annotation.status = status
    _bump(annotation, actor)
    record(
        session,
        annotation.id,
        annotation.version,
        "status",
        actor.name,
        before,
        _snapshot(annotation),
        comment,
    )
    return annotation


def _bump(annotation: Annotation, actor: Actor) -> None:
    annotation.version += 1
    annotation.updated_by = actor.name
    annotation.updated_at = utcnow()


def _input_from_snapshot(feature: dict[str, Any]) -> AnnotationInput:
    props = feature["properties"]
    return AnnotationInput(
        geometry=shape(feature["geometry"]),
        label=props["label"],
        image_id=props["image_id"],
        shape=props["shape"],
        confidence=props["confidence"],
        count=props["count"],
        attributes=props["attributes"],
        notes=props["notes"],
        observed_at=parse_time(props["observed_at"]) if props.get("observed_at") else None,
    )


class PreconditionRequired(AnnotationError):
    """A write without If-Match."""
