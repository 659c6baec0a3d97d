"""Sites in the browser: `/sites/new` and `/sites/<slug>/edit` (analysts and up).

A plain form posted with the session's CSRF token: the name, the slug, and the area, either a
circle (centre and radius, the centre placed by a click on the map or typed) or a polygon drawn
on the map (its GeoJSON in a field that can also be pasted into). It goes through the same
domain functions and checks as `POST /api/v1/sites` and `PATCH /api/v1/sites/<slug>`. The map
shows the catalogued captures (their tiles and outlines) and the other sites, so the area is
placed against the imagery even without a basemap.
"""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from annotations.catalogue.geo import area_polygon, geodesic_circle
from annotations.catalogue.images import list_images
from annotations.catalogue.sites import add_site, edit_site, get_site, list_sites
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError, InvalidInput
from annotator.auth import actor, role_required
from annotator.services import database
from imagery.tiles import tileset_info

bp = Blueprint("site_forms", __name__)

#: the most captures shown on the form's map (the newest)
SHOWN_IMAGES = 40
DEFAULT_RADIUS_M = 3000


@bp.route("/sites/new", methods=["GET", "POST"])
@role_required(Role.analyst)
def create() -> Any:
    values = _values() if request.method == "POST" else _blank()
    error = None
    if request.method == "POST":
        try:
            area = _area(values)
            if area is None:
                raise InvalidInput("place the site: a centre and a radius, or a drawn area")
            with database().write() as session:
                site = add_site(
                    session, values["name"], area, slug=values["slug"] or None, created_by=_who()
                )
                slug = site.slug
            return redirect(url_for("timeline.site", slug=slug))
        except AnnotationError as exc:
            error = exc.message
    return _page(None, values, error)


@bp.route("/sites/<slug>/edit", methods=["GET", "POST"])
@role_required(Role.analyst)
def edit(slug: str) -> Any:
    with database().read() as session:
        site = get_site(session, slug)
        values = _blank() | {
            "name": site.name,
            "slug": site.slug,
            "shape": "area",
            "area": site.area_geojson,
        }
    error = None
    if request.method == "POST":
        values = _values()
        try:
            area = _area(values)
            with database().write() as session:
                found = get_site(session, slug)
                edit_site(
                    session,
                    found,
                    _who(),
                    name=values["name"],
                    slug=values["slug"] or None,
                    area=area,
                    comment=values["comment"] or None,
                )
                slug = found.slug
            return redirect(url_for("timeline.site", slug=slug))
        except AnnotationError as exc:
            error = exc.message
    return _page(slug, values, error)


def _who() -> str:
    return actor().name


def _blank() -> dict[str, str]:
    return {
        "name": "",
        "slug": "",
        "shape": "circle",
        "lon": "",
        "lat": "",
        "radius_m": str(DEFAULT_RADIUS_M),
        "area": "",
        "comment": "",
    }


def _values() -> dict[str, str]:
    form = request.form
    values = {name: form.get(name, "").strip() for name in _blank()}
    values["shape"] = "area" if values["shape"] == "area" else "circle"
    return values


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"the {what} must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise InvalidInput(f"the {what} must be a finite number")
    return value


def _area(values: dict[str, str]) -> shapely.Polygon | shapely.MultiPolygon | None:
    """The area the form gives: a circle or a drawn polygon (None: nothing given)."""
    if values["shape"] == "area":
        if not values["area"]:
            return None
        try:
            data = json.loads(values["area"])
        except ValueError:
            raise InvalidInput("the area is not GeoJSON; draw it on the map") from None
        return area_polygon(data)
    if not values["lon"] and not values["lat"]:
        return None
    return geodesic_circle(
        _number(values["lon"], "longitude"),
        _number(values["lat"], "latitude"),
        _number(values["radius_m"] or str(DEFAULT_RADIUS_M), "radius"),
    )


def _map_data(slug: str | None) -> dict[str, Any]:
    """What the form's map shows: the captures (tiles, outline) and the other sites' areas."""
    images_dir = current_app.config["IMAGES_DIR"]
    with database().read() as session:
        images = list_images(session)[-SHOWN_IMAGES:]
        captures = []
        for image in images:
            info = tileset_info(str(images_dir / image.cog_name))
            tiles = url_for("tiles.tile", image_id=image.id, z="ZZ", x="XX", y="YY", fmt="png")
            captures.append(
                {
                    "name": image.original_filename,
                    "day": image.captured_at.date().isoformat() if image.captured_at else "",
                    "footprint": image.to_dict()["footprint"],
                    "tiles": tiles.replace("ZZ/XX/YY", "{z}/{x}/{y}"),
                    "bounds": list(info.bounds),
                    "maxzoom": info.maxzoom,
                }
            )
        others = [
            {"name": site.name, "area": json.loads(site.area_geojson)}
            for site in list_sites(session)
            if site.slug != slug
        ]
    basemap = None
    if current_app.config["BASEMAP_URL"]:
        basemap = {
            "url": current_app.config["BASEMAP_URL"],
            "attribution": current_app.config["BASEMAP_ATTRIBUTION"] or "",
        }
    return {"captures": captures, "sites": others, "basemap": basemap}


def _page(slug: str | None, values: dict[str, str], error: str | None) -> Any:
    status = 422 if error else 200
    return render_template(
        "site_form.html",
        slug=slug,
        values=values,
        error=error,
        map_data=_map_data(slug),
    ), status
