"""Sites: named places with an area of interest, e.g. Hmeimim air base."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.geo import to_geojson_text
from annotations.catalogue.tables import Image, Site, SiteImage
from annotations.errors import AlreadyExists, InvalidInput, NotFound
from annotations.history import record_change

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
    slug = _free_slug(session, slug or name, name)
    site = Site(slug=slug, name=name, area_geojson=to_geojson_text(area), created_by=created_by)
    site.set_bounds(area.bounds)
    session.add(site)
    session.flush()
    for image_id in _meeting(session, area):
        session.add(SiteImage(site_id=site.id, image_id=image_id, reason="footprint"))
    session.flush()
    session.refresh(site)
    record_change(session, "site", site.id, "create", created_by or "cli", None, site.to_dict())
    return site


@dataclass(frozen=True)
class Placement:
    """The images an edit of a site's area attached to it and took from it."""

    added: list[str]
    removed: list[str]


def edit_site(
    session: Session,
    site: Site,
    actor: str,
    *,
    name: str | None = None,
    slug: str | None = None,
    area: shapely.Polygon | shapely.MultiPolygon | None = None,
    comment: str | None = None,
) -> Placement:
    """Change a site's name, slug or area, recorded in the history.

    A new area re-places the images by footprint: images attached because their footprint
    met the old area and not meeting the new one leave the site, and images meeting the new
    area join it. Images attached by hand (`--site` on import, reason 'explicit') stay.
    Annotations, events and reports are not changed; the site page and counts follow.
    """
    before = site.to_dict()
    if name is not None:
        name = name.strip()
        if not name or len(name) > NAME_MAX:
            raise InvalidInput("a site needs a name of 1 to 200 characters")
        site.name = name
    if slug is not None and slugify(slug) != site.slug:
        site.slug = _free_slug(session, slug, site.name)
    placement = Placement([], [])
    if area is not None and not area.equals(site.area):
        site.area_geojson = to_geojson_text(area)
        site.set_bounds(area.bounds)
        placement = _replace(session, site, area)
    session.flush()
    session.refresh(site)
    after = site.to_dict()
    if after != before:
        record_change(session, "site", site.id, "edit", actor, before, after, comment)
    return placement


def _free_slug(session: Session, wanted: str, name: str) -> str:
    slug = slugify(wanted)
    if not slug:
        raise InvalidInput(f"cannot make a URL slug from {name!r}; pass a slug in Latin letters")
    if session.scalar(select(Site).where(Site.slug == slug)) is not None:
        raise AlreadyExists(f"a site with slug {slug!r} exists already")
    return slug


def _meeting(session: Session, area: BaseGeometry) -> list[str]:
    """The catalogued images whose footprint meets the area."""
    found = session.scalars(select(Image).where(Image.overlapping(area.bounds)))
    return [image.id for image in found if image.footprint.intersects(area)]


def _replace(session: Session, site: Site, area: BaseGeometry) -> Placement:
    meeting = set(_meeting(session, area))
    held = {
        row.image_id: row
        for row in session.scalars(select(SiteImage).where(SiteImage.site_id == site.id))
    }
    removed = sorted(i for i, row in held.items() if row.reason == "footprint" and i not in meeting)
    for image_id in removed:
        session.delete(held[image_id])
    added = sorted(meeting - set(held))
    for image_id in added:
        session.add(SiteImage(site_id=site.id, image_id=image_id, reason="footprint"))
    session.flush()
    session.expire(site, ["images"])
    return Placement(added, removed)


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
