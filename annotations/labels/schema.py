"""JSON Schemas (Draft 2020-12) of the label taxonomy: labels.json, an attribute's value.

A labels.json (the shipped one and a deployment's) is checked against `labels_file_schema`
with the `jsonschema` library, and each fault is told in the words of its subschema's
`x-message`. The schemas of attribute values are what the OpenAPI document shows
(`Attributes.<label id>`), so the contract a client reads and the rules the taxonomy keeps are
written once.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from annotations.labels.model import ATTRIBUTE_TYPES, AttributeSpec, Label, is_finite, parent_of

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def attribute_schema(spec: AttributeSpec) -> dict[str, Any]:
    """The JSON Schema of one attribute's value; null is allowed and leaves it out."""
    schema: dict[str, Any]
    if spec.type == "enum":
        schema = {"type": ["string", "null"], "enum": [*spec.values, None]}
    else:
        schema = {"type": [spec.type, "null"]}
    if spec.min is not None:
        schema["minimum"] = spec.min
    if spec.max is not None:
        schema["maximum"] = spec.max
    words = [spec.description] if spec.description else []
    if spec.unit:
        words.append(f"unit: {spec.unit}")
        schema["x-unit"] = spec.unit
    if spec.type == "enum":
        words.append("matched ignoring case, stored in the spelling listed")
    words.append("null leaves it out")
    schema["description"] = "; ".join(words)
    return schema


def attributes_schema(label: Label) -> dict[str, Any]:
    """The JSON Schema of a label's `attributes` object: its own and inherited ones only."""
    return {
        "type": "object",
        "description": f"Attributes of {label.id} ({label.name}).",
        "properties": {name: attribute_schema(spec) for name, spec in label.attributes.items()},
        "additionalProperties": False,
    }


# --- the labels.json file ------------------------------------------------------------------------
#
# Each subschema carries `x-message`, the taxonomy's wording of its fault: a string for any
# keyword, or a table by keyword. `{value}` is the value at fault (None when missing), `{type}`
# its Python type, `{attribute}` the attribute it belongs to, `{key}` an unknown key, `{reason}`
# a custom keyword's finding. The `x-` keywords that check across members (a range holds its
# nominal figure, min is not above max, ...) are this module's own: other validators ignore
# them, so to them the schema is a little looser than the taxonomy.

ID_PATTERN = r"^[a-z0-9-]+(\.[a-z0-9-]+)*$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
ATTRIBUTE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_TEXT = r"\S"  # something besides white space

_ID_FAULT = (
    "id {value} must be dotted lowercase words of a-z, 0-9 and '-', "
    "e.g. 'aircraft.transport.an-124'"
)
_AT = "attribute {attribute}: "
_ENUM_FAULT = _AT + "an enum needs 'values': a list of distinct non-empty strings"
_ALIASES_FAULT = "aliases must be a list of non-empty strings"
_NAME_FAULT = "attribute {value}: name must be lowercase letters, digits and '_'"
_METRES = "a positive number of metres"
_NUMERIC = ["number", "integer"]


def _positive(name: str) -> dict[str, Any]:
    return {
        "type": "number",
        "exclusiveMinimum": 0,
        "x-message": f"reference: {name} must be {_METRES}",
    }


def _range(name: str, nominal: str) -> dict[str, Any]:
    fault = f"reference: {name} must be [low, high] in metres"
    return {
        "type": ["array", "null"],
        "description": f"low and high {nominal} over variants and ways of measuring",
        "items": {"type": "number", "exclusiveMinimum": 0, "x-message": fault},
        "minItems": 2,
        "maxItems": 2,
        "x-ascending": True,
        "x-message": fault,
    }


def _bounds(message: str, allowed: list[str]) -> dict[str, Any]:
    return {
        "properties": {
            key: {"type": allowed, "x-message": _AT + message.format(key=key)}
            for key in ("min", "max")
        }
    }


