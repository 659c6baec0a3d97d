"""What the taxonomy is made of: labels, the attributes they take and their reference sizes.

Plain values, checked before they are built (`annotations.labels.schema` describes the file
they come from); `annotations.labels.taxonomy` reads the files and looks labels up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ATTRIBUTE_TYPES = ("number", "integer", "string", "boolean", "enum")


@dataclass(frozen=True)
class Reference:
    """Published size of a type, in metres, and where the figures come from.

    `checked` is true only when every figure was found stated in a public source; `note`
    says what is partial. Ranges cover variants and ways of measuring (nose probe or not,
    fuselage or overall); `span_swept_m` is the span of a swing wing fully swept.
    """

    length_m: float
    span_m: float
    source: str
    checked: bool
    note: str | None = None
    length_m_range: tuple[float, float] | None = None
    span_m_range: tuple[float, float] | None = None
    span_swept_m: float | None = None

    @property
    def length_interval(self) -> tuple[float, float]:
        return self.length_m_range or (self.length_m, self.length_m)

    @property
    def span_interval(self) -> tuple[float, float]:
        low, high = self.span_m_range or (self.span_m, self.span_m)
        if self.span_swept_m is not None:
            low, high = min(low, self.span_swept_m), max(high, self.span_swept_m)
        return low, high

    def orient(self, first: float, second: float) -> tuple[float, float]:
        """(length, span): a measured box's two sides in the order this type takes them
        (an An-124 is wider than it is long, a Su-24 longer than it is wide)."""
        long_side, short_side = max(first, second), min(first, second)
        if self.length_m >= self.span_m:
            return long_side, short_side
        return short_side, long_side

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "length_m": self.length_m,
            "span_m": self.span_m,
            "source": self.source,
            "checked": self.checked,
        }
        if self.span_swept_m is not None:
            data["span_swept_m"] = self.span_swept_m
        if self.length_m_range is not None:
            data["length_m_range"] = list(self.length_m_range)
        if self.span_m_range is not None:
            data["span_m_range"] = list(self.span_m_range)
        if self.note is not None:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute an annotation of a label may carry, e.g. `heading_deg` 0..360."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if self.type == "enum":
            data["values"] = list(self.values)
        if self.min is not None:
            data["min"] = self.min
        if self.max is not None:
            data["max"] = self.max
        if self.unit is not None:
            data["unit"] = self.unit
        if self.description is not None:
            data["description"] = self.description
        return data

    def check(self, value: Any) -> tuple[Any, str | None]:
        """The value as stored and None, or the value and why it does not fit."""
        if self.type == "boolean":
            return value, None if isinstance(value, bool) else "must be true or false"
        if self.type == "string":
            return value, None if isinstance(value, str) else "must be a string"
        if self.type == "enum":
            allowed = ", ".join(repr(v) for v in self.values)
            if not isinstance(value, str):
                return value, f"must be one of {allowed}"
            for candidate in self.values:
                if candidate.casefold() == value.strip().casefold():
                    return candidate, None
            return value, f"{value!r} is not one of {allowed}"
        # number or integer; bool is an int subclass but never a measurement.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, f"must be a{'n integer' if self.type == 'integer' else ' number'}"
        if not is_finite(value):
            return value, "must be a finite number"
        if self.type == "integer":
            if isinstance(value, float) and not value.is_integer():
                return value, "must be a whole number"
            value = int(value)
        if self.min is not None and value < self.min:
            return value, f"{value} is below the minimum {_number(self.min)}"
        if self.max is not None and value > self.max:
            return value, f"{value} is above the maximum {_number(self.max)}"
        return value, None


@dataclass(frozen=True)
class Label:
    """One node of the taxonomy; `attributes` already include those inherited from parents."""

    id: str
    name: str
    colour: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    attributes: Mapping[str, AttributeSpec] = field(default_factory=dict)
    reference: Reference | None = None
    description: str | None = None

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def depth(self) -> int:
        return self.id.count(".")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "colour": self.colour,
            "parent": self.parent,
            "aliases": list(self.aliases),
            "description": self.description,
            "attributes": {name: spec.to_dict() for name, spec in self.attributes.items()},
            "reference": self.reference.to_dict() if self.reference else None,
        }


def is_finite(value: float) -> bool:
    """Not NaN nor infinite, and within a float's range (a JSON integer may have 400 digits)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def parent_of(label_id: str) -> str | None:
    """The id a dotted id implies as its parent: `aircraft.transport` for `...an-124`."""
    parent, dot, _ = label_id.rpartition(".")
    return parent if dot else None


def _number(value: float) -> str:
    return f"{value:g}"
