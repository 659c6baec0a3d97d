"""XYZ tiles and TileJSON for catalogued images."""

from __future__ import annotations

import hashlib
import html
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from annotations.catalogue.images import get_image
from annotator import metrics
from annotator.access import keys as read_keys
from annotator.api.contract import operation
from annotator.api.models.tiles import TileJSON, tile_path_parameters
from annotator.api.openapi_hand import READ_KEY_SECURITY
from annotator.api.tilecache import ImageLookup, TileBytesCache, TiledImage
from annotator.auth import refuse_anonymous, signed_in_quickly
from annotator.errors import RequestError
from annotator.services import database, renderer
from annotator.urls import external_url
from imagery.display import Display
from imagery.tiles import MEDIA_TYPES, RENDER_VERSION, TileSource, check_address, tileset_info

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
CACHE_CONTROL = "private, max-age=86400"


def _lookup(image_id: str) -> TiledImage:
    lookup: ImageLookup = current_app.extensions["annotator.image_lookup"]
    item = lookup.get(image_id)
    if item is None:
        with database().read() as session:
            image = get_image(session, image_id)
            path = current_app.config["IMAGES_DIR"] / image.cog_name
            item = TiledImage(
                image_id=image.id,
                sha256=image.sha256,
                source=TileSource(str(path), Display.from_dict(image.display)),
                name=image.original_filename,
                attribution=image.attribution,
            )
        lookup.put(item)
    return item


def _integer(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 10:
        raise RequestError(f"{name} must be a non-negative whole number, not {value!r}")
    return int(value)


@bp.before_request
def _signed_in() -> Any:
    if not signed_in_quickly():
        return refuse_anonymous()
    return None


@bp.get("/<image_id>/<z>/<x>/<y>.<fmt>")
@operation(
    "getTile",
    summary="An XYZ WebMercator 256 px tile",
    tags=("tiles",),
    responses={
        200: {
            "description": "The tile; transparent where there is no data (PNG, WebP).",
            "headers": {
                "ETag": {"schema": {"type": "string"}},
                "Cache-Control": {"$ref": "#/components/headers/CacheControl"},
            },
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
        304: "Your copy (If-None-Match) is current.",
    },
    errors=(400, 404),
    extra={
        "parameters": [
            *tile_path_parameters(),
            {"$ref": "#/components/parameters/IfNoneMatch"},
        ],
        "security": READ_KEY_SECURITY,
    },
)
def tile(image_id: str, z: str, x: str, y: str, fmt: str) -> Response:
    zi, xi, yi = _integer(z, "z"), _integer(x, "x"), _integer(y, "y")
    if fmt not in MEDIA_TYPES:
        raise RequestError(f"unknown tile format {fmt!r}; use png, jpg or webp")
    check_address(zi, xi, yi)
    item = _lookup(image_id)
    key = f"{item.sha256}|{item.source.display.key()}|{zi}/{xi}/{yi}.{fmt}|{RENDER_VERSION}"
    etag = hashlib.sha256(key.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        metrics.TILES.labels("not_modified").inc()
        response = Response(status=304)
    else:
        cache: TileBytesCache = current_app.extensions["annotator.tile_cache"]
        body = cache.get(key)
        if body is None:
            with metrics.TILE_RENDER_SECONDS.time():
                body = renderer().tile(item.source, zi, xi, yi, fmt)
            metrics.TILES.labels("rendered").inc()
            cache.put(key, body)
        else:
            metrics.TILES.labels("cache").inc()
        response = Response(body, mimetype=MEDIA_TYPES[fmt])
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Vary"] = "Cookie, Authorization"
    return response


@bp.get("/<image_id>/tilejson.json")
@operation(
    "getTileJSON",
    summary="TileJSON 3.0.0 for an image",
    tags=("tiles",),
    responses={200: TileJSON},
    errors=(404,),
    extra={"security": READ_KEY_SECURITY},
)
def tilejson(image_id: str) -> Response:
    item = _lookup(image_id)
    info = tileset_info(item.source.path)
    west, south, east, north = info.bounds
    # on the public URL or an allowed host, never on whatever Host the client sent
    template = external_url("tiles.tile", image_id=item.image_id, z="Z", x="X", y="Y", fmt="png")
    template = template.replace("/Z/X/Y.png", "/{z}/{x}/{y}.png")
    template = read_keys.with_key(template)  # called with ?key=: the tiles take it too
    center_zoom = max(info.minzoom, min(info.maxzoom, (info.minzoom + info.maxzoom) // 2))
    body: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": item.name,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": info.minzoom,
        "maxzoom": info.maxzoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, center_zoom],
        "attribution": html.escape(item.attribution or ""),
    }
    response = jsonify(body)
    keyed = read_keys.url_key() is not None  # the body holds a key: no cache keeps it
    response.headers["Cache-Control"] = "private, no-store" if keyed else CACHE_CONTROL
    return response


def init_app(app: Flask) -> None:
    app.extensions["annotator.image_lookup"] = ImageLookup()
    app.extensions["annotator.tile_cache"] = TileBytesCache(
        int(app.config["TILE_CACHE_MB"]) * 1024 * 1024
    )
    app.register_blueprint(bp)