_ATTRIBUTE: dict[str, Any] = {
    "type": "object",
    "description": "One attribute an annotation of the label may carry.",
    "x-message": {
        "type": _AT + "specification must be an object with a 'type'",
        "additionalProperties": _AT + "unknown key {key}",
        "x-minNotAboveMax": _AT + "{reason}",
    },
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {
            "enum": list(ATTRIBUTE_TYPES),
            "x-message": _AT + "type {value} must be one of " + ", ".join(ATTRIBUTE_TYPES),
        },
        "values": {"description": "type enum only: the allowed values, distinct ignoring case"},
        "min": {"description": "number and integer only: the smallest value allowed"},
        "max": {"description": "number and integer only: the largest value allowed"},
        "unit": {"type": "string", "x-message": _AT + "'unit' must be a string"},
        "description": {"type": "string", "x-message": _AT + "'description' must be a string"},
    },
    "allOf": [
        {
            "if": {"required": ["type"], "properties": {"type": {"const": "enum"}}},
            "then": {
                "required": ["values"],
                "x-message": _ENUM_FAULT,
                "properties": {
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "minLength": 1, "x-message": _ENUM_FAULT},
                        "x-distinctIgnoringCase": True,
                        "x-message": _ENUM_FAULT,
                    }
                },
            },
            "else": {
                "properties": {
                    "values": {
                        "type": "null",
                        "x-message": _AT + "'values' is only for type 'enum'",
                    }
                }
            },
        },
        {
            "if": {"required": ["type"], "properties": {"type": {"enum": _NUMERIC}}},
            "then": _bounds("'{key}' must be a finite number", ["number", "null"]),
            "else": _bounds("'{key}' is only for number and integer attributes", ["null"]),
        },
    ],
    "x-minNotAboveMax": True,
}

_REFERENCE: dict[str, Any] = {
    "type": "object",
    "description": "Published size in metres, and where the figures come from.",
    "x-message": {
        "type": "reference must be an object with length_m, span_m, source and checked",
        "additionalProperties": "reference: unknown key {key}",
        "x-rangesContain": "reference: {reason}",
    },
    "required": ["length_m", "span_m", "source", "checked"],
    "additionalProperties": False,
    "properties": {
        "length_m": _positive("length_m"),
        "span_m": _positive("span_m"),
        "span_swept_m": _positive("span_swept_m"),
        "source": {
            "type": "string",
            "pattern": _TEXT,
            "x-message": "reference: source must say where the figures come from",
        },
        "checked": {
            "type": "boolean",
            "description": "true only when every figure was found stated in a public source",
            "x-message": "reference: checked must be true (figures found in a public source) "
            "or false",
        },
        "note": {"type": "string", "x-message": "reference: note must be a string"},
        "length_m_range": _range("length_m_range", "length_m"),
        "span_m_range": _range("span_m_range", "span_m"),
    },
    "x-rangesContain": {"length_m_range": "length_m", "span_m_range": "span_m"},
}


def _entry(overridable: Collection[str]) -> dict[str, Any]:
    """An entry; `overridable` ids (the shipped labels) may be given in part, to change them."""
    complete: dict[str, Any] = {
        "allOf": [
            {"required": [key], "x-message": f"{key!r} is required"} for key in ("name", "colour")
        ]
    }
    if overridable:
        complete = {"if": {"properties": {"id": {"enum": sorted(overridable)}}}, "else": complete}
    return {
        "type": "object",
        "x-message": {
            "type": "must be a JSON object, not {type}",
            "additionalProperties": "unknown key {key}",
            "x-parentOfId": "{reason}",
        },
        "additionalProperties": False,
        "x-parentOfId": True,
        "allOf": [{"required": ["id"], "x-message": _ID_FAULT}, complete],
        "properties": {
            "id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "dotted, most general first: aircraft.transport.an-124",
                "x-message": _ID_FAULT,
            },
            "name": {
                "type": "string",
                "pattern": _TEXT,
                "x-message": "name must be a non-empty string",
            },
            "colour": {
                "type": "string",
                "pattern": COLOUR_PATTERN,
                "x-message": "colour {value} must be '#rrggbb' hex",
            },
            "parent": {"description": "optional; if given, the id without its last segment"},
            "aliases": {
                "type": "array",
                "items": {"type": "string", "pattern": _TEXT, "x-message": _ALIASES_FAULT},
                "x-message": _ALIASES_FAULT,
            },
            "description": {"type": "string", "x-message": "description must be a string"},
            "attributes": {
                "type": "object",
                "propertyNames": {
                    "pattern": ATTRIBUTE_NAME_PATTERN,
                    "x-message": _NAME_FAULT,
                },
                "additionalProperties": {"$ref": "#/$defs/attribute"},
                "x-message": "attributes must be an object of name -> specification",
            },
            "reference": {"$ref": "#/$defs/reference"},
        },
    }


