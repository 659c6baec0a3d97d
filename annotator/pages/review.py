"""Review: the editor's queue of annotations in review (the API is in annotations_api), and
the image chip of each annotation that a queue row shows."""

from __future__ import annotations

import hashlib
import math
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request, url_for
from sqlalchemy import select

from annotations import annotation as store
from annotations.annotation import Annotation
from annotations.catalogue.images import Image, get_image
from annotations.catalogue.users import Role
from annotations.labels.model import Reference
from annotations.review import MAX_BATCH
from annotations.search import Filters, search
from annotator import services
from annotator.auth import current_user, login_required
from annotator.language.words import size_words
from annotator.services import database
from imagery.crop import read_crop
from imagery.display import Display

bp = Blueprint("review", __name__)
QUEUE_LIMIT = 500
#: a chip's side in pixels (shown at half that, so it is sharp on a high-density screen)
CHIP_PX = 128
#: the object fills about this share of the chip's side; the rest is its surroundings
CHIP_FILL = 0.6
#: the smallest ground a chip covers, in metres, so a point or a car still shows its context
CHIP_MIN_M = 40.0
EARTH_RADIUS_M = 6378137.0  # Web Mercator's sphere


@bp.get("/review")
@login_required
def queue() -> str:
    """Annotations in review, oldest first; the controls only for editors."""
    user = current_user()
    can_review = user is not None and user.can(Role.editor)
    filters = Filters(
        site=request.args.get("site") or None,
        label=request.args.get("label") or None,
        status=("in_review",),
        limit=QUEUE_LIMIT,
    )
    taxonomy = services.taxonomy()
    with database().read() as session:
        annotations, more = search(session, filters)
        image_ids = {a.image_id for a in annotations}
        images = {
            image.id: image
            for image in session.scalars(select(Image).where(Image.id.in_(image_ids)))
        }
        links = Links()
        rows = [_row(a, images[a.image_id], taxonomy, links) for a in annotations]
    return render_template(
        "review.html",
        rows=rows,
        more=bool(more),
        can_review=can_review,
        filters=filters,
        max_batch=MAX_BATCH,
        chip_px=CHIP_PX,
    )


@bp.get("/annotations/<annotation_id>/chip.png")
@login_required
def chip(annotation_id: str) -> Response:
    """The annotation's object and its surroundings, north up, as a small square PNG."""
    with database().read() as session:
        annotation = store.get(session, annotation_id)
        image = get_image(session, annotation.image_id)
        display = Display.from_dict(image.display)
        path = current_app.config["IMAGES_DIR"] / image.cog_name
        key = f"{annotation.id}|{annotation.version}|{image.sha256}|{display.key()}|{CHIP_PX}"
        bounds = chip_bounds(annotation.bbox)
    etag = hashlib.sha256(key.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        crop = read_crop(path, bounds, "EPSG:3857", CHIP_PX, CHIP_PX, display=display)
        response = Response(crop.png(), mimetype="image/png")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator metres of a WGS 84 point (the spherical formula EPSG:3857 defines)."""
    lat = max(min(lat, 85.05), -85.05)
    x = EARTH_RADIUS_M * math.radians(lon)
    y = EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def chip_bounds(bbox: list[float]) -> tuple[float, float, float, float]:
    """The square (left, bottom, right, top) in Web Mercator that a chip of `bbox` covers:
    the object centred, filling CHIP_FILL of the side, and at least CHIP_MIN_M of ground."""
    west, south, east, north = bbox
    left, bottom = mercator(west, south)
    right, top = mercator(east, north)
    # Mercator metres are 1/cos(lat) ground metres
    stretch = 1 / max(math.cos(math.radians((south + north) / 2)), 1e-6)
    side = max(right - left, top - bottom) / CHIP_FILL
    side = max(side, CHIP_MIN_M * stretch)
    x, y = (left + right) / 2, (bottom + top) / 2
    return x - side / 2, y - side / 2, x + side / 2, y + side / 2


def outline(geometry: dict[str, Any], bbox: list[float]) -> dict[str, Any] | None:
    """The shape in the chip's pixels, for an SVG drawn over it: {"kind": "polygon" |
    "polyline" | "point", "points": "x,y x,y ..."}, or None for a kind it does not draw."""
    left, _, right, top = chip_bounds(bbox)
    scale = CHIP_PX / (right - left)

    def pixels(coordinates: list[list[float]]) -> str:
        spots = []
        for lon, lat, *_ in coordinates:
            x, y = mercator(lon, lat)
            spots.append(f"{(x - left) * scale:.1f},{(top - y) * scale:.1f}")
        return " ".join(spots)

    kind = geometry.get("type")
    if kind == "Polygon":
        return {"kind": "polygon", "points": pixels(geometry["coordinates"][0])}
    if kind == "LineString":
        return {"kind": "polyline", "points": pixels(geometry["coordinates"])}
    if kind == "Point":
        return {"kind": "point", "points": pixels([geometry["coordinates"]])}
    return None


class Links:
    """A row's links, built once per page from url_for's answer for stand-in ids: 500 rows
    times five url_for calls took about half of the queue's server time."""

    STAND_IN = {"image": "IMAGE-ID", "annotation": "ANNOTATION-ID", "slug": "SITE-SLUG"}

    def __init__(self) -> None:
        ids = self.STAND_IN
        self.patterns = {
            "workspace": url_for(
                "pages.image", image_id=ids["image"], annotation=ids["annotation"]
            ),
            "image": url_for("pages.image", image_id=ids["image"]),
            "chip": url_for("review.chip", annotation_id=ids["annotation"]),
            "site": url_for("timeline.site", slug=ids["slug"]),
            "compare": url_for("compare.compare", left=ids["image"]),
        }

    def __call__(self, name: str, **values: str) -> str:
        url = self.patterns[name]
        for key, value in values.items():
            url = url.replace(self.STAND_IN[key], quote(value, safe=""))
        return url


def _row(annotation: Annotation, image: Image, taxonomy: Any, links: Links) -> dict[str, Any]:
    label = taxonomy.get(annotation.label)
    feature = annotation.to_feature(label_name=label.name)
    ids = {"image": annotation.image_id, "annotation": annotation.id}
    sites = [site.slug for site in image.sites]
    return {
        "links": {
            "workspace": links("workspace", **ids),
            "image": links("image", image=annotation.image_id),
            "chip": links("chip", annotation=annotation.id),
            "compare": links("compare", image=annotation.image_id),
            "sites": [(slug, links("site", slug=slug)) for slug in sites],
        },
        "feature": feature,
        "size": size(feature["properties"].get("measurements") or {}, label.reference),
        "colour": label.colour,
        "image": image,
        "outline": outline(feature["geometry"], annotation.bbox),
    }


BY = " \N{MULTIPLICATION SIGN} "


def size(measurements: dict[str, Any], reference: Reference | None) -> str:
    """The size a row shows, in the workspace's words: "length by span" for a type with a
    reference size (sides in that type's order), "sides" (longer first) for other areas,
    a line's length, or nothing for a point."""
    first, second = measurements.get("length_m"), measurements.get("width_m")
    if first is not None and second is not None:
        if reference is not None:
            length, span = reference.orient(first, second)
            return size_words("length_span", f"{length:.1f}{BY}{span:.1f}")
        return size_words("sides", f"{max(first, second):.1f}{BY}{min(first, second):.1f}")
    if first is not None:
        return size_words("long", f"{first:.1f}")
    return ""
