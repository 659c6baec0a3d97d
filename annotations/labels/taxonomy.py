"""The label taxonomy: what an analyst can call a thing, with reference sizes to check it by.

The default taxonomy ships as `annotations/data/labels.json`; a deployment extends it with a
`labels.json` in its data folder (new labels, or new names, colours, aliases, attributes or
reference sizes for existing ones). Both files are checked at load time against the JSON
Schema of `annotations.labels.schema`, so a typo stops the app at start with the file, entry
and fault named, rather than surfacing as a bad annotation.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from annotations import jsontext
from annotations.errors import AnnotationError, InvalidInput
from annotations.labels import schema
from annotations.labels.model import ATTRIBUTE_TYPES, AttributeSpec, Label, Reference, parent_of
from annotations.labels.schema import EntryChecker, did_you_mean

__all__ = [
    "ATTRIBUTE_TYPES",
    "CLOSEST_COUNT",
    "COLOUR_PATTERN",
    "DEFAULT_PATH",
    "EXTENSION_FILENAME",
    "PIXEL_TOLERANCE",
    "RELATIVE_TOLERANCE",
    "AttributeSpec",
    "Label",
    "Reference",
    "Taxonomy",
    "TaxonomyError",
    "UnknownLabel",
    "in_branch",
    "load_taxonomy",
]

DEFAULT_PATH = Path(__file__).parents[1] / "data" / "labels.json"
EXTENSION_FILENAME = "labels.json"

COLOUR_PATTERN = re.compile(schema.COLOUR_PATTERN)

# Size matching: a box edge drawn on an image is off by a pixel or two at each end, and the
# quoted figures themselves differ a little between sources and variants.
PIXEL_TOLERANCE = 2.0
RELATIVE_TOLERANCE = 0.03
CLOSEST_COUNT = 5

_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


class TaxonomyError(AnnotationError):
    """The default or a deployment's label file is unreadable or inconsistent."""


class UnknownLabel(InvalidInput):
    """A label id that is not in the taxonomy; `details["closest"]` holds suggestions."""


def in_branch(label_id: str, prefix: str) -> bool:
    """Whether `label_id` is `prefix` or below it: whole dotted segments only."""
    return label_id == prefix or label_id.startswith(prefix + ".")


def load_taxonomy(data_dir: Path | None = None) -> Taxonomy:
    """The shipped taxonomy, extended by `<data_dir>/labels.json` when that file exists."""
    extension = data_dir / EXTENSION_FILENAME if data_dir is not None else None
    return Taxonomy.load(DEFAULT_PATH, extension)