def labels_file_schema(overridable: Collection[str] = ()) -> dict[str, Any]:
    """The JSON Schema of a labels.json: a list of entries, or the API's {"labels": [...]}.

    Entries whose id is in `overridable` (a deployment's file: the shipped ids) may give only
    the members they change; new labels need a name and a colour.
    """
    return {
        "$schema": DIALECT,
        "title": "labels.json",
        "anyOf": [
            {"$ref": "#/$defs/entries"},
            {
                "type": "object",
                "required": ["labels"],
                "additionalProperties": False,
                "properties": {"labels": {"$ref": "#/$defs/entries"}},
            },
        ],
        "$defs": {
            "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
            "entry": _entry(overridable),
            "attribute": copy.deepcopy(_ATTRIBUTE),
            "reference": copy.deepcopy(_REFERENCE),
        },
    }


# --- checking an entry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryCheck:
    """What the schema found in one entry: its id (None if the entry has no usable id)."""

    id: str | None
    faults: list[str]


class EntryChecker:
    """Checks entries of one file against `labels_file_schema(overridable)`."""

    def __init__(self, overridable: Collection[str] = ()) -> None:
        self._defs: dict[str, Any] = labels_file_schema(overridable)["$defs"]
        self._entry = self._defs["entry"]
        root = {"$schema": DIALECT, "$defs": self._defs, "$ref": "#/$defs/entry"}
        self._validator: Validator = _LabelsValidator(root)

    def check(self, entry: Any) -> EntryCheck:
        """The entry's id and every fault, listed as the taxonomy always has (unknown keys,
        parent, required members, then each member in the schema's order and attributes in the
        file's); a bad id or shape stands alone."""
        errors = list(self._validator.iter_errors(entry))
        identity = [error for error in errors if _is_identity(error)]
        misnamed = {(*error.relative_path, error.instance) for error in errors if _is_name(error)}
        errors = [error for error in errors if tuple(error.relative_path)[:2] not in misnamed]
        if identity:
            return EntryCheck(None, [message for _, message in self._messages(identity[0], entry)])
        found = sorted(
            (
                (self._position(error, entry, leaf), message)
                for error in errors
                for leaf, message in self._messages(error, entry)
            ),
            key=lambda item: item[0],
        )
        return EntryCheck(entry["id"], list(dict.fromkeys(message for _, message in found)))

    def _messages(
        self, error: ValidationError, entry: Any
    ) -> Iterator[tuple[tuple[int, int], str]]:
        """Each fault the error stands for, with its place among its object's faults."""
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        instance: Any = error.instance
        table = schema.get("x-message")
        template = table if isinstance(table, str) else (table or {}).get(error.validator)
        path = list(error.relative_path)
        words: dict[str, str] = {
            "value": repr(error.instance),
            "type": type(error.instance).__name__,
            "attribute": repr(path[1]) if path[:1] == ["attributes"] and len(path) > 1 else "",
            "reason": error.message,
        }
        properties = list(schema.get("properties", {}))
        if error.validator == "additionalProperties":
            for key in sorted(set(instance) - set(properties)):
                hint = did_you_mean(key, properties)
                yield (0, 0), str(template).format_map({**words, "key": f"{key!r}{hint}"})
        elif error.validator == "required" and template is not None:
            yield (2, 0), template.format_map({**words, "value": "None"})
        elif error.validator == "required":
            required: Any = error.validator_value
            for key in (key for key in required if key not in instance):
                own = self._resolve(schema["properties"][key])["x-message"]
                yield (3, properties.index(key)), own.format_map({**words, "value": "None"})
        elif _is_name(error):
            names = list(_member(entry, path))  # the object those are the names of
            place = names.index(instance) if instance in names else 0
            yield (3, place), str(template).format_map(words)
        elif template is not None:
            yield (1 if error.validator == "x-parentOfId" else 0, 0), template.format_map(words)
        else:  # a rule without words of its own: say where, and jsonschema's reason
            yield (0, 0), "/".join(str(step) for step in path) + f": {error.message}"

    def _position(
        self, error: ValidationError, entry: Any, leaf: tuple[int, int]
    ) -> tuple[tuple[int, int], ...]:
        """Where a fault is listed: members in the schema's order, attributes in the file's."""
        schema, instance, place = self._entry, entry, []
        for step in error.relative_path:
            if "properties" in schema:
                names = list(schema["properties"])
                place.append((3, names.index(step) if step in names else len(names)))
                schema = schema["properties"].get(step, {})
            elif isinstance(instance, dict):
                place.append((3, list(instance).index(step)))
                schema = schema.get("additionalProperties", {})
            else:
                place.append((3, int(step)))
                schema = schema.get("items", {})
            schema, instance = self._resolve(schema), instance[step]
        return (*place, leaf)

    def _resolve(self, schema: Any) -> Any:
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        return self._defs[ref.rpartition("/")[2]] if isinstance(ref, str) else schema


