"""WMTS capabilities for QGIS and GDAL: a site's captures (or every capture) as layers in
GoogleMapsCompatible (EPSG:3857), each with a ResourceURL template to the XYZ tiles.

`/wmts/1.0.0/WMTSCapabilities.xml[?site=slug]`. Called with `?key=`, the templates carry the
key, so a client that was given one URL can fetch every tile. The XML is built with
xml.etree, never by pasting strings: image titles and site names are anyone's text.
"""

from __future__ import annotations

import functools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from annotations.catalogue.images import list_images
from annotations.catalogue.sites import get_site
from annotations.catalogue.tables import Image
from annotator.access import keys as read_keys
from annotator.auth import current_user
from annotator.services import database
from annotator.urls import external_url
from imagery.tiles import tileset_info

bp = Blueprint("wmts", __name__, url_prefix="/wmts")
WMTS = "http://www.opengis.net/wmts/1.0"
OWS = "http://www.opengis.net/ows/1.1"
XLINK = "http://www.w3.org/1999/xlink"
MATRIX_SET = "GoogleMapsCompatible"
#: the scale denominator of zoom 0 in GoogleMapsCompatible (256 px tiles, 0.28 mm pixels)
SCALE_0 = 559082264.0287178
HALF_WORLD = 20037508.342789244
MAX_ZOOM = 24
#: characters XML 1.0 cannot hold at all (escaping does not help): dropped from any text
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ET.register_namespace("", WMTS)
ET.register_namespace("ows", OWS)
ET.register_namespace("xlink", XLINK)


@dataclass(frozen=True)
class Capture:
    id: str
    title: str
    abstract: str
    bounds: tuple[float, float, float, float]
    minzoom: int
    maxzoom: int


@functools.lru_cache(maxsize=4096)
def _zooms(path: str) -> tuple[int, int]:
    """The zoom range the tiles serve (what TileJSON says), read once per stored file."""
    info = tileset_info(path)
    return max(0, info.minzoom), min(MAX_ZOOM, info.maxzoom)


def _capture(image: Image, images_dir: Path) -> Capture:
    minzoom, maxzoom = _zooms(str(images_dir / image.cog_name))
    day = image.captured_at.date().isoformat() if image.captured_at else "time unknown"
    sites = ", ".join(site.name for site in image.sites)
    return Capture(
        id=image.id,
        title=f"{image.original_filename} ({day})",
        abstract=f"Captured {day}" + (f"; sites: {sites}" if sites else ""),
        bounds=(image.min_lon, image.min_lat, image.max_lon, image.max_lat),
        minzoom=minzoom,
        maxzoom=max(minzoom, maxzoom),
    )


