"""The label taxonomy, and measuring a shape to rank the aircraft types its size fits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from annotations.labels.identify import CANDIDATE_COUNT
from annotations.labels.taxonomy import ATTRIBUTE_TYPES
from annotations.measure import Measurements
from annotator.api.contract import component, invalid, refuse

LabelId = Annotated[str, component("LabelId")]
SEARCH_LIMIT = 100
MEASURE_FIELDS = "send {'geometry': GeoJSON geometry, 'image_id': the image's id}"


class LabelQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(
        default=None,
        description="Words typed: whole matches of id, name or alias first, then prefixes, "
        "then substrings ('124' finds the An-124). Absent: every label.",
    )
    limit: int = Field(default=10, ge=1, le=SEARCH_LIMIT, description="Most labels matching `q`.")

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: Any, info: ValidationInfo) -> Any:
        """Read only with `q` (a bad limit alone is ignored), and refused with 400."""
        if info.data.get("q") is None:
            return 10
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid("limit must be a whole number", status=400, code="bad_request") from None
        if not 1 <= number <= SEARCH_LIMIT:
            raise invalid(
                f"limit must be between 1 and {SEARCH_LIMIT}", status=400, code="bad_request"
            )
        return number


class AttributeSpec(BaseModel):
    type: str = Field(json_schema_extra={"enum": list(ATTRIBUTE_TYPES)})
    values: list[str] = []
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    description: str | None = None


class Reference(BaseModel):
    """Published size in metres, and its source."""

    length_m: float | None = None
    span_m: float | None = None
    span_swept_m: float | None = None
    length_m_range: list[float] | None = None
    span_m_range: list[float] | None = None
    source: str | None = None
    checked: bool = False
    note: str | None = None


class Label(BaseModel):
    id: LabelId
    name: str
    colour: str = Field(pattern="^#[0-9a-f]{6}$")
    parent: str | None
    aliases: list[str]
    description: str | None
    attributes: dict[str, AttributeSpec]
    reference: Reference | None


class Taxonomy(BaseModel):
    """Every label, or the best matches."""

    labels: list[Label]


class MeasureRequest(BaseModel):
    # image_id is read first, and any fault of it (absent too) answers MEASURE_FIELDS
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"required": ["image_id", "geometry"]}
    )

    image_id: Annotated[str, Field(min_length=1), refuse(MEASURE_FIELDS)] = Field(
        default=None, validate_default=True, description="The image it is drawn on."
    )
    # annotations.geometry.parse_geometry reads and checks it, with its own messages
    geometry: Annotated[Any, component("Geometry")]


class Aircraft(BaseModel):
    """The sides as length and span, in the order the best fit takes them."""

    length_m: float
    span_m: float


class Candidate(BaseModel):
    label: LabelId
    name: str
    colour: str
    score: float
    fits: bool
    length_m: float | None
    span_m: float | None


class Measurement(BaseModel):
    """Measurements and candidates."""

    measurements: Measurements
    aircraft: Aircraft | None
    gsd_m: float
    tolerance_m: float = Field(
        description="2 image pixels, plus the placement's RMSE on an image placed by "
        "control points."
    )
    placement_error_m: float | None = Field(
        default=None,
        description="The RMSE in metres of the image's placement by control points: each "
        "measurement may be off by about this much. Null for an image placed exactly.",
    )
    candidates: list[Candidate] = Field(
        description=f"Aircraft types with a reference size, best fit first (at most "
        f"{CANDIDATE_COUNT}); score is in units of tolerance, 1 or less fits."
    )
