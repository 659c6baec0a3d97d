"""Sites: named places with an area of interest, e.g. Hmeimim air base."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from annotations.catalogue.geo import from_geojson_text, to_geojson_text
from annotations.db import Base, BoundingBox, UTCDateTime, utcnow
from annotations.errors import AlreadyExists, InvalidInput, NotFound

if TYPE_CHECKING:
    from annotations.catalogue.images import Image


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "area": json.loads(self.area_geojson),
            "bbox": self.bbox,
            "image_ids": [image.id for image in self.images],
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "created_by": self.created_by,
        }


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80]


def add_site(
    session: Session,
    name: str,
    area: shapely.Polygon | shapely.MultiPolygon,
    *,
    slug: str | None = None,
    created_by: str | None = None,
) -> Site:
    """Create a site and attach every catalogued image whose footprint meets its area."""
    from annotations.catalogue.images import Image

    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a site needs a name of 1 to 200 characters")
    slug = slugify(slug or name)
    if not slug:
        raise InvalidInput(f"cannot make a URL slug from {name!r}; pass a slug in Latin letters")
    if session.scalar(select(Site).where(Site.slug == slug)) is not None:
        raise AlreadyExists(f"a site with slug {slug!r} exists already")
    site = Site(slug=slug, name=name, area_geojson=to_geojson_text(area), created_by=created_by)
    site.set_bounds(area.bounds)
    session.add(site)
    session.flush()
    for image in session.scalars(select(Image).where(Image.overlapping(area.bounds))):
        if image.footprint.intersects(area):
            session.add(SiteImage(site_id=site.id, image_id=image.id, reason="footprint"))
    session.flush()
    session.refresh(site)
    return site


def get_site(session: Session, slug: str) -> Site:
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise NotFound(f"no site {slug!r}; list sites with 'annotator sites list'")
    return site


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.name)))


def sites_meeting(session: Session, footprint: BaseGeometry) -> list[Site]:
    candidates = session.scalars(select(Site).where(Site.overlapping(footprint.bounds)))
    return [site for site in candidates if site.area.intersects(footprint)]