class Taxonomy:
    """All labels by id, in file order (default labels first, then a deployment's)."""

    def __init__(self, labels: Iterable[Label]) -> None:
        self._labels: dict[str, Label] = {}
        for label in labels:
            if label.id in self._labels:
                raise TaxonomyError(f"label {label.id!r} is defined twice")
            self._labels[label.id] = label
        self._order = {label_id: index for index, label_id in enumerate(self._labels)}

    @classmethod
    def load(
        cls, default_path: Path = DEFAULT_PATH, extension_path: Path | None = None
    ) -> Taxonomy:
        """Read the default file and, if it exists, a deployment's extension file.

        Every problem found is reported at once in one TaxonomyError, each naming the file,
        the entry (1-based) and its id.
        """
        entries, faults = _read_file(default_path, overridable=frozenset())
        problems = list(faults)
        merged = {entry.id: entry for entry in entries}
        if extension_path is not None and extension_path.exists():
            entries, faults = _read_file(extension_path, overridable=frozenset(merged))
            problems.extend(faults)
            for entry in entries:
                merged[entry.id] = merged[entry.id].overlay(entry) if entry.id in merged else entry
        for entry in merged.values():
            parent = parent_of(entry.id)
            if parent is not None and parent not in merged:
                problems.append(
                    f"{entry.where}: parent {parent!r} is not defined; add an entry for it"
                )
        if problems:
            raise TaxonomyError(
                "invalid label taxonomy: " + "; ".join(problems), {"problems": problems}
            )
        return cls(_build_labels(merged))

    def __len__(self) -> int:
        return len(self._labels)

    def __iter__(self) -> Iterator[Label]:
        return iter(self._labels.values())

    def __contains__(self, label_id: object) -> bool:
        return isinstance(label_id, str) and label_id in self._labels

    def get(self, label_id: str) -> Label:
        """The label with this id (case-insensitive), or UnknownLabel with close matches."""
        if not isinstance(label_id, str):
            raise UnknownLabel(f"a label must be a string id, not {type(label_id).__name__}")
        label = self._labels.get(label_id) or self._labels.get(label_id.strip().lower())
        if label is None:
            closest = self.closest(label_id)
            hint = ", ".join(f"{c.id} ({c.name})" for c in closest) or "none"
            raise UnknownLabel(
                f"unknown label {label_id!r}; closest labels: {hint}",
                {"label": label_id, "closest": [c.id for c in closest]},
            )
        return label

    def closest(self, text: str, count: int = CLOSEST_COUNT) -> list[Label]:
        """Labels whose id, name or alias looks most like `text`."""
        query = text.strip().lower()[:100]  # difflib is quadratic; ids are short
        compact = _compact(query)

        def similarity(label: Label) -> float:
            best = 0.0
            for candidate in (label.id, _last_segment(label.id), label.name, *label.aliases):
                candidate = candidate.lower()
                best = max(
                    best,
                    difflib.SequenceMatcher(None, query, candidate).ratio(),
                    difflib.SequenceMatcher(None, compact, _compact(candidate)).ratio(),
                )
            return best

        scored = sorted(self, key=lambda label: (-similarity(label), self._order[label.id]))
        return scored[:count]

    def children(self, label_id: str) -> list[Label]:
        self.get(label_id)
        return [label for label in self if label.parent == label_id]

    def branch(self, prefix: str) -> list[Label]:
        """The label `prefix` and everything below it; an unknown prefix is UnknownLabel."""
        root = self.get(prefix)
        return [label for label in self if in_branch(label.id, root.id)]

    def search(self, text: str, limit: int = 10) -> list[Label]:
        """Type-ahead over ids, names and aliases: whole matches, then prefixes, then substrings.

        Every word typed must match; ties keep taxonomy order.
        """
        tokens = [token for token in text.lower().split() if _compact(token)]
        if not tokens or limit <= 0:
            return []
        ranked: list[tuple[int, int, Label]] = []
        for label in self:
            tiers = [_match_tier(label, token) for token in tokens]
            if all(tier is not None for tier in tiers):
                total = sum(tier for tier in tiers if tier is not None)
                ranked.append((total, self._order[label.id], label))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [label for _, _, label in ranked[:limit]]

    def validate_attributes(self, label_id: str, attributes: Any) -> dict[str, Any]:
        """The attributes as stored (enum values in canonical spelling, nulls dropped).

        Raises InvalidInput naming every attribute that does not fit the label's schema.
        """
        label = self.get(label_id)
        if attributes is None:
            return {}
        if not isinstance(attributes, Mapping):
            raise InvalidInput(
                f"attributes must be a JSON object, not {type(attributes).__name__}",
                {"label": label.id},
            )
        cleaned: dict[str, Any] = {}
        faults: dict[str, str] = {}
        for name, value in attributes.items():
            spec = label.attributes.get(name) if isinstance(name, str) else None
            if spec is None:
                known = ", ".join(label.attributes) or "none"
                hint = did_you_mean(str(name), label.attributes)
                faults[str(name)] = f"unknown attribute {name!r}{hint}; {label.id} takes: {known}"
                continue
            if value is None:
                continue
            stored, fault = spec.check(value)
            if fault is not None:
                faults[name] = f"attribute {name!r} {fault}"
            else:
                cleaned[name] = stored
        if faults:
            raise InvalidInput(
                f"attributes do not fit label {label.id}: " + "; ".join(faults.values()),
                {"label": label.id, "attributes": faults},
            )
        return cleaned

    def rank_by_size(
        self,
        length_m: float,
        span_m: float,
        gsd_m: float,
        branch: str = "aircraft",
        max_score: float | None = None,
        placement_error_m: float | None = None,
    ) -> list[tuple[Label, float]]:
        """Labels with a reference size, best fit first, with a score (lower is better).

        The score is the root-mean-square of each dimension's distance outside the reference
        range, in units of tolerance (2 pixels plus 3 % of the reference); 1.0 or less is
        within tolerance. The two measurements may be given in either order, since a box's
        long side may be the span.

        On an image placed with an error (the RMSE of its control points), each side may be
        off by about that much: the reference range is widened by it on either side, so a
        type the measurement cannot tell apart from the truth fits; among the ones that fit
        as well, the closer fit (the score without widening) comes first.
        """
        for what, value in (("length", length_m), ("span", span_m), ("ground sample", gsd_m)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{what} distance must be a number of metres")
            if not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"{what} distance must be a positive number of metres")
        widening = placement_error_m or 0.0
        ranked: list[tuple[Label, float, float]] = []
        for label in self.branch(branch):
            if label.reference is None:
                continue
            score = _size_score(label.reference, length_m, span_m, gsd_m, widening)
            if max_score is None or score <= max_score:
                closeness = _size_score(label.reference, length_m, span_m, gsd_m) if widening else 0
                ranked.append((label, score, closeness))
        ranked.sort(key=lambda item: (item[1], item[2], self._order[item[0].id]))
        return [(label, score) for label, score, _ in ranked]

    def to_dict(self) -> dict[str, Any]:
        return {"labels": [label.to_dict() for label in self]}


