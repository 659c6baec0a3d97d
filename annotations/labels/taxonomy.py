"""The label taxonomy: what an analyst can call a thing, with reference sizes to check it by.

The default taxonomy ships as `annotations/data/labels.json`; a deployment extends it with a
`labels.json` in its data folder (new labels, or new names, colours, aliases, attributes or
reference sizes for existing ones). Both files are validated at load time so a typo stops the
app at start with the file, entry and fault named, rather than surfacing as a bad annotation.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from annotations.errors import AnnotationError, InvalidInput
from annotations.labels.model import ATTRIBUTE_TYPES, AttributeSpec, Label, Reference

__all__ = [
    "ATTRIBUTE_TYPES",
    "COLOUR_PATTERN",
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

ID_PATTERN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
ATTRIBUTE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# Size matching: a box edge drawn on an image is off by a pixel or two at each end, and the
# quoted figures themselves differ a little between sources and variants.
PIXEL_TOLERANCE = 2.0
RELATIVE_TOLERANCE = 0.03
CLOSEST_COUNT = 5

_ENTRY_KEYS = frozenset(
    {"id", "name", "colour", "parent", "aliases", "description", "attributes", "reference"}
)
_SPEC_KEYS = frozenset({"type", "values", "min", "max", "unit", "description"})
_REFERENCE_KEYS = frozenset(
    {
        "length_m",
        "span_m",
        "source",
        "checked",
        "note",
        "length_m_range",
        "span_m_range",
        "span_swept_m",
    }
)
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
        problems: list[str] = []
        merged: dict[str, _Entry] = {}
        for entry in _read_file(default_path, problems, extending=None):
            merged[entry.id] = entry
        if extension_path is not None and extension_path.exists():
            defaults = dict(merged)
            for entry in _read_file(extension_path, problems, extending=defaults):
                merged[entry.id] = merged[entry.id].overlay(entry) if entry.id in merged else entry
        for entry in merged.values():
            parent = _implied_parent(entry.id)
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
                hint = _did_you_mean(str(name), label.attributes)
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
    ) -> list[tuple[Label, float]]:
        """Labels with a reference size, best fit first, with a score (lower is better).

        The score is the root-mean-square of each dimension's distance outside the reference
        range, in units of tolerance (2 pixels plus 3 % of the reference); 1.0 or less is
        within tolerance. The two measurements may be given in either order, since a box's
        long side may be the span.
        """
        for what, value in (("length", length_m), ("span", span_m), ("ground sample", gsd_m)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{what} distance must be a number of metres")
            if not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"{what} distance must be a positive number of metres")
        ranked: list[tuple[Label, float]] = []
        for label in self.branch(branch):
            if label.reference is None:
                continue
            score = _size_score(label.reference, length_m, span_m, gsd_m)
            if max_score is None or score <= max_score:
                ranked.append((label, score))
        ranked.sort(key=lambda item: (item[1], self._order[item[0].id]))
        return ranked

    def to_dict(self) -> dict[str, Any]:
        return {"labels": [label.to_dict() for label in self]}


# --- reading and checking files -------------------------------------------------------------


@dataclass
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
    path: Path, problems: list[str], extending: Mapping[str, _Entry] | None
) -> list[_Entry]:
    """Checked entries of one file; `extending` holds the defaults an extension may override."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read the label file: {exc}") from exc
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
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
    entries: list[_Entry] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data, start=1):
        where = f"{path}: entry {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a JSON object, not {type(raw).__name__}")
            continue
        label_id = raw.get("id")
        if not isinstance(label_id, str) or not ID_PATTERN.match(label_id):
            problems.append(
                f"{where}: id {label_id!r} must be dotted lowercase words of a-z, 0-9 and '-', "
                "e.g. 'aircraft.transport.an-124'"
            )
            continue
        where = f"{where} ({label_id})"
        if label_id in seen:
            problems.append(f"{where}: duplicate id, already used by entry {seen[label_id]}")
            continue
        seen[label_id] = index
        is_override = extending is not None and label_id in extending
        entry = _check_entry(raw, label_id, where, problems, complete=not is_override)
        if entry is not None:
            entries.append(entry)
    return entries


