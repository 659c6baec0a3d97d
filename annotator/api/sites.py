"""Sites API: list, create and change areas of interest, with their history."""

from __future__ import annotations

import shapely
from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.geo import area_polygon, geodesic_circle
from annotations.catalogue.sites import add_site, edit_site, get_site, list_sites
from annotations.catalogue.users import Role
from annotations.history import changes_of
from annotations.timeline import parse_statuses, site_timeline
from annotator import services
from annotator.api.contract import operation
from annotator.api.models.sites import (
    DEFAULT_RADIUS_M,
    Site,
    SiteChanges,
    SiteEdit,
    SiteEdited,
    SiteInput,
    SiteList,
    Timeline,
    TimelineQuery,
)
from annotator.auth import actor, current_user, login_required, role_required
from annotator.services import database

bp = Blueprint("sites", __name__, url_prefix="/api/v1/sites")
LOCATION = {"headers": {"Location": {"$ref": "#/components/headers/Location"}}}


@bp.get("")
@login_required
@operation("listSites", summary="List the sites", tags=("sites",), responses={200: SiteList})
def index() -> Response:
    with database().read() as session:
        return jsonify({"sites": [site.to_dict() for site in list_sites(session)]})


@bp.get("/<slug>")
@login_required
@operation("getSite", summary="One site", tags=("sites",), responses={200: Site}, errors=(404,))
def show(slug: str) -> Response:
    with database().read() as session:
        return jsonify(get_site(session, slug).to_dict())


@bp.get("/<slug>/timeline")
@login_required
@operation(
    "siteTimeline",
    summary="The site's captures by date, with objects counted per label",
    description="Counted: annotations not deleted whose status is among `status`.",
    tags=("sites",),
    query=TimelineQuery,
    responses={200: Timeline},
    errors=(404, 422),
)
def timeline(slug: str, query: TimelineQuery) -> Response:
    statuses = parse_statuses(query.status)
    names = {label.id: label.name for label in services.taxonomy()}
    with database().read() as session:
        return jsonify(site_timeline(session, slug, statuses).to_dict(names))


@bp.post("")
@role_required(Role.analyst)
@operation(
    "createSite",
    summary="Add a site (analyst)",
    description="Every catalogued image whose footprint meets the area is attached to it.",
    tags=("sites",),
    body=SiteInput,
    responses={201: Site},
    errors=(409,),
    security="write",
    extra={"responses": {201: LOCATION}},
)
def create(body: SiteInput) -> tuple[Response, int, dict[str, str]]:
    if body.area is not None:
        area = area_polygon(body.area)
    else:
        # the model has made sure both are given
        area = geodesic_circle(body.lon or 0.0, body.lat or 0.0, body.radius_m or DEFAULT_RADIUS_M)
    user = current_user()
    with database().write() as session:
        site = add_site(
            session, body.name, area, slug=body.slug, created_by=user.name if user else None
        )
        payload = site.to_dict()
    location = url_for("sites.show", slug=payload["slug"])
    return jsonify(payload), 201, {"Location": location}


@bp.patch("/<slug>")
@role_required(Role.analyst)
@operation(
    "changeSite",
    summary="Change a site's name, slug or area (analyst)",
    description="A new area re-places the images by footprint: images attached because their "
    "footprint met the old area leave the site when it no longer meets the new one, and images "
    "meeting the new area join it; images attached by hand on import stay. Annotations, events "
    "and reports are not changed. Recorded in the site's history.",
    tags=("sites",),
    body=SiteEdit,
    responses={200: SiteEdited},
    errors=(404, 409),
    security="write",
)
def change(slug: str, body: SiteEdit) -> Response:
    with database().write() as session:
        site = get_site(session, slug)
        area: shapely.Polygon | shapely.MultiPolygon | None = None
        if body.area is not None:
            area = area_polygon(body.area)
        elif body.lon is not None and body.lat is not None:
            area = geodesic_circle(body.lon, body.lat, body.radius_m or DEFAULT_RADIUS_M)
        elif body.radius_m is not None:
            centre = site.area.centroid
            area = geodesic_circle(centre.x, centre.y, body.radius_m)
        placement = edit_site(
            session,
            site,
            actor().name,
            name=body.name,
            slug=body.slug,
            area=area,
            comment=body.comment,
        )
        payload = site.to_dict()
    return jsonify(payload | {"images_added": placement.added, "images_removed": placement.removed})


@bp.get("/<slug>/history")
@login_required
@operation(
    "siteHistory",
    summary="Every change to the site",
    tags=("sites",),
    responses={200: SiteChanges},
    errors=(404,),
)
def history(slug: str) -> Response:
    with database().read() as session:
        site = get_site(session, slug)
        found = changes_of(session, "site", [site.id])
        return jsonify({"site": site.slug, "changes": [c.to_dict() for c in found]})
