"""The property checks of `annotations.feature.FeatureInput`, on plain values.

`quick_input` builds the `AnnotationInput` that `parse_feature` would return for a
Feature whose geometry is already checked, when every property passes; when any would
be refused it returns None, and the caller asks `parse_feature` for the refusal."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from annotations.errors import AnnotationError
from annotations.feature import (
    CONFIDENCES,
    COUNT_MAX,
    GEOMETRY_TYPES_BY_SHAPE,
    NOTES_LIMIT,
    QUADRILATERAL_SHAPES,
    SHAPES,
    AnnotationInput,
    Labels,
    default_shape,
)
from annotations.times import parse_time

#: `default_shape` of a geometry of each type (any other type: ask `default_shape`)
DEFAULT_SHAPES = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}


class QuickInputs:
    """Checks one label taxonomy's Features; remembers the attributes each label takes
    when none are given (most features give none)."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self._no_attributes: dict[str, dict[str, Any] | None] = {}

    def input(
        self,
        geometry: BaseGeometry,
        properties: dict[str, Any],
        kind: str | None = None,
        exterior_points: int | None = None,
    ) -> AnnotationInput | None:
        """`properties` as `_plan_feature` gathers them: label (in the taxonomy), image_id,
        and the known properties the file gives, without empty ones. The geometry's type
        (`geom_type`) and, for a polygon, its exterior's number of positions may be given
        (found on an array of geometries at once)."""
        label, image_id = properties["label"], properties["image_id"]
        if not isinstance(label, str) or not label or not isinstance(image_id, str):
            return None
        if kind is None:
            kind = geometry.geom_type
        shape = properties.get("shape")
        if shape is None:
            shape = DEFAULT_SHAPES.get(kind) or default_shape(geometry)
        if not isinstance(shape, str) or shape not in SHAPES:
            return None
        if kind not in GEOMETRY_TYPES_BY_SHAPE[shape]:
            return None
        if shape in QUADRILATERAL_SHAPES:
            if kind != "Polygon" or not isinstance(geometry, shapely.Polygon):
                return None
            if exterior_points is None:
                exterior_points = int(shapely.get_num_coordinates(geometry.exterior))
            if exterior_points != 5:
                return None
        confidence = properties.get("confidence", "probable")
        count = properties.get("count", 1)
        if confidence not in CONFIDENCES or type(count) is not int or not 1 <= count <= COUNT_MAX:
            return None
        attributes = self._attributes(label, properties.get("attributes") or {})
        notes = properties.get("notes") or ""
        if attributes is None or not isinstance(notes, str) or len(notes) > NOTES_LIMIT:
            return None
        observed = properties.get("observed_at")
        if observed is not None:
            if not isinstance(observed, str):
                return None
            try:
                observed = parse_time(observed, "properties.observed_at")
            except AnnotationError:
                return None
        return AnnotationInput(
            geometry=geometry,
            label=label,
            image_id=image_id,
            shape=shape,
            confidence=str(confidence),
            count=count,
            attributes=attributes,
            notes=notes,
            observed_at=observed,
        )

    def _attributes(self, label: str, given: Any) -> dict[str, Any] | None:
        if not isinstance(given, dict):
            return None
        if not given:
            if label not in self._no_attributes:
                self._no_attributes[label] = self._validated(label, {})
            found = self._no_attributes[label]
            return None if found is None else dict(found)
        return self._validated(label, given)

    def _validated(self, label: str, given: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self.labels.validate_attributes(label, dict(given))
        except AnnotationError:
            return None
