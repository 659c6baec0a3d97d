"""The image catalogue: one row per capture, its stored COG and where it came from."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from annotations.catalogue.geo import from_geojson_text
from annotations.catalogue.sites import SiteImage, get_site, sites_meeting
from annotations.db import Base, BoundingBox, UTCDateTime, utcnow
from annotations.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from annotations.catalogue.sites import Site

TEXT_LIMIT = 500


@dataclass(frozen=True)
class Provenance:
    """What the importer says about a capture; all optional, all kept."""

    provider: str | None = None
    sensor: str | None = None
    licence: str | None = None
    attribution: str | None = None
    description: str | None = None
    synthetic: bool = False

    def __post_init__(self) -> None:
        for name in ("provider", "sensor", "licence", "attribution", "description"):
            value = getattr(self, name)
            if value is not None and len(value) > TEXT_LIMIT:
                raise InvalidInput(f"{name} is longer than {TEXT_LIMIT} characters")


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
    def display(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.display_json)
        return result

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
            "bbox": self.bbox,
            "footprint": json.loads(self.footprint_geojson),
            "display": self.display,
            "warped": self.warped,
            "sites": [site.slug for site in self.sites],
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def find_by_sha256(session: Session, sha256: str) -> Image | None:
    return session.scalar(select(Image).where(Image.sha256 == sha256))


def get_image(session: Session, image_id: str) -> Image:
    image = session.get(Image, image_id) if len(image_id) <= 32 else None
    if image is None:
        raise NotFound(f"no image {image_id!r}; list images with 'annotator images list'")
    return image


def list_images(session: Session) -> list[Image]:
    return list(session.scalars(select(Image).order_by(Image.captured_at, Image.created_at)))


def add_image(
    session: Session,
    facts: Any,
    provenance: Provenance,
    *,
    site_slugs: tuple[str, ...] = (),
    created_by: str | None = None,
) -> Image:
    """Catalogue an ingested image (an `imagery.ingest.ImageFacts`) and attach its sites."""
    explicit = [get_site(session, slug) for slug in site_slugs]
    nodata = facts.nodata
    image = Image(
        id=uuid.uuid4().hex,
        sha256=facts.sha256,
        cog_name=facts.cog_path.name,
        original_filename=facts.original_filename[:255],
        crs=facts.crs,
        width=facts.width,
        height=facts.height,
        band_count=facts.band_count,
        dtype=facts.dtype,
        nodata=None if nodata is None or not math.isfinite(nodata) else nodata,
        mask=facts.mask,
        gsd_m=facts.gsd_m,
        footprint_geojson=json.dumps(facts.footprint, separators=(",", ":")),
        captured_at=facts.captured_at,
        captured_source=facts.captured_source,
        provider=provenance.provider,
        sensor=provenance.sensor,
        licence=provenance.licence,
        attribution=provenance.attribution,
        description=provenance.description,
        synthetic=provenance.synthetic,
        display_json=json.dumps(facts.display.to_dict()),
        warped=facts.warped,
        tags_json=json.dumps(facts.tags),
        created_by=created_by,
    )
    image.set_bounds(facts.bounds)
    session.add(image)
    session.flush()
    attached: dict[int, str] = {site.id: "explicit" for site in explicit}
    for site in sites_meeting(session, image.footprint):
        attached.setdefault(site.id, "footprint")
    for site_id, reason in attached.items():
        session.add(SiteImage(site_id=site_id, image_id=image.id, reason=reason))
    session.flush()
    session.refresh(image)
    return image
