"""Sites: named places with an area of interest, e.g. Hmeimim air base."""

from __future__ import annotations

import re
import unicodedata

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.geo import to_geojson_text
from annotations.catalogue.tables import Image, Site, SiteImage
from annotations.errors import AlreadyExists, InvalidInput, NotFound

NAME_MAX = 200  # characters of a site name


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
    name = name.strip()
    if not name or len(name) > NAME_MAX:
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