def _check_entry(
    raw: dict[str, Any], label_id: str, where: str, problems: list[str], complete: bool
) -> _Entry | None:
    before = len(problems)
    for key in sorted(set(raw) - _ENTRY_KEYS):
        problems.append(f"{where}: unknown key {key!r}{_did_you_mean(key, _ENTRY_KEYS)}")
    entry = _Entry(id=label_id, where=where)
    if "parent" in raw and raw["parent"] != _implied_parent(label_id):
        problems.append(
            f"{where}: parent {raw['parent']!r} does not match the id, which implies "
            f"{_implied_parent(label_id)!r}"
        )
    for key in ("name", "colour"):
        if complete and key not in raw:
            problems.append(f"{where}: {key!r} is required")
    if "name" in raw:
        if isinstance(raw["name"], str) and raw["name"].strip():
            entry.name = raw["name"].strip()
        else:
            problems.append(f"{where}: name must be a non-empty string")
    if "colour" in raw:
        if isinstance(raw["colour"], str) and COLOUR_PATTERN.match(raw["colour"]):
            entry.colour = raw["colour"].lower()
        else:
            problems.append(f"{where}: colour {raw['colour']!r} must be '#rrggbb' hex")
    if "aliases" in raw:
        aliases = raw["aliases"]
        if isinstance(aliases, list) and all(isinstance(a, str) and a.strip() for a in aliases):
            entry.aliases = tuple(a.strip() for a in aliases)
        else:
            problems.append(f"{where}: aliases must be a list of non-empty strings")
    if "description" in raw:
        if isinstance(raw["description"], str):
            entry.description = raw["description"]
        else:
            problems.append(f"{where}: description must be a string")
    if "attributes" in raw:
        entry.attributes = _check_attributes(raw["attributes"], where, problems)
    if "reference" in raw:
        entry.reference = _check_reference(raw["reference"], where, problems)
    return entry if len(problems) == before else None


def _check_attributes(raw: Any, where: str, problems: list[str]) -> dict[str, AttributeSpec]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: attributes must be an object of name -> specification")
        return {}
    specs: dict[str, AttributeSpec] = {}
    for name, spec in raw.items():
        at = f"{where}: attribute {name!r}"
        if not ATTRIBUTE_NAME_PATTERN.match(name):
            problems.append(f"{at}: name must be lowercase letters, digits and '_'")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{at}: specification must be an object with a 'type'")
            continue
        faults = [
            f"unknown key {key!r}{_did_you_mean(key, _SPEC_KEYS)}"
            for key in sorted(set(spec) - _SPEC_KEYS)
        ]
        kind = spec.get("type")
        if kind not in ATTRIBUTE_TYPES:
            faults.append(f"type {kind!r} must be one of {', '.join(ATTRIBUTE_TYPES)}")
        values = spec.get("values")
        if kind == "enum":
            if not (
                isinstance(values, list)
                and values
                and all(isinstance(v, str) and v for v in values)
                and len({v.casefold() for v in values}) == len(values)
            ):
                faults.append("an enum needs 'values': a list of distinct non-empty strings")
        elif values is not None:
            faults.append("'values' is only for type 'enum'")
        bounds: dict[str, float | None] = {}
        for key in ("min", "max"):
            bound = spec.get(key)
            if bound is not None and kind not in ("number", "integer"):
                faults.append(f"{key!r} is only for number and integer attributes")
            elif bound is not None and not _is_finite_number(bound):
                faults.append(f"{key!r} must be a finite number")
            else:
                bounds[key] = bound
        low, high = bounds.get("min"), bounds.get("max")
        if low is not None and high is not None and low > high:
            faults.append(f"min {low} is above max {high}")
        for key in ("unit", "description"):
            if key in spec and not isinstance(spec[key], str):
                faults.append(f"{key!r} must be a string")
        if faults:
            problems.extend(f"{at}: {fault}" for fault in faults)
            continue
        specs[name] = AttributeSpec(
            name=name,
            type=str(kind),
            values=tuple(values or ()),
            min=low,
            max=high,
            unit=spec.get("unit"),
            description=spec.get("description"),
        )
    return specs


