"""The collections: every annotation (`annotations`), one per site (`site-<slug>`, the
site's filter) and one per report (`report-<id>`: the annotations linked to it).

Reports follow the REST API's rule (annotations.newsroom.reports.visible_to): viewers see
published and withdrawn reports only, so a draft's collection is 'not found' to them,
exactly as one that does not exist, and it is missing from their list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.catalogue.sites import Site
from annotations.catalogue.users import Role
from annotations.errors import NotFound
from annotations.newsroom.reports import Report, visible_to
from annotations.ogc.crs import CRS84, EPSG_4326, utm_zone
from annotations.search import Filters

WORLD = (-180.0, -90.0, 180.0, 90.0)
ALL = "annotations"


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    bbox: tuple[float, float, float, float]
    crs: tuple[str, ...]  # the CRS URIs it offers, CRS84 first (the storage CRS)
    filters: Filters  # the collection's own filters, for the reader's role


def _all(role: Role) -> Collection:
    return Collection(
        ALL,
        "All annotations",
        "Every annotation on every image.",
        WORLD,
        (CRS84, EPSG_4326),
        Filters(role=role),
    )


def _site(site: Site, role: Role) -> Collection:
    west, south, east, north = site.rfc7946_bbox  # west > east across 180 degrees
    bbox = (west, south, east, north)
    return Collection(
        f"site-{site.slug}",
        site.name,
        f"Annotations of the site {site.name}.",
        bbox,
        (CRS84, EPSG_4326, utm_zone(bbox)),
        Filters(site=site.slug, role=role),
    )


def _report(report: Report, role: Role) -> Collection:
    return Collection(
        f"report-{report.id}",
        report.title,
        f"Annotations linked to the report {report.title!r} ({report.status}).",
        WORLD,
        (CRS84, EPSG_4326),
        Filters(report=report.id, role=role),
    )


def collections(session: Session, role: Role) -> list[Collection]:
    """Every collection `role` may read: all, then the sites by name, then the reports."""
    sites = session.scalars(select(Site).order_by(Site.name, Site.slug))
    reports = session.scalars(select(Report).where(*visible_to(role)).order_by(Report.id))
    return [
        _all(role),
        *(_site(site, role) for site in sites),
        *(_report(report, role) for report in reports),
    ]


def collection(session: Session, collection_id: str, role: Role) -> Collection:
    """One collection by id; 'not found' for an unknown id and for one `role` may not read."""
    missing = NotFound(f"no collection {collection_id[:100]!r}; GET /ogcapi/collections lists them")
    if collection_id == ALL:
        return _all(role)
    kind, _, key = collection_id.partition("-")
    if kind == "site" and key:
        site = session.scalars(select(Site).where(Site.slug == key)).first()
        if site is not None:
            return _site(site, role)
    if kind == "report" and key.isdigit() and len(key) <= 9:
        report = session.scalars(
            select(Report).where(Report.id == int(key), *visible_to(role))
        ).first()
        if report is not None:
            return _report(report, role)
    raise missing