def _el(parent: ET.Element, namespace: str, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        child.text = NOT_XML.sub("", text)
    return child


def _tile_range(bounds: tuple[float, float, float, float], zoom: int) -> tuple[int, ...]:
    """(min row, max row, min col, max col) of the tiles that meet `bounds` at `zoom`."""
    west, south, east, north = bounds
    n = 2**zoom

    def column(lon: float) -> int:
        return min(n - 1, max(0, math.floor((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        lat = max(-85.0511287798, min(85.0511287798, lat))
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
        return min(n - 1, max(0, math.floor(y)))

    return row(north), row(south), column(west), column(east)


def _layer(contents: ET.Element, capture: Capture) -> None:
    layer = _el(contents, WMTS, "Layer")
    _el(layer, OWS, "Title", capture.title)
    _el(layer, OWS, "Abstract", capture.abstract)
    box = _el(layer, OWS, "WGS84BoundingBox")
    west, south, east, north = capture.bounds
    _el(box, OWS, "LowerCorner", f"{west!r} {south!r}")
    _el(box, OWS, "UpperCorner", f"{east!r} {north!r}")
    _el(layer, OWS, "Identifier", capture.id)
    style = _el(layer, WMTS, "Style")
    style.set("isDefault", "true")
    _el(style, OWS, "Identifier", "default")
    _el(layer, WMTS, "Format", "image/png")
    link = _el(layer, WMTS, "TileMatrixSetLink")
    _el(link, WMTS, "TileMatrixSet", MATRIX_SET)
    limits = _el(link, WMTS, "TileMatrixSetLimits")
    for zoom in range(capture.minzoom, capture.maxzoom + 1):
        min_row, max_row, min_col, max_col = _tile_range(capture.bounds, zoom)
        limit = _el(limits, WMTS, "TileMatrixLimits")
        _el(limit, WMTS, "TileMatrix", str(zoom))
        _el(limit, WMTS, "MinTileRow", str(min_row))
        _el(limit, WMTS, "MaxTileRow", str(max_row))
        _el(limit, WMTS, "MinTileCol", str(min_col))
        _el(limit, WMTS, "MaxTileCol", str(max_col))
    url = external_url("tiles.tile", image_id=capture.id, z="Z", x="X", y="Y", fmt="png")
    url = url.replace("/Z/X/Y.png", "/{TileMatrix}/{TileCol}/{TileRow}.png")
    resource = _el(layer, WMTS, "ResourceURL")
    resource.set("format", "image/png")
    resource.set("resourceType", "tile")
    resource.set("template", read_keys.with_key(url))


def _matrix_set(contents: ET.Element, top: int) -> None:
    matrix_set = _el(contents, WMTS, "TileMatrixSet")
    _el(matrix_set, OWS, "Identifier", MATRIX_SET)
    _el(matrix_set, OWS, "SupportedCRS", "urn:ogc:def:crs:EPSG::3857")
    _el(matrix_set, WMTS, "WellKnownScaleSet", "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible")
    for zoom in range(top + 1):
        matrix = _el(matrix_set, WMTS, "TileMatrix")
        _el(matrix, OWS, "Identifier", str(zoom))
        _el(matrix, WMTS, "ScaleDenominator", repr(SCALE_0 / 2**zoom))
        _el(matrix, WMTS, "TopLeftCorner", f"{-HALF_WORLD!r} {HALF_WORLD!r}")
        _el(matrix, WMTS, "TileWidth", "256")
        _el(matrix, WMTS, "TileHeight", "256")
        _el(matrix, WMTS, "MatrixWidth", str(2**zoom))
        _el(matrix, WMTS, "MatrixHeight", str(2**zoom))


def capabilities_xml(captures: list[Capture], title: str, self_url: str) -> bytes:
    root = ET.Element(f"{{{WMTS}}}Capabilities", {"version": "1.0.0"})
    service = _el(root, OWS, "ServiceIdentification")
    _el(service, OWS, "Title", title)
    _el(service, OWS, "ServiceType", "OGC WMTS")
    _el(service, OWS, "ServiceTypeVersion", "1.0.0")
    contents = _el(root, WMTS, "Contents")
    for capture in captures:
        _layer(contents, capture)
    _matrix_set(contents, max((c.maxzoom for c in captures), default=0))
    metadata = _el(root, WMTS, "ServiceMetadataURL")
    metadata.set(f"{{{XLINK}}}href", self_url)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _unauthorized() -> Response:
    response = jsonify(
        {
            "error": "unauthorized",
            "message": "sign in, send 'Authorization: Bearer <token>', or pass a read-only key "
            "as ?key= or as the password of HTTP Basic",
            "details": None,
        }
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="annotator", charset="UTF-8"'
    return response


@bp.get("/1.0.0/WMTSCapabilities.xml")
def capabilities() -> Response:
    """The captures of `?site=` (every capture without it) as WMTS layers."""
    if current_user() is None:
        return _unauthorized()
    slug = request.args.get("site")
    images_dir = Path(current_app.config["IMAGES_DIR"])
    with database().read() as session:
        if slug is None:
            images, title = list_images(session), "annotator: every capture"
        else:
            site = get_site(session, slug)  # 404 for an unknown site
            images = sorted(site.images, key=lambda i: (i.captured_at is None, i.captured_at))
            title = f"annotator: {site.name}"
        captures = [_capture(image, images_dir) for image in images]
    here = external_url("wmts.capabilities", **({"site": slug} if slug is not None else {}))
    body = capabilities_xml(captures, title, read_keys.with_key(here))
    response = Response(body, mimetype="application/xml")
    keyed = read_keys.url_key() is not None
    response.headers["Cache-Control"] = "private, no-store" if keyed else "private, no-cache"
    response.headers["Vary"] = "Cookie, Authorization"
    return response
