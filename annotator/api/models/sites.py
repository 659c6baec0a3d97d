"""Sites: areas of interest, drawn as a circle around a point or given as a GeoJSON polygon."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema, model_validator
from pydantic.json_schema import JsonDict

from annotations.catalogue.geo import MAX_RADIUS_M
from annotations.catalogue.sites import NAME_MAX
from annotations.timeline import COUNTED_STATUSES
from annotator.api.contract import COMPONENT, component
from annotator.api.models.newsroom import Change

DEFAULT_RADIUS_M = 3000.0
SITE_EXAMPLE: JsonDict = {
    "name": "Hmeimim air base",
    "lon": 35.948,
    "lat": 35.405,
    "radius_m": 3000,
}
AREA_OR_POINT = "give either 'area' (a GeoJSON polygon) or 'lon' and 'lat' (and 'radius_m')"
Polygonal = Annotated[
    dict[str, Any],
    WithJsonSchema({"oneOf": [{COMPONENT: "Polygon"}, {COMPONENT: "MultiPolygon"}]}),
]


class BBox(RootModel[list[float]]):
    """[west, south, east, north] in degrees."""

    root: list[float] = Field(min_length=4, max_length=4)


class SiteInput(BaseModel):
    """A circle around a point (`lon`, `lat`, `radius_m`), or a GeoJSON polygon (`area`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [SITE_EXAMPLE],
            "oneOf": [
                {"title": "circle", "required": ["lon", "lat"], "not": {"required": ["area"]}},
                {"title": "area", "required": ["area"]},
            ],
        },
    )

    name: str = Field(min_length=1, max_length=NAME_MAX)
    slug: str | None = Field(default=None, description="URL name; made from the name when absent.")
    # the ranges are checked by annotations.catalogue.geo, whose messages say which is wrong
    lon: float | None = Field(default=None, json_schema_extra={"minimum": -180, "maximum": 180})
    lat: float | None = Field(default=None, json_schema_extra={"minimum": -90, "maximum": 90})
    radius_m: float | None = Field(
        default=None,
        description=f"Metres, {DEFAULT_RADIUS_M:,.0f} when absent.",
        json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_RADIUS_M},
    )
    area: Any = Field(
        default=None,
        description="A Polygon or MultiPolygon, or a Feature or a FeatureCollection of one "
        "holding it.",
        json_schema_extra={"type": ["object", "null"]},
    )

    @model_validator(mode="after")
    def _area_or_point(self) -> SiteInput:
        if self.area is None and (self.lon is None or self.lat is None):
            raise ValueError(AREA_OR_POINT)
        return self


class SiteEdit(BaseModel):
    """What to change: any of the name, the slug, and the area (a circle or a polygon)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Hmeimim air base", "radius_m": 4000}]},
    )

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    slug: str | None = Field(
        default=None, min_length=1, max_length=80, description="A new URL name (old links break)."
    )
    lon: float | None = Field(default=None, json_schema_extra={"minimum": -180, "maximum": 180})
    lat: float | None = Field(default=None, json_schema_extra={"minimum": -90, "maximum": 90})
    radius_m: float | None = Field(
        default=None,
        description="Metres: with `lon` and `lat` a new circle; alone, a circle around the "
        "present area's centre.",
        json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_RADIUS_M},
    )
    area: Any = Field(
        default=None,
        description="A new Polygon or MultiPolygon (or a Feature or a FeatureCollection of one).",
        json_schema_extra={"type": ["object", "null"]},
    )
    comment: str | None = Field(default=None, max_length=2000, description="Why; in the history.")

    @model_validator(mode="after")
    def _one_area(self) -> SiteEdit:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both 'lon' and 'lat' for a new centre, or neither")
        if self.area is not None and (self.lon is not None or self.radius_m is not None):
            raise ValueError("give either 'area' or a circle ('lon', 'lat', 'radius_m'), not both")
        return self


class Site(BaseModel):
    """The site."""

    slug: str
    name: str
    area: Polygonal
    bbox: BBox
    image_ids: list[str]
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    created_by: str | None


class SiteEdited(Site):
    """The site as changed, and the images a new area attached and took away."""

    images_added: list[str] = Field(description="Images whose footprint meets the new area.")
    images_removed: list[str] = Field(
        description="Images attached by footprint that the new area no longer meets."
    )


class SiteChanges(BaseModel):
    site: str
    changes: list[Change]


class SiteList(BaseModel):
    """The sites."""

    sites: list[Site]


class TimelineQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # the text as sent: annotations.timeline.parse_statuses reads and checks it
    status: Annotated[
        str | None,
        WithJsonSchema({"type": "array", "items": {COMPONENT: "Status"}}),
    ] = Field(
        default=None,
        description="Count annotations in any of these statuses (default "
        f"{', '.join(COUNTED_STATUSES)}: everything but rejected).",
    )


class LabelCount(BaseModel):
    label: Annotated[str, component("LabelId")]
    label_name: str | None
    annotations: int = Field(ge=1)
    objects: int = Field(
        ge=0,
        description="The sum of the annotations' `count` (a convoy of 40 is 40), leaving out "
        "those marked the same object as another annotation counted here.",
    )
    merged: int = Field(
        default=0,
        ge=0,
        description="Annotations marked the same object as another one counted on this "
        "capture: they add no object (the site page says '2 x An-124 (1 merged)').",
    )


class Capture(BaseModel):
    image_id: str = Field(pattern="^[0-9a-f]{32}$")
    captured_at: str | None = Field(json_schema_extra={"format": "date-time"})
    provider: str | None = None
    gsd_m: float | None = None
    synthetic: bool = False
    objects: int = Field(ge=0)
    counts: list[LabelCount] = Field(description="Per label, most objects first.")


class Timeline(BaseModel):
    """The timeline."""

    site: str
    name: str | None = None
    statuses: list[Annotated[str, component("Status")]]
    captures: list[Capture] = Field(description="Oldest first; captures of unknown date last.")
