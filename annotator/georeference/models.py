"""The georeferencing API's bodies and answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Method = Literal["affine", "polynomial", "tps"]
#: [px, py, lon, lat]: pixel (origin at the picture's top-left corner) -> WGS 84
Points = Field(
    min_length=1,
    max_length=200,
    description="Control points [px, py, lon, lat]: the pixel (origin at the top-left corner "
    "of the top-left pixel of the picture as shown) and its WGS 84 position.",
)


class PlacementResidualsBody(BaseModel):
    """Points and a method, with the picture's size or the upload holding it."""

    model_config = ConfigDict(extra="forbid")

    gcps: list[list[float]] = Points
    method: Method = "affine"
    upload: str | None = Field(default=None, pattern="^[0-9a-f]{32}$")
    width: int | None = Field(default=None, ge=1, le=1_000_000)
    height: int | None = Field(default=None, ge=1, le=1_000_000)


class PlacementResiduals(BaseModel):
    """The fit of the points by GDAL's transformer of the method, the one that warps."""

    method: Method
    gcps: list[list[float]]
    residuals_m: list[float]
    rmse_m: float
    worst: int = Field(description="The index of the point with the largest residual.")
    scale_m: float = Field(description="Metres per picture pixel at its centre.")
    methods: list[Method] = Field(description="The methods the number of points allows.")
    warnings: list[str]


class PlacementPreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upload: str = Field(pattern="^[0-9a-f]{32}$")
    gcps: list[list[float]] = Points
    method: Method = "affine"
    format: Literal["webp", "png"] = "webp"


class PlacementPreview(BaseModel):
    """The picture warped into Web Mercator, at most 1024 pixels a side."""

    image: str = Field(description="data:image/webp;base64,... (or image/png)")
    format: Literal["webp", "png"]
    width: int
    height: int
    bounds: list[float] = Field(description="west, south, east, north (WGS 84)")
    rmse_m: float


class PlaceAgain(BaseModel):
    """New control points for a placed press picture: a new version of its placement."""

    model_config = ConfigDict(extra="forbid")

    gcps: list[list[float]] = Points
    method: Method = "affine"
    reference: str | None = Field(default=None, max_length=32)


class PlacementHistory(BaseModel):
    """A placed picture's placement and every version of it, oldest first."""

    image: str
    placement: dict[str, Any]
    versions: list[dict[str, Any]]
