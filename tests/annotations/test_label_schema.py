"""The JSON Schemas of labels.json and of attribute values, and the words of their faults."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from annotations.labels.schema import (
    EntryChecker,
    attribute_schema,
    attributes_schema,
    labels_file_schema,
)
from annotations.labels.taxonomy import DEFAULT_PATH, AttributeSpec, Taxonomy, load_taxonomy

AN_124 = "aircraft.transport.an-124"
SHIPPED: list[dict[str, Any]] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
ID_FAULT = (
    "id None must be dotted lowercase words of a-z, 0-9 and '-', e.g. 'aircraft.transport.an-124'"
)
GOOD_REFERENCE = {"length_m": 30, "span_m": 10, "source": "a book", "checked": True}


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def plain_errors(schema: dict[str, Any], document: Any) -> list[str]:
    """What a standard Draft 2020-12 validator, knowing nothing of this project, finds."""
    Draft202012Validator.check_schema(schema)
    return [error.message for error in Draft202012Validator(schema).iter_errors(document)]


# --- the labels.json schema is a JSON Schema any validator can use ------------------------------


def test_the_shipped_file_fits_the_published_schema_in_both_shapes() -> None:
    schema = labels_file_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert plain_errors(schema, SHIPPED) == []
    assert plain_errors(schema, {"labels": SHIPPED}) == []
    assert plain_errors(schema, {"labels": SHIPPED, "more": 1}) != []
    assert plain_errors(schema, "aircraft") != []


def test_a_deployment_may_give_shipped_labels_in_part_and_new_ones_in_full() -> None:
    shipped_ids = [entry["id"] for entry in SHIPPED]
    partial = [{"id": AN_124, "colour": "#ff0000"}]
    assert plain_errors(labels_file_schema(shipped_ids), partial) == []
    assert plain_errors(labels_file_schema(), partial) != [], "a new label needs its name"
    assert plain_errors(labels_file_schema(shipped_ids), [{"id": "ship.tug"}]) != []


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "ship.tug", "name": "Tug", "colour": "blue"},
        {"id": "Ship.Tug", "name": "Tug", "colour": "#123456"},
        {"id": "ship.tug", "name": " ", "colour": "#123456"},
        {"id": "ship.tug", "name": "Tug", "color": "#123456"},
        {"id": "ship", "attributes": {"speed": {"type": "float"}}},
        {"id": "ship", "attributes": {"Speed": {"type": "number"}}},
        {"id": "ship", "attributes": {"size": {"type": "enum", "values": []}}},
        {"id": "ship", "attributes": {"size": {"type": "string", "values": ["a"]}}},
        {"id": "ship", "attributes": {"size": {"type": "string", "min": 1}}},
        {"id": "ship", "reference": {"length_m": -1, "span_m": 3, "source": "x", "checked": True}},
        {"id": "ship", "reference": {"length_m": 1, "span_m": 3, "source": " ", "checked": True}},
        {"id": "ship", "reference": {**GOOD_REFERENCE, "span_m_range": [1, 2, 3]}},
    ],
)
def test_a_plain_validator_refuses_a_bad_entry_too(entry: dict[str, Any]) -> None:
    assert plain_errors(labels_file_schema([entry["id"]]), [entry]) != []
    assert EntryChecker([entry["id"]]).check(entry).faults != []


# --- faults, word for word and in order ---------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "faults"),
    [
        (["ship"], ["must be a JSON object, not list"]),
        ({"name": "Tug"}, [ID_FAULT]),
        (
            {"id": "ship.tug", "nme": "Tug", "parent": "ship.x", "colour": "red", "aliases": [""]},
            [
                "unknown key 'nme' (did you mean 'name'?)",
                "parent 'ship.x' does not match the id, which implies 'ship'",
                "'name' is required",
                "colour 'red' must be '#rrggbb' hex",
                "aliases must be a list of non-empty strings",
            ],
        ),
        (
            {"id": "ship", "description": 3, "attributes": ["speed"]},
            [
                "description must be a string",
                "attributes must be an object of name -> specification",
            ],
        ),
        (
            {
                "id": "ship",
                "attributes": {
                    "knots": {"type": "number", "min": 5, "max": 1, "unit": 1, "typ": "x"},
                    "Bad": {"type": "x"},
                    "size": {"type": "enum", "values": ["a", "A"], "min": 1},
                    "kind": "enum",
                    "tons": {"type": "integer", "max": 10**400},
                    "mood": {"values": None},
                },
            },
            [
                "attribute 'knots': unknown key 'typ' (did you mean 'type'?)",
                "attribute 'knots': min 5 is above max 1",
                "attribute 'knots': 'unit' must be a string",
                "attribute 'Bad': name must be lowercase letters, digits and '_'",
                "attribute 'size': an enum needs 'values': a list of distinct non-empty strings",
                "attribute 'size': 'min' is only for number and integer attributes",
                "attribute 'kind': specification must be an object with a 'type'",
                "attribute 'tons': 'max' must be a finite number",
                "attribute 'mood': type None must be one of number, integer, string, boolean, enum",
            ],
        ),
        (
            {"id": "ship", "reference": "70 m"},
            ["reference must be an object with length_m, span_m, source and checked"],
        ),
        (
            {
                "id": "ship",
                "reference": {
                    "length_m": 30,
                    "span_m": math.nan,
                    "span_swept_m": 0,
                    "note": None,
                    "length_m_range": [31, 40],
                    "span_m_range": [5, 1],
                    "sorce": "x",
                },
            },
            [
                "reference: unknown key 'sorce' (did you mean 'source'?)",
                "reference: span_m must be a positive number of metres",
                "reference: span_swept_m must be a positive number of metres",
                "reference: source must say where the figures come from",
                "reference: checked must be true (figures found in a public source) or false",
                "reference: note must be a string",
                "reference: length_m_range [31, 40] does not contain length_m 30",
                "reference: span_m_range must be [low, high] in metres",
            ],
        ),
    ],
)
def test_faults_are_told_in_the_taxonomys_words(entry: Any, faults: list[str]) -> None:
    checked = EntryChecker(["ship"]).check(entry)
    assert checked.faults == faults
    assert checked.id == (entry["id"] if isinstance(entry, dict) and "id" in entry else None)


def test_a_good_entry_has_its_id_and_no_faults() -> None:
    entry = {"id": "ship.tug", "name": "Tug", "colour": "#123456", "reference": GOOD_REFERENCE}
    assert EntryChecker().check(entry).id == "ship.tug"
    assert EntryChecker().check(entry).faults == []


def test_every_rule_of_the_schema_has_its_words() -> None:
    """A rule without `x-message` would show jsonschema's own reason; none may lack one."""
    rules = {"type", "enum", "pattern", "minItems", "maxItems", "minLength", "exclusiveMinimum"}
    missing: list[str] = []

    def walk(schema: Any, where: str) -> None:
        if not isinstance(schema, dict):
            return
        if rules & set(schema) and "x-message" not in schema:
            missing.append(where)
        for keyword, value in schema.items():
            if keyword in ("properties", "$defs"):
                for name, member in value.items():
                    walk(member, f"{where}/{keyword}/{name}")
            elif keyword == "allOf":
                for index, member in enumerate(value):
                    walk(member, f"{where}/allOf/{index}")
            elif keyword in ("items", "additionalProperties", "propertyNames", "then", "else"):
                walk(value, f"{where}/{keyword}")

    walk(labels_file_schema(["ship"])["$defs"]["entry"], "#/$defs/entry")
    walk(labels_file_schema(["ship"])["$defs"]["attribute"], "#/$defs/attribute")
    walk(labels_file_schema(["ship"])["$defs"]["reference"], "#/$defs/reference")
    assert missing == []