# --- reading and checking files -------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One checked entry of a file; None fields are left to the default (for overrides)."""

    id: str
    where: str
    name: str | None = None
    colour: str | None = None
    aliases: tuple[str, ...] | None = None
    description: str | None = None
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    reference: Reference | None = None

    def overlay(self, other: _Entry) -> _Entry:
        """This default entry with a deployment's changes on top; attributes merge by name."""
        return replace(
            self,
            where=other.where,
            name=other.name if other.name is not None else self.name,
            colour=other.colour if other.colour is not None else self.colour,
            aliases=other.aliases if other.aliases is not None else self.aliases,
            description=other.description if other.description is not None else self.description,
            attributes={**self.attributes, **other.attributes},
            reference=other.reference if other.reference is not None else self.reference,
        )


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"key {key!r} appears twice in one object")
        data[key] = value
    return data


def _read_file(
    path: Path, overridable: frozenset[str]
) -> tuple[tuple[_Entry, ...], tuple[str, ...]]:
    """The good entries of one file and its problems; `overridable` ids may be given in part."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read the label file: {exc}") from exc
    return _checked(path, text, overridable)


@functools.lru_cache(maxsize=16)
def _checked(
    path: Path, text: str, overridable: frozenset[str]
) -> tuple[tuple[_Entry, ...], tuple[str, ...]]:
    """Kept for the same text: every app start reads the shipped file, and checking it against
    the schema takes tens of milliseconds (reading it again, well under one)."""
    try:
        data = jsontext.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:
        raise TaxonomyError(f"{path}: {exc}") from exc
    if isinstance(data, dict) and set(data) == {"labels"}:
        data = data["labels"]  # the API's own {"labels": [...]} shape, fed back in
    if not isinstance(data, list):
        raise TaxonomyError(f"{path}: must hold a JSON list of label entries")
    checker = EntryChecker(overridable)
    entries: list[_Entry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data, start=1):
        where = f"{path}: entry {index}"
        checked = checker.check(raw)
        if checked.id is not None:
            where = f"{where} ({checked.id})"
            if checked.id in seen:
                problems.append(f"{where}: duplicate id, already used by entry {seen[checked.id]}")
                continue
            seen[checked.id] = index
        problems.extend(f"{where}: {fault}" for fault in checked.faults)
        if checked.id is not None and not checked.faults:
            entries.append(_entry(raw, where))
    return tuple(entries), tuple(problems)


def _entry(raw: dict[str, Any], where: str) -> _Entry:
    """An entry the schema passed, as values: names and aliases trimmed, colours lowercase."""
    return _Entry(
        id=raw["id"],
        where=where,
        name=raw["name"].strip() if "name" in raw else None,
        colour=raw["colour"].lower() if "colour" in raw else None,
        aliases=tuple(alias.strip() for alias in raw["aliases"]) if "aliases" in raw else None,
        description=raw.get("description"),
        attributes={
            name: AttributeSpec(
                name=name,
                type=spec["type"],
                values=tuple(spec.get("values") or ()),
                min=spec.get("min"),
                max=spec.get("max"),
                unit=spec.get("unit"),
                description=spec.get("description"),
            )
            for name, spec in raw.get("attributes", {}).items()
        },
        reference=_reference(raw["reference"]) if "reference" in raw else None,
    )


def _reference(raw: dict[str, Any]) -> Reference:
    def interval(key: str) -> tuple[float, float] | None:
        low_high = raw.get(key)
        return (float(low_high[0]), float(low_high[1])) if low_high is not None else None

    return Reference(
        length_m=float(raw["length_m"]),
        span_m=float(raw["span_m"]),
        source=raw["source"].strip(),
        checked=raw["checked"],
        note=raw.get("note"),
        length_m_range=interval("length_m_range"),
        span_m_range=interval("span_m_range"),
        span_swept_m=float(raw["span_swept_m"]) if "span_swept_m" in raw else None,
    )


def _build_labels(entries: Mapping[str, _Entry]) -> list[Label]:
    """Labels in file order, each with its ancestors' attributes under its own."""
    inherited: dict[str, dict[str, AttributeSpec]] = {}

    def attributes_of(label_id: str) -> dict[str, AttributeSpec]:
        if label_id not in inherited:
            parent = parent_of(label_id)
            base = attributes_of(parent) if parent is not None else {}
            inherited[label_id] = {**base, **entries[label_id].attributes}
        return inherited[label_id]

    labels = []
    for entry in entries.values():
        assert entry.name is not None and entry.colour is not None  # checked on read
        labels.append(
            Label(
                id=entry.id,
                name=entry.name,
                colour=entry.colour,
                parent=parent_of(entry.id),
                aliases=entry.aliases or (),
                attributes=attributes_of(entry.id),
                reference=entry.reference,
                description=entry.description,
            )
        )
    return labels


