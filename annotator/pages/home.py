"""Pages for people: the site list with its captures, and the image viewer."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, render_template, request

from annotations.catalogue.images import get_image, list_images
from annotations.catalogue.sites import list_sites
from annotations.catalogue.users import Role
from annotator.auth import current_user, login_required
from annotator.services import database
from imagery.display import Display
from imagery.tiles import TileSource, thumbnail, tileset_info

bp = Blueprint("pages", __name__)


@bp.get("/")
@login_required
def home() -> str:
    with database().read() as session:
        sites = [(site, [image.to_dict() for image in site.images]) for site in list_sites(session)]
        loose = [image.to_dict() for image in list_images(session) if not image.sites]
        return render_template("home.html", sites=sites, loose=loose)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon, for pages that name none (a published map, an API client's browser): the
    same SVG the pages link to, so no page logs a 404 for it."""
    response = current_app.send_static_file("favicon.svg")
    response.mimetype = "image/svg+xml"
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response


@bp.get("/images/<image_id>")
@login_required
def image(image_id: str) -> str:
    with database().read() as session:
        record = get_image(session, image_id)
        info = tileset_info(str(current_app.config["IMAGES_DIR"] / record.cog_name))
        user = current_user()
        basemap = None
        if current_app.config["BASEMAP_URL"]:
            basemap = {
                "url": current_app.config["BASEMAP_URL"],
                "attribution": current_app.config["BASEMAP_ATTRIBUTION"] or "",
            }
        return render_template(
            "image.html",
            image=record.to_dict(),
            tiles=info,
            basemap=basemap,
            can_edit=user is not None and user.role >= Role.analyst,
        )


@bp.get("/images/<image_id>/thumbnail.png")
@login_required
def image_thumbnail(image_id: str) -> Response:
    with database().read() as session:
        record = get_image(session, image_id)
        path = str(current_app.config["IMAGES_DIR"] / record.cog_name)
        source = TileSource(path, Display.from_dict(record.display))
        etag = hashlib.sha256(f"{record.sha256}|{source.display.key()}|thumb".encode()).hexdigest()
    if request.if_none_match.contains(etag[:32]):
        response = Response(status=304)
    else:
        response = Response(thumbnail(source), mimetype="image/png")
    response.set_etag(etag[:32])
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