# --- attribute values -----------------------------------------------------------------------------


def test_attribute_schema_is_the_documented_value_schema(taxonomy: Taxonomy) -> None:
    label = taxonomy.get(AN_124)
    assert attribute_schema(label.attributes["heading_deg"]) == {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 360,
        "x-unit": "deg",
        "description": "direction the nose points, clockwise from north; unit: deg; "
        "null leaves it out",
    }
    state = attribute_schema(label.attributes["state"])
    assert state["type"] == ["string", "null"]
    assert state["enum"] == [*label.attributes["state"].values, None]
    assert "matched ignoring case" in state["description"]
    whole = attributes_schema(label)
    assert whole["additionalProperties"] is False
    assert set(whole["properties"]) == set(label.attributes)
    Draft202012Validator.check_schema(whole)


SAMPLES = [0, 1, 40.0, 2.5, -1, 360, 361, 10**9, True, False, "x", "parked", " Parked", "", []]


def test_the_value_schema_and_the_taxonomy_agree(taxonomy: Taxonomy) -> None:
    """What `AttributeSpec.check` stores fits the schema; what it refuses, the schema refuses."""
    specs: dict[tuple[str, ...], AttributeSpec] = {}
    for label in taxonomy:
        for spec in label.attributes.values():
            specs[(spec.name, spec.type, *spec.values)] = spec
    assert {spec.type for spec in specs.values()} == {
        "number",
        "integer",
        "string",
        "boolean",
        "enum",
    }
    for spec in specs.values():
        validator = Draft202012Validator(attribute_schema(spec))
        assert validator.is_valid(None)
        for value in SAMPLES:
            stored, fault = spec.check(value)
            assert validator.is_valid(stored) == (fault is None), (spec, value, fault)