# --- small helpers ---------------------------------------------------------------------------


def _last_segment(label_id: str) -> str:
    return label_id.rpartition(".")[2]


def _compact(text: str) -> str:
    return _WORD_SPLIT.sub("", text.lower())


def _match_tier(label: Label, token: str) -> int | None:
    """How well one typed word matches a label: 0 whole, 1 prefix, 2/3 word, 4 substring."""
    compact = _compact(token)
    fields = [_last_segment(label.id), label.name.lower(), *(a.lower() for a in label.aliases)]
    compact_fields = [_compact(f) for f in fields]
    if token == label.id or compact in compact_fields:
        return 0
    if any(f.startswith(compact) for f in compact_fields):
        return 1
    words = {w for f in (label.id, *fields) for w in _WORD_SPLIT.split(f.lower()) if w}
    if compact in words:
        return 2
    if any(w.startswith(compact) for w in words):
        return 3
    if any(compact in f for f in (_compact(label.id), *compact_fields)):
        return 4
    return None


def _size_score(
    reference: Reference, length_m: float, span_m: float, gsd_m: float, widening_m: float = 0.0
) -> float:
    def miss(measured: float, interval: tuple[float, float], nominal: float) -> float:
        low, high = interval[0] - widening_m, interval[1] + widening_m
        tolerance = PIXEL_TOLERANCE * gsd_m + RELATIVE_TOLERANCE * nominal
        return max(0.0, low - measured, measured - high) / tolerance

    def score(length: float, span: float) -> float:
        along = miss(length, reference.length_interval, reference.length_m)
        across = miss(span, reference.span_interval, reference.span_m)
        return math.sqrt((along**2 + across**2) / 2)

    return min(score(length_m, span_m), score(span_m, length_m))
