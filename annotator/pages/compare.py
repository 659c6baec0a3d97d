"""The compare view: two captures side by side (pan and zoom in step) or under a swipe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from annotations.catalogue.images import Image, get_image
from annotations.catalogue.users import Role
from annotations.timeline import pair_for
from annotator import services
from annotator.auth import current_user, login_required
from annotator.errors import RequestError
from annotator.services import database
from imagery.tiles import tileset_info

bp = Blueprint("compare", __name__)
MODES = ("swipe", "side")


def _side(image: Image) -> dict[str, Any]:
    info = tileset_info(str(current_app.config["IMAGES_DIR"] / image.cog_name))
    return {
        "id": image.id,
        "captured_at": image.to_dict()["captured_at"],
        "provider": image.provider,
        "gsd_m": image.gsd_m,
        "synthetic": image.synthetic,
        "attribution": image.attribution,
        "licence": image.licence,
        "sites": [site.slug for site in image.sites],
        "tiles": url_for(
            "tiles.tile", image_id=image.id, z="ZZ", x="XX", y="YY", fmt="png"
        ).replace("ZZ/XX/YY", "{z}/{x}/{y}"),
        "bounds": list(info.bounds),
        "minzoom": info.minzoom,
        "maxzoom": info.maxzoom,
        "page": url_for("pages.image", image_id=image.id),
    }


@bp.get("/compare")
@login_required
def compare() -> str:
    left_id = request.args.get("left", "").strip()
    right_id = request.args.get("right", "").strip()
    mode = request.args.get("mode", "swipe")
    if mode not in MODES:
        raise RequestError(f"mode must be one of {', '.join(MODES)}", status=400)
    if not left_id and not right_id:
        raise RequestError("pick two captures: /compare?left=<image id>&right=<image id>")
    with database().read() as session:
        if left_id and right_id:
            left, right = get_image(session, left_id), get_image(session, right_id)
        else:
            left, right = pair_for(session, left_id or right_id)
        sides = {"left": _side(left), "right": _side(right)}
    user = current_user()
    taxonomy = services.taxonomy()
    return render_template(
        "compare.html",
        mode=mode,
        sides=sides,
        colours={label.id: label.colour for label in taxonomy},
        can_copy=user is not None and user.can(Role.analyst),
    )
