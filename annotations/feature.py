"""The GeoJSON Feature an analyst sends: one pydantic model validates it for the API, the
importers and the command line, and describes it in the OpenAPI document.

A bad Feature is refused with the domain's own errors (`Malformed`: not the shape asked for,
`InvalidInput`: wrong content), raised from inside the model's validators so that pydantic
passes them on unchanged: the first fault found, in the order the fields are checked
(geometry, then label, image, shape, confidence, count, attributes, notes, time), with the
message a user acts on. The checks that depend on the loaded label taxonomy read it from the
validation context, `{"taxonomy": labels}`; a PATCH adds `"base"`, the annotation as it
stands, whose values fill in whatever the Feature leaves out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

import shapely
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import PlainValidator
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue, WithJsonSchema
from pydantic_core import CoreSchema
from shapely.geometry.base import BaseGeometry
from typing_extensions import TypeAliasType

from annotations.errors import InvalidInput, Malformed
from annotations.geometry import parse_geometry
from annotations.times import parse_time

SHAPES = ("point", "box", "rotated-box", "polygon", "line")
CONFIDENCES = ("confirmed", "probable", "possible")
GEOMETRY_TYPES_BY_SHAPE = {
    "point": ("Point", "MultiPoint"),
    "box": ("Polygon",),
    "rotated-box": ("Polygon",),
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
}
#: shapes drawn as a polygon of 4 corners (5 positions)
QUADRILATERAL_SHAPES = ("box", "rotated-box")
NOTES_LIMIT = 10_000
COUNT_MAX = 100_000
LABEL_REQUIRED = (
    "properties.label is required: a label id such as "
    "'aircraft.transport.an-124' (see GET /api/v1/labels)"
)


class Labels(Protocol):
    """What annotations need of the label taxonomy."""

    def get(self, label_id: str) -> Any: ...

    def validate_attributes(self, label_id: str, attributes: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class AnnotationInput:
    """A validated Feature, before it becomes a row."""

    geometry: BaseGeometry
    label: str
    image_id: str
    shape: str
    confidence: str = "probable"
    count: int = 1
    attributes: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    observed_at: datetime | None = None


#: the members of `properties` an annotation is made of (the rest is ignored)
PROPERTY_NAMES = (
    "label",
    "image_id",
    "shape",
    "confidence",
    "count",
    "attributes",
    "notes",
    "observed_at",
)


def refuse(message: str) -> WrapValidator:
    """The field's own checks (type, bounds) failing answer exactly `message` (InvalidInput)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise InvalidInput(message) from None

    return WrapValidator(check)


#: how a field names a component schema the OpenAPI builder makes by hand (`LabelId` from the
#: loaded taxonomy, `Geometry`): the same placeholder as annotator.api.contract.component
COMPONENT = "x-component"


def component(name: str) -> WithJsonSchema:
    """A field documented as the hand-built component schema `name`."""
    return WithJsonSchema({COMPONENT: name})


class OneOf:
    """Documents a text field as one of `values()`, read when the schema is made, so the
    document always lists what the validator accepts (the validators check the same constant)."""

    def __init__(
        self, values: Callable[[], Sequence[str]], description: Callable[[], str] | None = None
    ) -> None:
        self.values = values
        self.description = description

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found: dict[str, Any] = {"type": "string", "enum": list(self.values())}
        if self.description is not None:
            found["description"] = self.description()
        return found


def _shapes_described() -> str:
    return (
        "What was drawn, and the geometry each shape takes: "
        + "; ".join(f"{s} → {' or '.join(GEOMETRY_TYPES_BY_SHAPE[s])}" for s in SHAPES)
        + ". A box or rotated-box is a Polygon of 4 corners (5 positions). When absent, "
        "it follows from the geometry type."
    )


#: the component schemas `Shape` and `Confidence`
Shape = TypeAliasType("Shape", Annotated[str, OneOf(lambda: SHAPES, _shapes_described)])
Confidence = TypeAliasType("Confidence", Annotated[str, OneOf(lambda: CONFIDENCES)])


def _context(info: ValidationInfo) -> dict[str, Any]:
    context = info.context
    if not isinstance(context, dict) or "taxonomy" not in context:
        raise TypeError("validate a Feature with context={'taxonomy': <the label taxonomy>}")
    return context


