"""Importing annotations from a GIS file: plan (what would be made, what is refused and
why), then make them all in one transaction, or none.

Each feature goes onto the image given, else the image its own `image_id` names, else
the one image whose footprint holds it; a feature that meets no image is listed and
left out. Its label comes from a field of the file, through an optional map of values
to label ids. Any other fault (no geometry, a geometry that does not validate, an
unknown label, a mix of CRSs, a layer with no CRS) refuses the whole import, so nothing
is half-imported. Each source feature gets a key (its id, geometry and image); importing
the same features again finds their keys and makes nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotations import jsontext
from annotations.annotation import Actor, AnnotationInput, Origin, create_many
from annotations.catalogue.images import get_image, list_images
from annotations.db import Database
from annotations.errors import AlreadyExists, AnnotationError, InvalidInput
from annotations.exchange.batch import files
from annotations.exchange.batch.collector import collector_paused
from annotations.exchange.batch.geometries import (
    POLYGON,
    TYPE_NAMES,
    checked,
    geometry_array,
    normalise_many,
    one_parts,
)
from annotations.exchange.batch.known import already_made
from annotations.exchange.batch.lookups import stored_annotations, stored_keys
from annotations.exchange.batch.properties import QuickInputs
from annotations.exchange.columns import SHORT_NAMES
from annotations.exchange.readback import lenient, one_part
from annotations.exchange.safety import (
    UnreadableSource,
    check_regular_file,
    fresh_folder,
    remove_folder,
    stage,
    without_paths,
)
from annotations.exchange.sources import Source, SourceFeature, Workspace, read_source
from annotations.feature import parse_feature as parse_annotation
from annotations.labels.taxonomy import Taxonomy

log = logging.getLogger(__name__)

DEFAULT_LABEL_FIELD = "label"
#: properties of an annotation read back from a file when present (as exported; in a
#: Shapefile under their short names, `columns.SHORT_NAMES`)
KNOWN_PROPERTIES = ("shape", "confidence", "count", "attributes", "notes", "observed_at")
LABEL_MAP_LIMIT = 1024 * 1024
#: features planned together: their geometries checked, placed and keyed on arrays
PLAN_BATCH = 5_000
#: an import this large changes the annotations table enough to refresh the planner's view
REFRESH_STATISTICS_AFTER = 1_000


@dataclass(frozen=True)
class ImportOptions:
    image_id: str | None = None
    label_field: str | None = None
    label_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    """A feature left out, and why."""

    feature: SourceFeature
    reason: str
    #: "invalid" refuses a real import; "outside" (no image) and "duplicate" are left out
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.feature.layer,
            "number": self.feature.number,
            "feature_id": self.feature.feature_id,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass
class ImportPlan:
    source: Source
    label_field: str
    to_create: list[tuple[AnnotationInput, Origin]] = field(default_factory=list)
    already_imported: int = 0
    refused: list[Refusal] = field(default_factory=list)
    unknown_labels: list[str] = field(default_factory=list)
    #: the import key of every feature of the file, when each one is made or found stored
    #: by that key (nothing refused): what `batch.files` remembers of an import
    whole_keys: list[str] | None = None

    @property
    def invalid(self) -> list[Refusal]:
        return [r for r in self.refused if r.kind == "invalid"]

    @property
    def outside(self) -> list[Refusal]:
        return [r for r in self.refused if r.kind == "outside"]

    def report(self, dry_run: bool, created: list[str] | None = None) -> dict[str, Any]:
        planned = [data for data, _ in self.to_create]
        return {
            "source": self.source.summary(),
            "dry_run": dry_run,
            "label_field": self.label_field,
            "would_create": len(planned),
            "created": len(created or []),
            "already_imported": self.already_imported,
            "outside_every_image": len(self.outside),
            "invalid": len(self.invalid),
            "unknown_labels": self.unknown_labels,
            "by_label": dict(Counter(d.label for d in planned).most_common()),
            "by_image": dict(Counter(d.image_id for d in planned).most_common()),
            "not_imported": [r.to_dict() for r in self.refused],
            "annotation_ids": created or [],
        }


# ---- the label map ---------------------------------------------------------------------


def read_label_map(path: Path) -> dict[str, str]:
    """Source value -> label id, from a JSON object or a two-column CSV (header optional)."""
    check_regular_file(path, LABEL_MAP_LIMIT)
    return parse_label_map(path.read_bytes(), path.name)


def parse_label_map(raw: bytes, name: str) -> dict[str, str]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the label map {name} is not UTF-8 text") from exc
    if text.lstrip().startswith("{"):
        try:
            data = jsontext.loads(text)
        except ValueError as exc:  # not JSON, or nested too deep
            raise InvalidInput(f"the label map {name} is not valid JSON: {exc}") from exc
        if not all(isinstance(v, str) for v in data.values()):
            raise InvalidInput(f"the label map {name} must map each value to a label id string")
        return {str(k): v for k, v in data.items()}
    mapping_: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2:
            raise InvalidInput(
                f"the label map {name}, line {number}: give two columns, value and label id"
            )
        value, label = row[0].strip(), row[1].strip()
        if number == 1 and value.lower() in ("value", "source") and label.lower() == "label":
            continue
        mapping_[value] = label
    if not mapping_:
        raise InvalidInput(f"the label map {name} is empty")
    return mapping_


# ---- planning ------------------------------------------------------------------------------


def plan_import(
    session: Session,
    source: Source,
    taxonomy: Taxonomy,
    options: ImportOptions,
    *,
    batch: int = PLAN_BATCH,
    after_batch: Callable[[int], None] | None = None,
) -> ImportPlan:
    """What the import would make and refuse; `after_batch(features planned so far)` is
    called after each `batch` features."""
    placement = Placement(session, options.image_id or None, source.image_hint)
    label_field = options.label_field or source.label_field or DEFAULT_LABEL_FIELD
    if source.features and label_field not in source.fields:
        known = ", ".join(source.fields[:40]) or "none"
        raise InvalidInput(
            f"{source.name} has no field {label_field!r} to take labels from; its fields "
            f"are: {known}. Choose one with --label-field (label_field in the API)",
            details={"fields": source.fields},
        )
    bad_targets = sorted({v for v in options.label_map.values() if v not in taxonomy})
    if bad_targets:
        raise InvalidInput(
            f"the label map names labels not in the taxonomy: {', '.join(bad_targets)}",
            details={"unknown_targets": bad_targets},
        )
    plan = ImportPlan(source, label_field)
    unknown: Counter[str] = Counter()
    keys: dict[str, tuple[AnnotationInput, Origin]] = {}
    #: key -> the key an import before one-part multis were read as their part gave it
    legacy: dict[str, str] = {}
    quick = QuickInputs(taxonomy)
    #: features an import of this same file made (`batch.known`), by position: looked for
    #: in the first batch, and only if it holds some in all the others, in one query
    made_by_file = _known(
        session, source, source.features[:batch], placement, taxonomy, label_field, options
    )
    if made_by_file and len(source.features) > batch:
        others = _known(
            session, source, source.features[batch:], placement, taxonomy, label_field, options
        )
        made_by_file.update((batch + position, key) for position, key in others.items())
    #: their keys, as the plan meets them in the file's order
    made_before: set[str] = set()
    for start in range(0, len(source.features), batch):
        if start and after_batch is not None:
            after_batch(start)
        chunk = source.features[start : start + batch]
        found_here = {
            i: made_by_file[start + i] for i in range(len(chunk)) if start + i in made_by_file
        }
        rest = [f for i, f in enumerate(chunk) if i not in found_here]
        planned_rest = iter(
            _plan_batch(rest, taxonomy, quick, placement, label_field, options.label_map)
        )
        outcomes = [
            found_here[i] if i in found_here else next(planned_rest) for i in range(len(chunk))
        ]
        made = [
            (f, o) for f, o in zip(chunk, outcomes, strict=True) if isinstance(o, AnnotationInput)
        ]
        planned = geometry_array([o.geometry for _, o in made])
        found_keys = _keys([f.feature_id for f, _ in made], planned, [o.image_id for _, o in made])
        # a one-part multi read as its part: the key an import before that gave it
        read = geometry_array([f.geometry for f, _ in made])
        old_types = shapely.get_type_id(read) != shapely.get_type_id(planned)
        old_keys = dict.fromkeys(np.flatnonzero(old_types).tolist(), "")
        if old_keys:
            where = list(old_keys)
            for position, old in zip(
                where,
                _keys(
                    [made[i][0].feature_id for i in where],
                    normalise_many(read[where]),
                    [made[i][1].image_id for i in where],
                ),
                strict=True,
            ):
                old_keys[position] = old
        position = 0
        for feature, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, str):  # made by an import of this file: its key
                if outcome in keys or outcome in made_before:
                    plan.refused.append(Refusal(feature, TWICE, "duplicate"))
                else:
                    made_before.add(outcome)
                continue
            if isinstance(outcome, Refusal):
                plan.refused.append(outcome)
                if outcome.kind == "invalid" and outcome.reason.startswith("unknown label"):
                    unknown[str(feature.properties.get(label_field))] += 1
                continue
            key, old_key = found_keys[position], old_keys.get(position)
            position += 1
            origin = Origin(source.name, source.sha256, feature.layer, feature.feature_id, key)
            if origin.key in keys or origin.key in made_before:
                plan.refused.append(Refusal(feature, TWICE, "duplicate"))
                continue
            keys[origin.key] = (outcome, origin)
            if old_key is not None:
                legacy[origin.key] = old_key
    found = stored_keys(session, list(keys) + list(legacy.values()))
    existing = {key for key in keys if key in found or legacy.get(key) in found}
    # a file exported from this catalogue carries each annotation's own id: those that are
    # still here, on the same image, are already here, not new ones to duplicate
    here = stored_annotations(session, [o.feature_id for _, o in keys.values()])
    for key, (data, origin) in keys.items():
        if (origin.feature_id, data.image_id) in here:
            existing.add(key)
    plan.already_imported = len(existing) + len(made_before)
    plan.to_create = [item for key, item in keys.items() if key not in existing]
    plan.unknown_labels = sorted(unknown)
    # found by another key than its own (an old key, or an annotation id): not by key alone
    direct = [key for key in keys if key in found or key not in existing]
    if not plan.refused and len(direct) + len(made_before) == len(source.features):
        plan.whole_keys = direct + list(made_before)
    return plan


TWICE = "the same feature appears twice in the file; it is imported once"


def _known(
    session: Session,
    source: Source,
    chunk: list[SourceFeature],
    placement: Placement,
    taxonomy: Taxonomy,
    label_field: str,
    options: ImportOptions,
) -> dict[int, str]:
    """`batch.known.already_made`: the features of `chunk` an import of this same file
    made, by position, with their keys."""

    labels: dict[tuple[type, Any], str | None] = {}  # (type, value) read -> label id

    def label_of(feature: SourceFeature) -> str | None:
        raw = feature.properties.get(label_field)
        if raw is None or raw == "":
            return None
        try:
            return labels[type(raw), raw]
        except KeyError:
            pass
        except TypeError:  # not hashable: not a label in any case
            return None
        value = _as_text(raw)
        label_id = options.label_map.get(value, value)
        labels[type(raw), raw] = label_id if label_id in taxonomy else None
        return labels[type(raw), raw]

    return already_made(session, source.sha256, chunk, placement.place_many, _keys, label_of)


class Placement:
    """Which image a feature goes on: the one given, the one it names, the one holding it."""

    def __init__(self, session: Session, image_id: str | None, hint: str | None) -> None:
        self.fixed = get_image(session, image_id) if image_id else None
        self.images = [self.fixed] if self.fixed else list_images(session)
        self.by_id = {image.id: image for image in self.images}
        self.ids = np.array([image.id for image in self.images], dtype=object)
        self.index = {image.id: i for i, image in enumerate(self.images)}
        self.footprints = [image.footprint for image in self.images]
        for footprint in self.footprints:
            shapely.prepare(footprint)
        self.tree = shapely.STRtree(self.footprints)
        self.hint = hint if hint in self.by_id else None

    def place_many(self, geometries: np.ndarray, named: list[Any]) -> list[str | None]:
        """The image each geometry goes on where `place` finds exactly one without a
        reason; None where it would refuse or has to choose among several (ask `place`)."""
        by_image: dict[str | None, list[int]] = {}
        if self.fixed is not None or named.count(None) == len(named):  # the same for all
            by_image[self.fixed.id if self.fixed is not None else self.hint] = list(
                range(len(named))
            )
        else:
            for position, name in enumerate(named):
                image = self.fixed
                if image is None and isinstance(name, str):
                    image = self.by_id.get(name)
                if image is None and self.hint:
                    image = self.by_id[self.hint]
                by_image.setdefault(image.id if image is not None else None, []).append(position)
        found = np.full(len(geometries), None, dtype=object)
        for image_id, positions in by_image.items():
            if image_id is not None:
                footprint = self.footprints[self.index[image_id]]
                meets = shapely.intersects(footprint, geometries[positions])
                found[np.asarray(positions, dtype=np.intp)[meets]] = image_id
            elif self.images:
                free = np.asarray(positions, dtype=np.intp)
                hits, trees = self.tree.query(geometries[free], predicate="intersects")
                counts = np.bincount(hits, minlength=len(free))
                alone = counts[hits] == 1
                found[free[hits[alone]]] = self.ids[trees[alone]]
        return list(found.tolist())

    def place(self, geometry: BaseGeometry, named: Any) -> tuple[str | None, str]:
        """The image id, or None and the reason."""
        chosen = self.fixed
        if chosen is None and isinstance(named, str):
            chosen = self.by_id.get(named)
        if chosen is None and self.hint:
            chosen = self.by_id[self.hint]
        if chosen is not None:
            if self.footprints[self.index[chosen.id]].intersects(geometry):
                return chosen.id, ""
            return None, f"it lies outside image {chosen.id}"
        if not self.images:
            return None, "there are no images to put it on; import the image first"
        meeting = [int(i) for i in self.tree.query(geometry, predicate="intersects")]
        if len(meeting) > 1:
            holding = [i for i in meeting if self.footprints[i].contains(geometry)]
            meeting = holding if holding else meeting
        if len(meeting) == 1:
            return self.images[meeting[0]].id, ""
        if not meeting:
            return None, "it lies outside every image"
        ids = ", ".join(sorted(self.images[i].id for i in meeting))
        return None, (
            f"it lies on {len(meeting)} images ({ids}); choose one (--image, or "
            "the image field of the API and the import page)"
        )


def _plan_batch(
    features: list[SourceFeature],
    taxonomy: Taxonomy,
    quick: QuickInputs,
    placement: Placement,
    label_field: str,
    label_map: dict[str, str],
) -> list[AnnotationInput | Refusal]:
    """`_plan_feature` of each feature, the checks made on arrays for the features that
    pass them all; any feature a check would refuse goes through `_plan_feature`, which
    says why (the same reason, in the same order of checks, as for one feature alone)."""
    outcomes: list[AnnotationInput | Refusal | None] = [None] * len(features)
    labels: list[str | None] = [None] * len(features)
    for position, feature in enumerate(features):
        raw = feature.properties.get(label_field)
        if feature.problem or feature.geometry is None or raw is None or raw == "":
            continue
        value = _as_text(raw)
        label_id = label_map.get(value, value)
        if label_id in taxonomy:
            labels[position] = label_id
    candidates = [i for i, label in enumerate(labels) if label is not None]
    geometries = one_parts(geometry_array([features[i].geometry for i in candidates]))
    places = placement.place_many(
        geometries, [features[i].properties.get("image_id") for i in candidates]
    )
    ok, normalised = checked(geometries)
    kinds = shapely.get_type_id(normalised)  # -1 where not ok
    polygons = np.flatnonzero(kinds == POLYGON)
    exteriors = np.zeros(len(normalised), dtype=np.int64)
    exteriors[polygons] = shapely.get_num_coordinates(
        shapely.get_exterior_ring(normalised[polygons])
    )
    kind_names, exterior_points = [TYPE_NAMES.get(k) for k in kinds.tolist()], exteriors.tolist()
    for slot, position in enumerate(candidates):
        image_id = places[slot]
        if image_id is None or not ok[slot]:
            continue
        properties: dict[str, Any] = {"label": labels[position], "image_id": image_id}
        given = features[position].properties
        for name in KNOWN_PROPERTIES:
            value_ = given.get(name)
            if value_ is None:
                value_ = given.get(SHORT_NAMES.get(name, name))
            if value_ is not None and value_ != "":
                properties[name] = _decoded(name, value_)
        outcomes[position] = quick.input(
            normalised[slot], properties, kind_names[slot], exterior_points[slot]
        )
    return [
        outcome
        if outcome is not None
        else _plan_feature(feature, taxonomy, placement, label_field, label_map)
        for feature, outcome in zip(features, outcomes, strict=True)
    ]


def _plan_feature(
    feature: SourceFeature,
    taxonomy: Taxonomy,
    placement: Placement,
    label_field: str,
    label_map: dict[str, str],
) -> AnnotationInput | Refusal:
    if feature.problem:
        return Refusal(feature, feature.problem, "invalid")
    assert feature.geometry is not None
    geometry = one_part(feature.geometry)  # a layer of one declared multi type holds them
    raw = feature.properties.get(label_field)
    if raw is None or raw == "":
        return Refusal(feature, f"the label field {label_field!r} is empty", "invalid")
    value = _as_text(raw)
    label_id = label_map.get(value, value)
    if label_id not in taxonomy:
        return Refusal(
            feature,
            f"unknown label {value!r}: not in the taxonomy and not in the label map",
            "invalid",
        )
    image_id, why = placement.place(geometry, feature.properties.get("image_id"))
    if image_id is None:
        kind = "invalid" if "choose one" in why else "outside"
        return Refusal(feature, why, kind)
    properties: dict[str, Any] = {"label": label_id, "image_id": image_id}
    for name in KNOWN_PROPERTIES:
        value_ = feature.properties.get(name)
        if value_ is None:  # a Shapefile of ours names the field by its DBF short name
            value_ = feature.properties.get(SHORT_NAMES.get(name, name))
        if value_ is not None and value_ != "":
            properties[name] = _decoded(name, value_)
    try:
        return parse_annotation(
            {"type": "Feature", "geometry": mapping(geometry), "properties": properties},
            taxonomy,
        )
    except AnnotationError as exc:
        return Refusal(feature, exc.message, "invalid")


def _decoded(name: str, value: Any) -> Any:
    """GeoPackage and Shapefile hold objects as JSON text; counts may come back as floats,
    or as text (KML without types, CSV); times in GDAL's text form (`readback.lenient`)."""
    if name == "attributes" and isinstance(value, str):
        try:
            return jsontext.loads(value)
        except ValueError:  # not JSON, or nested too deep: kept as text (and refused)
            return value
    return lenient(name, value)


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _key(feature_id: str, geometry: BaseGeometry, image_id: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{feature_id}\n{image_id}\n".encode())
    digest.update(shapely.to_wkb(geometry, output_dimension=2, byte_order=1))
    return digest.hexdigest()


def _keys(feature_ids: list[str], geometries: np.ndarray, image_ids: list[str]) -> list[str]:
    """`_key` of each feature, the geometries written as WKB at once."""
    sha256 = hashlib.sha256
    return [
        sha256(f"{feature_id}\n{image_id}\n".encode() + wkb).hexdigest()
        for feature_id, image_id, wkb in zip(
            feature_ids,
            image_ids,
            shapely.to_wkb(geometries, output_dimension=2, byte_order=1).tolist(),
            strict=True,
        )
    ]


# ---- running -------------------------------------------------------------------------------

#: an import's progress hook: (fraction 0..1, what it is doing, whether the import's write
#: transaction is open) -> True to stop the import (it raises `Cancelled`: nothing is kept)
Progress = Callable[[float, str, bool], bool]


class Cancelled(Exception):
    """The import was stopped by its progress hook between two batches; its transaction was
    rolled back, so nothing of it was kept."""


@dataclass(frozen=True)
class ImportRequest:
    """One import as a user asks for it: where the file is, what to do with it."""

    name: str
    options: ImportOptions
    dry_run: bool
    actor: Actor | None
    tmp_dir: Path
    max_bytes: int
    #: the folder the file came from, where a STAC item's linked files may be (CLI only)
    origin: Path | None = None
    #: told how far the import is after each batch, and may stop it (a background job)
    progress: Progress | None = None
    #: features planned, then written, per batch (between two batches it may be stopped)
    batch: int = PLAN_BATCH

    def step(self, fraction: float, message: str, writing: bool = False) -> None:
        """Report progress to the hook; raise `Cancelled` when it says stop."""
        if self.progress is not None and self.progress(fraction, message, writing):
            raise Cancelled(f"the import of {self.name} was cancelled; nothing was imported")


def import_file(
    database: Database, taxonomy: Taxonomy, stream: IO[bytes], request: ImportRequest
) -> dict[str, Any]:
    """Read the file into a private folder, plan, and (unless a dry run) import it all."""
    started = time.perf_counter()
    log.info(
        "import begins: %s%s",
        request.name,
        " (dry run)" if request.dry_run else "",
        extra={"event": "import.begin", "file": request.name, "dry_run": request.dry_run},
    )
    folder = fresh_folder(request.tmp_dir, "import-")
    try:
        staged = stage(stream, folder, "source", request.max_bytes, request.name)
        workspace = Workspace(folder, request.max_bytes * 4, request.origin)
        request.step(0.0, f"reading {request.name}")
        report = _imported_whole_before(database, taxonomy, staged.sha256, request)
        if report is None:
            with collector_paused():
                source = read_source(staged.path, request.name, staged.sha256, workspace)
                if not source.features:
                    raise UnreadableSource(f"{request.name} holds no features")
                report = run_import(database, taxonomy, source, request)
    except AnnotationError as exc:
        # what GDAL, SQLite or the OS said may name our working copy: name the user's file
        message = without_paths(exc.message, folder, request.name)
        if message != exc.message:
            exc.message = message
            exc.args = (message, *exc.args[1:])
        _log_failure(request, started, message)
        raise
    except BaseException as exc:
        _log_failure(request, started, without_paths(str(exc), folder, request.name))
        raise
    finally:
        remove_folder(folder)
    _log_end(request, started, staged.size, report)
    return report


def _fingerprint(session: Session, taxonomy: Taxonomy, request: ImportRequest) -> str:
    options = request.options
    return files.fingerprint(
        session, request.name, options.image_id, options.label_field, options.label_map, taxonomy
    )


def _imported_whole_before(
    database: Database, taxonomy: Taxonomy, sha256: str, request: ImportRequest
) -> dict[str, Any] | None:
    """The report of an import of a file that an import before accounted for whole, with
    every feature still stored by its key (`batch.files`): nothing new, nothing refused."""
    if not request.dry_run and request.actor is None:
        return None  # the whole path says what is missing
    with database.read() as session:
        summary = files.remembered(session, sha256, _fingerprint(session, taxonomy, request))
    if summary is None:
        return None
    source = summary["source"]
    plan = ImportPlan(Source(source["name"], sha256, source["format"]), summary["label_field"])
    plan.already_imported = int(source["features"])
    report = plan.report(dry_run=request.dry_run)
    report["source"] = source
    return report


def _log_end(request: ImportRequest, started: float, size: int, report: dict[str, Any]) -> None:
    seconds = round(time.perf_counter() - started, 3)
    made = report["would_create"] if request.dry_run else report["created"]
    refused = report["outside_every_image"] + report["invalid"]
    log.info(
        "import ends: %s (%s), %d bytes, %d features, %s %d, already imported %d, "
        "refused %d, %.2f s",
        request.name,
        report["source"]["format"],
        size,
        report["source"]["features"],
        "would create" if request.dry_run else "created",
        made,
        report["already_imported"],
        refused,
        seconds,
        extra={
            "event": "import.end",
            "file": request.name,
            "dry_run": request.dry_run,
            "bytes": size,
            "features": report["source"]["features"],
            "made": made,
            "already_imported": report["already_imported"],
            "refused": refused,
            "seconds": seconds,
        },
    )


def _log_failure(request: ImportRequest, started: float, reason: str) -> None:
    seconds = round(time.perf_counter() - started, 3)
    log.warning(
        "import of %s failed after %.2f s: %s",
        request.name,
        seconds,
        " ".join(reason.split())[:300],
        extra={"event": "import.failed", "file": request.name, "seconds": seconds},
    )


def run_import(
    database: Database, taxonomy: Taxonomy, source: Source, request: ImportRequest
) -> dict[str, Any]:
    """Plan (progress 0.1..0.5), then write all or nothing (0.5..1): the hook is told after
    each batch, and a stop it asks for between write batches rolls the transaction back."""
    total = len(source.features)

    def planned(done: int) -> None:
        request.step(0.1 + 0.4 * done / total, f"checked {done:,} of {total:,} features")

    request.step(0.1, f"checking {total:,} features")
    with database.read() as session:
        print_ = _fingerprint(session, taxonomy, request)
        plan = plan_import(
            session, source, taxonomy, request.options, batch=request.batch, after_batch=planned
        )
    if request.dry_run:
        return plan.report(dry_run=True)
    _refuse_if_invalid(plan)
    if request.actor is None:
        raise InvalidInput("say who imports: an analyst account authors the annotations")
    count = len(plan.to_create)
    request.step(0.5, f"writing {count:,} annotations")

    def written(done: int) -> None:
        request.step(0.5 + 0.5 * done / max(count, 1), f"wrote {done:,} of {count:,}", True)

    try:
        with database.write() as session:
            # another import may have landed since the plan: skip what it made
            existing = stored_keys(session, [origin.key for _, origin in plan.to_create])
            items = [(d, o) for d, o in plan.to_create if o.key not in existing]
            plan.already_imported += len(plan.to_create) - len(items)
            created = create_many(
                session, items, request.actor, batch=request.batch, after_batch=written
            )
            if plan.whole_keys is not None and source.format not in files.NOT_REMEMBERED:
                summary = {"source": source.summary(), "label_field": plan.label_field}
                files.remember(
                    session, source.sha256, print_, summary, plan.whole_keys, request.actor.name
                )
    except IntegrityError as exc:
        raise AlreadyExists(
            "another import of the same features finished meanwhile; run the import again "
            "to see what is left"
        ) from exc
    if len(created) >= REFRESH_STATISTICS_AFTER:
        database.refresh_statistics("annotations")
    return plan.report(dry_run=False, created=created)


def _refuse_if_invalid(plan: ImportPlan) -> None:
    if plan.unknown_labels:
        values = ", ".join(repr(v) for v in plan.unknown_labels[:50])
        raise InvalidInput(
            f"the field {plan.label_field!r} holds values that are not labels of the "
            f"taxonomy: {values}; map them to label ids with a label map (--label-map, or the "
            "label_map field; value -> label id, JSON or CSV); nothing was imported",
            details=plan.report(dry_run=False),
        )
    invalid = plan.invalid
    if invalid:
        first = invalid[0]
        raise InvalidInput(
            f"{len(invalid)} feature{'s' if len(invalid) != 1 else ''} cannot be imported, "
            f"e.g. {first.feature.where}: {first.reason}; nothing was imported (a dry run "
            "lists them all)",
            details=plan.report(dry_run=False),
        )