def _check_reference(raw: Any, where: str, problems: list[str]) -> Reference | None:
    at = f"{where}: reference"
    if not isinstance(raw, dict):
        problems.append(f"{at} must be an object with length_m, span_m, source and checked")
        return None
    faults = [
        f"unknown key {key!r}{_did_you_mean(key, _REFERENCE_KEYS)}"
        for key in sorted(set(raw) - _REFERENCE_KEYS)
    ]
    for key in ("length_m", "span_m"):
        if not (_is_finite_number(raw.get(key)) and raw[key] > 0):
            faults.append(f"{key} must be a positive number of metres")
    if "span_swept_m" in raw and not (
        _is_finite_number(raw["span_swept_m"]) and raw["span_swept_m"] > 0
    ):
        faults.append("span_swept_m must be a positive number of metres")
    if not (isinstance(raw.get("source"), str) and raw["source"].strip()):
        faults.append("source must say where the figures come from")
    if not isinstance(raw.get("checked"), bool):
        faults.append("checked must be true (figures found in a public source) or false")
    if "note" in raw and not isinstance(raw["note"], str):
        faults.append("note must be a string")
    ranges: dict[str, tuple[float, float] | None] = {}
    for key, nominal in (("length_m_range", "length_m"), ("span_m_range", "span_m")):
        value = raw.get(key)
        if value is None:
            ranges[key] = None
        elif not (
            isinstance(value, list)
            and len(value) == 2
            and all(_is_finite_number(v) and v > 0 for v in value)
            and value[0] <= value[1]
        ):
            faults.append(f"{key} must be [low, high] in metres")
        elif _is_finite_number(raw.get(nominal)) and not value[0] <= raw[nominal] <= value[1]:
            faults.append(f"{key} {value} does not contain {nominal} {raw[nominal]}")
        else:
            ranges[key] = (float(value[0]), float(value[1]))
    if faults:
        problems.extend(f"{at}: {fault}" for fault in faults)
        return None
    return Reference(
        length_m=float(raw["length_m"]),
        span_m=float(raw["span_m"]),
        source=raw["source"].strip(),
        checked=raw["checked"],
        note=raw.get("note"),
        length_m_range=ranges["length_m_range"],
        span_m_range=ranges["span_m_range"],
        span_swept_m=float(raw["span_swept_m"]) if "span_swept_m" in raw else None,
    )


def _build_labels(entries: Mapping[str, _Entry]) -> list[Label]:
    """Labels in file order, each with its ancestors' attributes under its own."""
    inherited: dict[str, dict[str, AttributeSpec]] = {}

    def attributes_of(label_id: str) -> dict[str, AttributeSpec]:
        if label_id not in inherited:
            parent = _implied_parent(label_id)
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
                parent=_implied_parent(entry.id),
                aliases=entry.aliases or (),
                attributes=attributes_of(entry.id),
                reference=entry.reference,
                description=entry.description,
            )
        )
    return labels


# --- small helpers ---------------------------------------------------------------------------


def _implied_parent(label_id: str) -> str | None:
    parent, dot, _ = label_id.rpartition(".")
    return parent if dot else None


def _last_segment(label_id: str) -> str:
    return label_id.rpartition(".")[2]


def _compact(text: str) -> str:
    return _WORD_SPLIT.sub("", text.lower())


def _is_finite_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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


def _size_score(reference: Reference, length_m: float, span_m: float, gsd_m: float) -> float:
    def miss(measured: float, interval: tuple[float, float], nominal: float) -> float:
        low, high = interval
        tolerance = PIXEL_TOLERANCE * gsd_m + RELATIVE_TOLERANCE * nominal
        return max(0.0, low - measured, measured - high) / tolerance

    def score(length: float, span: float) -> float:
        along = miss(length, reference.length_interval, reference.length_m)
        across = miss(span, reference.span_interval, reference.span_m)
        return math.sqrt((along**2 + across**2) / 2)

    return min(score(length_m, span_m), score(span_m, length_m))