def _member(instance: Any, path: list[str | int]) -> Any:
    for step in path:
        instance = instance[step]
    return instance


def _is_name(error: ValidationError) -> bool:
    """A fault in a name (of an attribute): what is said of its value is left unsaid."""
    return list(error.relative_schema_path)[-2:-1] == ["propertyNames"]


def _is_identity(error: ValidationError) -> bool:
    """A fault that leaves the entry without a usable id: not an object, or a bad id."""
    path = list(error.relative_path)
    return (
        (not path and error.validator == "type")
        or path[:1] == ["id"]
        or (error.validator == "required" and error.validator_value == ["id"])
    )


def did_you_mean(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- the rules that look across members ----------------------------------------------------------

Keyword = Iterator[ValidationError]


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and is_finite(value)


def _parent_of_id(validator: Validator, on: Any, instance: Any, schema: Any) -> Keyword:
    if isinstance(instance, dict) and "parent" in instance and isinstance(instance.get("id"), str):
        implied = parent_of(instance["id"])
        if instance["parent"] != implied:
            yield ValidationError(
                f"parent {instance['parent']!r} does not match the id, which implies {implied!r}"
            )


def _min_not_above_max(validator: Validator, on: Any, instance: Any, schema: Any) -> Keyword:
    if isinstance(instance, dict) and instance.get("type") in _NUMERIC:
        low: Any = instance.get("min")
        high: Any = instance.get("max")
        if _finite(low) and _finite(high) and low > high:
            yield ValidationError(f"min {low} is above max {high}", path=["max"])


def _distinct_ignoring_case(validator: Validator, on: Any, instance: Any, schema: Any) -> Keyword:
    if (
        isinstance(instance, list)
        and all(isinstance(value, str) for value in instance)
        and len({value.casefold() for value in instance}) != len(instance)
    ):
        yield ValidationError("values repeat, ignoring case")


def _ascending(validator: Validator, on: Any, instance: Any, schema: Any) -> Keyword:
    if (
        isinstance(instance, list)
        and len(instance) == 2
        and all(map(_finite, instance))
        and instance[0] > instance[1]
    ):
        yield ValidationError("low is above high")


def _ranges_contain(validator: Validator, on: Any, instance: Any, schema: Any) -> Keyword:
    if not isinstance(instance, dict):
        return
    for key, nominal in on.items():
        span: Any = instance.get(key)
        figure: Any = instance.get(nominal)
        well_formed = (
            isinstance(span, list)
            and len(span) == 2
            and all(_finite(v) and v > 0 for v in span)
            and span[0] <= span[1]
        )
        if well_formed and _finite(figure) and not span[0] <= figure <= span[1]:
            yield ValidationError(f"{key} {span} does not contain {nominal} {figure}", path=[key])


def _finite_number(checker: Any, instance: Any) -> bool:
    """JSON has no NaN or infinity, but Python's reader takes them: they are not numbers here."""
    return _finite(instance)


_LabelsValidator = validators.extend(
    Draft202012Validator,
    validators={
        "x-parentOfId": _parent_of_id,
        "x-minNotAboveMax": _min_not_above_max,
        "x-distinctIgnoringCase": _distinct_ignoring_case,
        "x-ascending": _ascending,
        "x-rangesContain": _ranges_contain,
    },
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number),
)
