"""The annotations API's requests and answers: the search query, the bodies of create, edit,
status, restore, copy and review, and the answers' shapes.

A Feature itself is `annotations.feature.FeatureInput` (the importers and the command line
validate with it too); here it gains the edit's `comment`, the FeatureCollection of a create
and the PATCH description. Messages are today's word for word: `refuse`/`invalid` for the web
layer's own (422 "invalid", or 400 where the query string was not even readable), the domain's
errors (InvalidInput 422, Malformed 400) raised unchanged from the validators.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypeAliasType

from annotations import history, review
from annotations.annotation import STATUSES, TRANSITIONS
from annotations.errors import AnnotationError, Malformed
from annotations.feature import (
    COUNT_MAX,
    AnnotationPropertiesInput,
    Confidence,
    FeatureInput,
    OneOf,
    Shape,
    feature_json_schema,
    properties_json_schema,
)
from annotations.measure import Measurements
from annotations.search import DEFAULT_LIMIT, MAX_LIMIT, Filters, parse_bbox
from annotations.times import parse_interval
from annotator.api.contract import component, invalid, refuse
from annotator.api.models.discussion import ThreadComment
from annotator.api.models.duplicates import WARNINGS_DESCRIPTION, DuplicateWarning
from annotator.api.openapi_common import ID_PATTERN, attribute_schema_name, schema_ref

#: the longest `comment` a change takes (kept in the annotation's history)
COMMENT_MAX = 2000
LabelId = Annotated[str, component("LabelId")]


def _statuses_described() -> str:
    moves = "; ".join(
        f"{start} → {end} ({role.name})"
        for start, ends in TRANSITIONS.items()
        for end, role in ends.items()
    )
    return f"Review status. Allowed moves and the least role for each: {moves}."


#: the component schema `Status`, listing annotations.annotation.STATUSES when it is made
Status = TypeAliasType("Status", Annotated[str, OneOf(lambda: STATUSES, _statuses_described)])
Comment = TypeAliasType(
    "Comment",
    Annotated[
        str,
        Field(strict=True, max_length=COMMENT_MAX, description="Why; kept in the history."),
    ],
)
#: an optional comment, refused with today's sentence
OptionalComment = Annotated[
    Comment | None, refuse(f"'comment' must be text of at most {COMMENT_MAX} characters")
]


class DocumentedAs:
    """Annotated metadata: document a field as `kind` (a query string's `a,b,c` as the array
    it means), while the field itself takes the text and its validator reads it."""

    def __init__(self, kind: Any) -> None:
        self.schema = TypeAdapter(kind).core_schema

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.schema)


class AbsentIsNull(BaseModel):
    """A required field left out is checked as null, so its own sentence answers (not
    pydantic's "field required")."""

    @model_validator(mode="before")
    @classmethod
    def _absent_is_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        required = [name for name, field in cls.model_fields.items() if field.is_required()]
        return {name: None for name in required} | data


# --- the search ---------------------------------------------------------------------------------


def _number(name: str, value: Any) -> int | None:
    """?report=12: a whole number of at most 12 digits, or 400."""
    if not value:
        return None
    if not str(value).isdigit() or len(str(value)) > 12:
        raise invalid(
            f"{name} must be a {name} id (a whole number)", status=400, code="bad_request"
        )
    return int(value)


class SearchQuery(BaseModel):
    """The search filters of GET /annotations (and of GET /exports, which names the same
    parameters): every value is text in the query string, read as today's filters."""

    model_config = ConfigDict(extra="ignore")
    shared_parameters: ClassVar[bool] = True

    bbox: Annotated[
        str | None,
        DocumentedAs(Annotated[list[float], Field(min_length=4, max_length=4)]),
        Field(
            description="Annotations meeting the box west,south,east,north (degrees; "
            "west > east is a box across the antimeridian, RFC 7946)."
        ),
    ] = None
    site: Annotated[
        str | None,
        Field(
            description="Annotations meeting this site's area (slug), whatever image they are on."
        ),
    ] = None
    image: Annotated[str | None, Field(description="Annotations on this image (id).")] = None
    label: Annotated[
        str | None,
        component("LabelId"),
        Field(description="This label and every label below it."),
    ] = None
    status: Annotated[
        str | None,
        DocumentedAs(list[Status]),
        Field(description="Any of these statuses (comma-separated)."),
    ] = None
    datetime: Annotated[
        str | None,
        Field(
            description="Observed at this RFC 3339 instant, or in the interval start/end where "
            "either side may be '..' (e.g. 2024-12-10T00:00:00Z/..)."
        ),
    ] = None
    author: Annotated[str | None, Field(description="Created by this user name.")] = None
    report: Annotated[
        int | None,
        Field(
            description="Linked to this report: directly, through a claim or an event.",
            json_schema_extra={"minimum": 0},
        ),
    ] = None
    event: Annotated[
        int | None,
        Field(description="Grouped into this event.", json_schema_extra={"minimum": 0}),
    ] = None
    limit: Annotated[
        int,
        Field(
            description="Most features in one page.",
            json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
        ),
    ] = DEFAULT_LIMIT
    cursor: Annotated[
        str | None, Field(description="Where the next page starts: from the `next` link.")
    ] = None
    download: Annotated[
        str | None,
        Field(
            description="Any non-empty value: answer as the attachment annotations.geojson.",
            examples=["1"],
        ),
    ] = None

    @field_validator("limit", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """Read here; its range is checked by the search (annotations.search.MAX_LIMIT)."""
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid("limit must be a whole number", status=400, code="bad_request") from None

    @field_validator("report", "event", mode="before")
    @classmethod
    def _an_id(cls, value: Any, info: ValidationInfo) -> int | None:
        return _number(str(info.field_name), value)

    def filters(self, role: Any) -> Filters:
        """The filters, each part read by the domain's own parser (its messages)."""
        start = end = None
        if self.datetime:
            start, end = parse_interval(self.datetime)
        return Filters(
            bbox=parse_bbox(self.bbox) if self.bbox else None,
            site=self.site or None,
            image=self.image or None,
            label=self.label or None,
            status=tuple(s for s in (self.status or "").split(",") if s),
            start=start,
            end=end,
            author=self.author or None,
            report=self.report,
            event=self.event,
            limit=self.limit,
            cursor=self.cursor or None,
            role=role,  # a report filter sees only what the user may see
        )


# --- creating -----------------------------------------------------------------------------------


def _each_feature(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Each Feature checked in turn; an error names the Feature (`features[3]: ...`) unless
    the collection holds only that one."""
    if not isinstance(value, list):
        raise Malformed("send a GeoJSON Feature or FeatureCollection")
    if not value:
        raise Malformed("the FeatureCollection is empty")
    parsed = []
    for index, item in enumerate(value):
        try:
            parsed.append(FeatureInput.model_validate(item, context=info.context))
        except AnnotationError as exc:
            if len(value) == 1:
                raise
            raise type(exc)(f"features[{index}]: {exc.message}", exc.details) from exc
    return parsed


class FeatureCollectionInput(BaseModel):
    """Several annotations created at once, all or none."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["FeatureCollection"]
    features: Annotated[list[FeatureInput], Field(min_length=1)]

    @field_validator("features", mode="wrap")
    @classmethod
    def _features(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        return _each_feature(value, handler, info)


class NewAnnotations(RootModel[FeatureInput | FeatureCollectionInput]):
    """A Feature, or a FeatureCollection of several (all or none)."""

    root: Annotated[FeatureInput | FeatureCollectionInput, Field(discriminator="type")]

    @field_validator("root", mode="wrap")
    @classmethod
    def _a_feature_or_a_collection(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:  # neither type: the members' own errors are raised, not these
            raise Malformed("send a GeoJSON Feature or FeatureCollection") from None

    def features(self) -> list[FeatureInput]:
        root = self.root
        return [root] if root.type == "Feature" else root.features


# --- changing -----------------------------------------------------------------------------------


class FeatureReplace(FeatureInput):
    """Every member is sent (PUT), with an optional `comment` for the history."""

    comment: OptionalComment = None


def _patch_json(schema: dict[str, Any]) -> None:
    feature_json_schema(schema)
    schema["required"] = ["type"]


def _patch_properties_json(schema: dict[str, Any]) -> None:
    properties_json_schema(schema)
    del schema["required"]


class AnnotationPropertiesPatch(AnnotationPropertiesInput):
    """Only the members sent change; the others keep their current values."""

    model_config = ConfigDict(json_schema_extra=_patch_properties_json)


class FeaturePatch(FeatureReplace):
    """The members left out keep their current values (PATCH): validated as a whole Feature
    with the annotation as it stands as the `base` of the validation context."""

    model_config = ConfigDict(json_schema_extra=_patch_json)

    # documented as AnnotationPropertiesPatch; checked, like every Feature, by the wrap
    # validator of FeatureInput.properties
    properties: AnnotationPropertiesPatch | None  # type: ignore[assignment]


class StatusChange(AbsentIsNull):
    model_config = ConfigDict(extra="ignore")

    status: Annotated[
        Status,
        Field(strict=True),
        refuse("send {'status': 'in_review' | 'approved' | 'rejected' | 'draft'}"),
    ]
    comment: OptionalComment = None


class Restore(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Annotated[
        int | None,
        Field(
            strict=True,
            description="The version to bring back; absent: undo a deletion.",
            json_schema_extra={"minimum": 1},
        ),
        refuse("'version' must be a whole number"),
    ] = None
    comment: OptionalComment = None


class CopyRequest(AbsentIsNull):
    model_config = ConfigDict(extra="ignore")

    image: Annotated[
        str,
        Field(
            strict=True,
            min_length=1,
            description="The capture to copy the annotation to.",
            json_schema_extra={"pattern": ID_PATTERN},
        ),
        refuse("send {'image': '<id of the capture to copy the annotation to>'}"),
    ]


class ReviewRequest(AbsentIsNull):
    """What to review; the domain (annotations.review) checks the batch as a whole."""

    model_config = ConfigDict(extra="ignore")

    action: Annotated[
        str,
        OneOf(lambda: tuple(review.DECISIONS)),
        Field(strict=True),
        refuse(f"send 'action': one of {', '.join(review.DECISIONS)}"),
    ]
    ids: Annotated[
        list[Annotated[str, Field(strict=True, min_length=1)]],
        Field(
            strict=True,
            json_schema_extra={
                "minItems": 1,
                "maxItems": review.MAX_BATCH,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": ID_PATTERN},
            },
        ),
        refuse("send 'ids': a list of annotation ids"),
    ]
    versions: Annotated[
        dict[str, Annotated[int, Field(strict=True, ge=1)]],
        Field(
            strict=True,
            description="Annotation id -> the version you reviewed (from its ETag).",
        ),
        refuse("'versions' maps annotation ids to the version you saw (numbers)"),
    ] = Field(default_factory=dict)
    comment: OptionalComment = None

    @model_validator(mode="after")
    def _versions_of_the_ids(self) -> ReviewRequest:
        unknown = set(self.versions) - set(self.ids)
        if unknown:
            raise invalid(f"'versions' names ids not in 'ids': {', '.join(sorted(unknown))}")
        return self

    def items(self) -> list[review.Item]:
        return [review.Item(i, self.versions.get(i)) for i in self.ids]


# --- the answers (documentation: the features are written by annotations.annotation) -------------


class AnnotationSource(BaseModel):
    """The image the annotation was drawn on, as it was then."""

    image_sha256: str
    provider: str | None = None
    licence: str | None = None
    attribution: str | None = None
    gsd_m: float
    captured_at: datetime | None = None
    synthetic: bool


class AnnotationProperties(BaseModel):
    label: LabelId
    label_name: str | None
    shape: Shape
    confidence: Confidence
    count: Annotated[int, Field(ge=1, le=COUNT_MAX)]
    attributes: dict[str, Any]
    notes: str
    image_id: str
    observed_at: datetime | None
    status: Status
    version: Annotated[int, Field(ge=1)]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    deleted: bool
    derived_from: str | None = Field(
        description="The annotation this one was copied from, on another capture "
        "(POST /api/v1/annotations/{annotation_id}/copy)."
    )
    same_as: str | None = Field(
        default=None,
        description="The annotation on the same capture this one is the same object as "
        "(POST /api/v1/annotations/{annotation_id}/same-as): counted once, with it.",
    )
    measurements: Measurements
    source: AnnotationSource
    reports: list[str]


class Annotation(BaseModel):
    """An annotation as a GeoJSON Feature with its provenance."""

    type: Literal["Feature"]
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    geometry: Annotated[Any, component("Geometry")]
    properties: AnnotationProperties
    warnings: list[DuplicateWarning] | None = Field(default=None, description=WARNINGS_DESCRIPTION)


class PageLink(BaseModel):
    rel: Literal["next"]
    type: str
    href: str


class AnnotationCollection(BaseModel):
    """One page of matches."""

    type: Literal["FeatureCollection"]
    features: list[Annotation]
    numberReturned: Annotated[int, Field(ge=0)]
    links: list[PageLink] = Field(description="`next` when there are more matches.")


class CreatedAnnotations(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Annotation]


RevisionAction = TypeAliasType("RevisionAction", Annotated[str, OneOf(lambda: history.ACTIONS)])


class Revision(BaseModel):
    revision: int
    version: int
    action: RevisionAction
    actor: str
    at: datetime
    comment: str | None
    before: Annotation | None
    after: Annotation | None


class History(BaseModel):
    """The revisions, oldest first."""

    annotation: str
    revisions: list[Revision]
    links: list[dict[str, Any]] = Field(
        description="Every link of this annotation to a report or claim, and every unlink "
        "(the changes of /api/v1/links)."
    )
    comments: list[ThreadComment] = Field(
        default_factory=list,
        description="Every comment on it, oldest first; a withdrawn one without its text.",
    )


class ReviewResult(BaseModel):
    """The annotations in their new status."""

    action: Annotated[str, OneOf(lambda: tuple(review.DECISIONS))]
    annotations: list[Annotation]


class DeleteQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    comment: Annotated[
        str | None, DocumentedAs(Comment), Field(description="Why; kept in the history.")
    ] = None


class SameAsRequest(AbsentIsNull):
    model_config = ConfigDict(extra="ignore")

    annotation: Annotated[
        str,
        Field(
            strict=True,
            min_length=1,
            max_length=64,
            description="The annotation on the same capture that shows the same object.",
            json_schema_extra={"pattern": ID_PATTERN},
        ),
        refuse("send {'annotation': '<id of the annotation that shows the same object>'}"),
    ]
    comment: OptionalComment = None


def attributes_by_label(taxonomy: Iterable[Any]) -> dict[str, Any]:
    """The component `AttributesByLabel`: which attributes go with which label, as the loaded
    taxonomy says (the one part of a Feature's schema no model can know in advance)."""
    return {
        "description": "Per label: the attributes of that label (Attributes.<label id>), or null.",
        "allOf": [
            {
                "if": {"properties": {"label": {"const": label.id}}, "required": ["label"]},
                "then": {
                    "properties": {
                        "attributes": {
                            "oneOf": [
                                schema_ref(attribute_schema_name(label.id)),
                                {"type": "null"},
                            ]
                        }
                    }
                },
            }
            for label in taxonomy
        ],
    }
