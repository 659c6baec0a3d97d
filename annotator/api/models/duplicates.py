"""The `warnings` of a save or a copy, and the body that marks two annotations one object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from annotator.api.openapi_common import ID_PATTERN


class DuplicateWarning(BaseModel):
    """Another annotation on the same image that is possibly the same object: a compatible
    label (the same, a parent, or an 'unknown' of the same branch) and an overlap of areas by
    an IoU of at least ANNOTATOR_DUPLICATE_IOU_PERCENT, or points and lines at most
    ANNOTATOR_DUPLICATE_DISTANCE_M metres apart (on the ellipsoid)."""

    code: Literal["possible_duplicate"]
    annotation: Annotated[str, Field(pattern=ID_PATTERN, description="The other annotation.")]
    label: str = Field(description="The other annotation's label id.")
    label_name: str | None = Field(description="Its name in the taxonomy.")
    iou: float | None = Field(
        default=None, ge=0, le=1, description="Areas: intersection over union of the outlines."
    )
    distance_m: float | None = Field(
        default=None, ge=0, description="Points and lines: metres between the nearest points."
    )
    message: str = Field(description="The warning in words.")


WARNINGS_DESCRIPTION = (
    "Answers of a create, an edit that moves the geometry or changes the label, and a copy: "
    "possible duplicates on the same image, likeliest first (at most 5); empty when none. "
    "The save is made either way: mark it the same object (POST .../same-as) or leave it."
)
