"""The catalogue's tables: sites, images, and which images show which site.

Sites and images refer to each other, so their tables live together here; the functions that
work on them are in `sites` and `images`, which import this module and never each other back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from annotations.catalogue.geo import from_geojson_text
from annotations.db import Base, BoundingBox, UTCDateTime, utcnow
from imagery.footprint import rfc7946_bbox

TEXT_LIMIT = 500


class SiteImage(Base):
    """Which images show which site; `reason` is 'footprint' or 'explicit'."""

    __tablename__ = "site_images"
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(16), default="footprint")


def _box_of(row: BoundingBox, shape: Callable[[], BaseGeometry]) -> list[float]:
    """`row`'s box as RFC 7946 gives it: west > east for a shape cut at 180 degrees. Its
    columns then hold -180..180, a box every overlap pre-filter can use as it is, and the
    shape is read only then."""
    if row.min_lon > -180 or row.max_lon < 180:
        return row.bbox
    return rfc7946_bbox(shape())


class Site(Base, BoundingBox):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    area_geojson: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    images: Mapped[list[Image]] = relationship(
        secondary="site_images", back_populates="sites", order_by="Image.captured_at"
    )

    @property
    def area(self) -> BaseGeometry:
        return from_geojson_text(self.area_geojson)

    @property
    def rfc7946_bbox(self) -> list[float]:
        """The box of the area; west > east for one cut at 180 degrees."""
        return _box_of(self, lambda: self.area)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "area": json.loads(self.area_geojson),
            "bbox": self.rfc7946_bbox,
            "image_ids": [image.id for image in self.images],
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "created_by": self.created_by,
        }


#: keys of an image's `tags_json` that ingest fills (a file's own tag of the name is dropped):
#: how it was placed (imagery.georef.models.Georeferencing) and its capture facts from vendor
#: headers and sidecars (imagery.georef.vendor)
GEOREFERENCING_TAG = "annotator:georeferencing"
ACQUISITION_TAG = "annotator:acquisition"


class Image(Base, BoundingBox):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    cog_name: Mapped[str] = mapped_column(String(80))
    original_filename: Mapped[str] = mapped_column(String(255))
    crs: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    band_count: Mapped[int] = mapped_column(Integer)
    dtype: Mapped[str] = mapped_column(String(16))
    nodata: Mapped[float | None] = mapped_column(Float, nullable=True)
    mask: Mapped[str] = mapped_column(String(16))
    gsd_m: Mapped[float] = mapped_column(Float)
    footprint_geojson: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    captured_source: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    sensor: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    licence: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    attribution: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    description: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    display_json: Mapped[str] = mapped_column(Text)
    warped: Mapped[bool] = mapped_column(Boolean, default=False)
    tags_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    sites: Mapped[list[Site]] = relationship(
        secondary="site_images", back_populates="images", order_by="Site.name"
    )

    @property
    def footprint(self) -> BaseGeometry:
        return from_geojson_text(self.footprint_geojson)

    @property
    def rfc7946_bbox(self) -> list[float]:
        """The box of the footprint; west > east for one cut at 180 degrees."""
        return _box_of(self, lambda: self.footprint)

    @property
    def display(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.display_json)
        return result

    @property
    def georeferencing(self) -> dict[str, str]:
        """How the image was placed; for an image catalogued before this was kept, what
        ingest did then (a rotated geotransform was the only warp)."""
        return georeferencing_of(self.tags_json, self.warped)

    @property
    def acquisition(self) -> dict[str, str]:
        found = json.loads(self.tags_json or "{}").get(ACQUISITION_TAG)
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sha256": self.sha256,
            "original_filename": self.original_filename,
            "captured_at": _iso(self.captured_at),
            "captured_source": self.captured_source,
            "provider": self.provider,
            "sensor": self.sensor,
            "licence": self.licence,
            "attribution": self.attribution,
            "description": self.description,
            "synthetic": self.synthetic,
            "crs": self.crs,
            "width": self.width,
            "height": self.height,
            "band_count": self.band_count,
            "dtype": self.dtype,
            "nodata": self.nodata,
            "mask": self.mask,
            "gsd_m": self.gsd_m,
            "bbox": self.rfc7946_bbox,
            "footprint": json.loads(self.footprint_geojson),
            "display": self.display,
            "warped": self.warped,
            "georeferencing": self.georeferencing,
            "acquisition": self.acquisition,
            "sites": [site.slug for site in self.sites],
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def georeferencing_of(tags_json: str | None, warped: bool) -> dict[str, str]:
    """How an image was placed, from its stored tags; for an image catalogued before this was
    kept, what ingest did then (a rotated geotransform was the only warp)."""
    found = json.loads(tags_json or "{}").get(GEOREFERENCING_TAG)
    if isinstance(found, dict):
        return {str(k): str(v) for k, v in found.items()}
    if warped:
        return {"method": "rotated", "text": "rotated geotransform, warped north-up"}
    return {"method": "geotransform", "text": "north-up geotransform"}