def _geometry(value: Any) -> BaseGeometry:
    if isinstance(value, BaseGeometry):  # a PATCH keeps the annotation's own, checked already
        return value
    return parse_geometry(value)


#: an RFC 7946 geometry, checked by `parse_geometry` (shapely's reasons for invalid shapes)
GeometryIn = Annotated[BaseGeometry, PlainValidator(_geometry), component("Geometry")]


def default_shape(geometry: BaseGeometry) -> str:
    kind = geometry.geom_type
    if kind in ("Point", "MultiPoint"):
        return "point"
    if kind in ("LineString", "MultiLineString"):
        return "line"
    return "polygon"


def properties_json_schema(schema: dict[str, Any]) -> None:
    """Label and image are required (absent, they are checked as null); the attributes each
    label takes are the hand-built component `AttributesByLabel` (from the loaded taxonomy)."""
    schema["required"] = ["label", "image_id"]
    schema["allOf"] = [{COMPONENT: "AttributesByLabel"}]


class AnnotationPropertiesInput(BaseModel):
    """What was seen. Other members (label_name, status, version, ... as returned) are
    ignored, so a Feature read from the API can be sent back."""

    model_config = ConfigDict(
        extra="ignore",
        arbitrary_types_allowed=True,
        json_schema_extra=properties_json_schema,
    )

    label: Annotated[
        str,
        Field(strict=True, min_length=1),
        refuse(LABEL_REQUIRED),
        component("LabelId"),
    ]
    image_id: Annotated[
        str,
        Field(strict=True, min_length=1, description="The image it was seen on."),
        refuse("properties.image_id is required: the image it was seen on"),
    ]
    shape: Shape
    confidence: Confidence = "probable"
    count: Annotated[
        int,
        Field(strict=True, ge=1, le=COUNT_MAX),
        refuse(f"properties.count must be a whole number from 1 to {COUNT_MAX}"),
    ] = 1
    attributes: Annotated[
        dict[str, Any],
        Field(
            strict=True,
            description="Per label: see the Attributes.<label id> schemas.",
            json_schema_extra={"type": ["object", "null"]},
        ),
        refuse("properties.attributes must be an object"),
    ] = Field(default_factory=dict)
    notes: Annotated[
        str,
        Field(strict=True, max_length=NOTES_LIMIT, json_schema_extra={"type": ["string", "null"]}),
        refuse(f"properties.notes must be text of at most {NOTES_LIMIT} characters"),
    ] = ""
    observed_at: Annotated[
        datetime | None,
        Field(description="ISO 8601; absent: the image's capture time."),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Absent label and image are null (and refused); absent shape follows from the
        geometry; null or empty attributes and notes are none."""
        geometry: BaseGeometry = _context(info)["geometry"]
        data = {"label": None, "image_id": None, "shape": default_shape(geometry), **data}
        for name, empty in (("attributes", {}), ("notes", "")):
            if name in data and not data[name]:
                data[name] = empty
        return data

    @field_validator("label")
    @classmethod
    def _known_label(cls, value: str, info: ValidationInfo) -> str:
        _context(info)["taxonomy"].get(value)  # UnknownLabel lists the closest
        return value

    @field_validator("shape", mode="before")
    @classmethod
    def _shape_fits(cls, value: Any, info: ValidationInfo) -> str:
        if value not in SHAPES:
            raise InvalidInput(f"properties.shape {value!r} is not one of {', '.join(SHAPES)}")
        geometry: BaseGeometry = _context(info)["geometry"]
        if geometry.geom_type not in GEOMETRY_TYPES_BY_SHAPE[value]:
            wanted = " or ".join(GEOMETRY_TYPES_BY_SHAPE[value])
            raise InvalidInput(f"a {value} needs a {wanted} geometry, not {geometry.geom_type}")
        if value in QUADRILATERAL_SHAPES and not _is_quadrilateral(geometry):
            raise InvalidInput(f"a {value} is a polygon of 4 corners (5 positions)")
        return str(value)

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence(cls, value: Any) -> str:
        if value not in CONFIDENCES:
            raise InvalidInput(f"properties.confidence must be one of {', '.join(CONFIDENCES)}")
        return str(value)

    @field_validator("attributes")
    @classmethod
    def _attributes_fit_the_label(cls, value: dict[str, Any], info: ValidationInfo) -> Any:
        return _context(info)["taxonomy"].validate_attributes(info.data["label"], value)

    @field_validator("observed_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime | None:
        if isinstance(value, str):
            return parse_time(value, "properties.observed_at")
        if value is not None and not isinstance(value, datetime):
            raise InvalidInput("properties.observed_at must be an ISO 8601 time")
        return value


def _is_quadrilateral(geometry: BaseGeometry) -> bool:
    return (
        isinstance(geometry, shapely.Polygon)
        and shapely.get_num_coordinates(geometry.exterior) == 5
    )


def feature_json_schema(schema: dict[str, Any]) -> None:
    """What JSON Schema can say of a Feature beyond its members: no `crs`, and the geometry
    types each shape takes."""
    schema["not"] = {"required": ["crs"]}
    schema["allOf"] = [_shape_rule(shape) for shape in SHAPES]


class FeatureInput(BaseModel):
    """An annotation as a GeoJSON Feature: geometry and what was seen on which image."""

    model_config = ConfigDict(
        extra="ignore",
        arbitrary_types_allowed=True,
        json_schema_extra=feature_json_schema,
    )

    type: Literal["Feature"]
    geometry: GeometryIn
    properties: AnnotationPropertiesInput

    @model_validator(mode="before")
    @classmethod
    def _a_feature(cls, data: Any, info: ValidationInfo) -> Any:
        """What is not a Feature at all is Malformed; a PATCH's base fills the gaps."""
        if not isinstance(data, dict) or data.get("type") != "Feature":
            raise Malformed("the body must be a GeoJSON Feature ({'type': 'Feature', ...})")
        if "crs" in data:
            raise InvalidInput("the Feature carries a 'crs' member; send RFC 7946 WGS 84 lon/lat")
        base: AnnotationInput | None = _context(info).get("base")
        properties = data.get("properties")
        if properties is None and base is not None:
            properties = {}
        if not isinstance(properties, dict):
            raise Malformed("'properties' must be an object")
        if "geometry" not in data and base is None:
            raise Malformed("the Feature has no 'geometry'")
        if base is not None:
            current = {name: getattr(base, name) for name in PROPERTY_NAMES}
            properties = current | properties
        geometry = data["geometry"] if "geometry" in data or base is None else base.geometry
        return data | {"geometry": geometry, "properties": properties}

    @field_validator("properties", mode="wrap")
    @classmethod
    def _seen_on_this_geometry(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> AnnotationPropertiesInput:
        """The shape is checked against the geometry, which the properties do not hold."""
        context = _context(info) | {"geometry": info.data["geometry"]}
        return AnnotationPropertiesInput.model_validate(value, context=context)

    def to_input(self) -> AnnotationInput:
        p = self.properties
        return AnnotationInput(
            geometry=self.geometry,
            label=p.label,
            image_id=p.image_id,
            shape=p.shape,
            confidence=p.confidence,
            count=p.count,
            attributes=p.attributes,
            notes=p.notes,
            observed_at=p.observed_at,
        )


def _shape_rule(shape: str) -> dict[str, Any]:
    """If properties.shape is `shape`, the geometry must be of a type that shape takes."""
    geometry: dict[str, Any] = {"type": {"enum": list(GEOMETRY_TYPES_BY_SHAPE[shape])}}
    if shape in QUADRILATERAL_SHAPES:
        geometry["coordinates"] = {"prefixItems": [{"minItems": 5, "maxItems": 5}]}
    return {
        "if": {
            "properties": {
                "properties": {
                    "type": "object",
                    "properties": {"shape": {"const": shape}},
                    "required": ["shape"],
                }
            },
            "required": ["properties"],
        },
        "then": {"properties": {"geometry": {"properties": geometry}}},
    }


def parse_feature(
    data: Any, labels: Labels, *, base: AnnotationInput | None = None
) -> AnnotationInput:
    """Validate a GeoJSON Feature. With `base`, fields absent from `data` keep their
    current values (PATCH); without it every required field must be there."""
    context: dict[str, Any] = {"taxonomy": labels, "base": base}
    try:
        return FeatureInput.model_validate(data, context=context).to_input()
    except ValidationError as exc:  # every check raises a domain error; this is a last guard
        raise InvalidInput(f"the Feature is not valid: {exc.errors()[0]['msg']}") from None
