"""JSON Schemas (Draft 2020-12) of the label taxonomy: an attribute's value, a label's attributes.

The same schemas are what the OpenAPI document shows (`Attributes.<label id>`), so the
contract a client reads and the rules the taxonomy keeps are written once.
"""

from __future__ import annotations

from typing import Any

from annotations.labels.model import AttributeSpec, Label

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
