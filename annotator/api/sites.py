"""Sites API: list and create areas of interest."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from annotations.catalogue.geo import area_polygon, geodesic_circle
from annotations.catalogue.sites import add_site, get_site, list_sites
from annotations.catalogue.users import Role
from annotations.timeline import parse_statuses, site_timeline
from annotator import services
from annotator.auth import current_user, login_required, role_required
from annotator.errors import RequestError
from annotator.forms import json_body, number_field, text_field
from annotator.services import database

bp = Blueprint("sites", __name__, url_prefix="/api/v1/sites")
DEFAULT_RADIUS_M = 3000.0


@bp.get("")
@login_required
def index() -> Response:
    with database().read() as session:
        return jsonify({"sites": [site.to_dict() for site in list_sites(session)]})


@bp.get("/<slug>")
@login_required
def show(slug: str) -> Response:
    with database().read() as session:
        return jsonify(get_site(session, slug).to_dict())


@bp.get("/<slug>/timeline")
@login_required
def timeline(slug: str) -> Response:
    statuses = parse_statuses(request.args.get("status"))
    names = {label.id: label.name for label in services.taxonomy()}
    with database().read() as session:
        return jsonify(site_timeline(session, slug, statuses).to_dict(names))


@bp.post("")
@role_required(Role.analyst)
def create() -> tuple[Response, int, dict[str, str]]:
    data = json_body()
    name = text_field(data, "name", required=True) or ""
    if data.get("area") is not None:
        area = area_polygon(data["area"])
    else:
        lon = number_field(data, "lon")
        lat = number_field(data, "lat")
        if lon is None or lat is None:
            raise RequestError(
                "give either 'area' (a GeoJSON polygon) or 'lon' and 'lat' (and 'radius_m')",
                status=422,
                code="invalid",
            )
        radius = number_field(data, "radius_m") or DEFAULT_RADIUS_M
        area = geodesic_circle(lon, lat, radius)
    user = current_user()
    with database().write() as session:
        site = add_site(
            session,
            name,
            area,
            slug=text_field(data, "slug"),
            created_by=user.name if user else None,
        )
        body = site.to_dict()
    location = url_for("sites.show", slug=body["slug"])
    return jsonify(body), 201, {"Location": location}
