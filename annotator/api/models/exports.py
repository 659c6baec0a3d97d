"""GET /api/v1/exports: the format and the training-set options; the search filters are read
by annotator.api.filters, the options by the formats' writers (with their own messages)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from annotations.exchange import FORMATS
from annotator.api.contract import invalid
from imagery.chips import MAX_CHIP, MIN_CHIP

#: the search filters an export takes, documented once as components by the search route
FILTERS = ("bbox", "site", "image", "label", "status", "datetime", "author")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: Annotated[str, WithJsonSchema({"type": "string", "enum": list(FORMATS)})] = Field(
        description="; ".join(f"`{f.name}`: {f.title}" for f in FORMATS.values())
    )
    chip_size: Annotated[
        str | None,
        WithJsonSchema({"type": "integer", "minimum": MIN_CHIP, "maximum": MAX_CHIP}),
    ] = Field(
        default=None, description="coco, yolo: chip width and height in pixels (default 512)."
    )
    overlap: Annotated[str | None, WithJsonSchema({"type": "integer", "minimum": 0})] = Field(
        default=None,
        description="coco, yolo: pixels shared by neighbouring chips (default 64, at most half "
        "a chip).",
    )
    empty_chips: Annotated[
        str | None, WithJsonSchema({"type": "string", "enum": ["1", "true", "yes"]})
    ] = Field(default=None, description="coco, yolo: also write chips that show no annotation.")

    @model_validator(mode="before")
    @classmethod
    def _format_given(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("format"):
            raise invalid(
                f"say which format: ?format= one of {', '.join(FORMATS)}",
                details={"formats": list(FORMATS)},
            )
        return data
