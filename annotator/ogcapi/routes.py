"""The routes of /ogcapi: landing page, conformance, OpenAPI, collections and items, each
as JSON (GeoJSON for features) or HTML (`f=html`, or a browser's Accept)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from annotations.errors import InvalidInput, NotFound
from annotations.ogc import items as ogc_items
from annotations.ogc.collections import Collection, collection, collections
from annotations.ogc.crs import CRS84
from annotator import services
from annotator.access.keys import without_key
from annotator.auth import current_user
from annotator.errors import RequestError
from annotator.ogcapi.document import CONFORMANCE, openapi_document
from annotator.ogcapi.links import collection_body, link, links_of
from annotator.services import database

bp = Blueprint("ogcapi", __name__, url_prefix="/ogcapi")
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
F = TypeVar("F", bound=Callable[..., Any])


def wants_html() -> bool:
    chosen = request.args.get("f")
    if chosen is not None:
        if chosen not in ("json", "html"):
            raise RequestError("f must be json or html", code="invalid")
        return chosen == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML and request.accept_mimetypes[HTML] > request.accept_mimetypes[JSON]


def signed_in(view: F) -> F:
    """The REST API's rule: a signed-in user (token, session, or a read key). A client is
    answered 401 in JSON; a browser is sent to sign in."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if wants_html():
                back = without_key(request.full_path.rstrip("?"))  # a key never rides along
                return redirect(url_for("auth.login", next=back))
            raise RequestError(
                "sign in, or send 'Authorization: Bearer <token>' (annotator tokens create)",
                status=401,
                code="unauthorized",
            )
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _json(body: Any, mimetype: str = JSON, status: int = 200) -> Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(data, status=status, mimetype=mimetype)


def _role() -> Any:
    user = current_user()
    if user is None:  # login_required stops anonymous requests first
        raise RequestError("sign in first", status=401, code="unauthorized")
    return user.role


@bp.errorhandler(InvalidInput)
@bp.errorhandler(NotFound)
@bp.errorhandler(RequestError)
def ogc_error(exc: Exception) -> BaseResponse:
    """Errors as our envelope and as OGC's exception (`code`, `description`) at once."""
    if isinstance(exc, RequestError):
        status, code, message = exc.status, exc.code, exc.message
    else:
        status = 404 if isinstance(exc, NotFound) else 400
        code, message = ("not_found" if status == 404 else "invalid"), str(exc)
    try:
        html = wants_html()
    except RequestError:
        html = False
    if html:
        page = render_template("error.html", status=status, code=code, message=message)
        return Response(page, status=status, mimetype=HTML)
    body = {
        "error": code,
        "message": message,
        "details": None,
        "code": code,
        "description": message,
    }
    return _json(body, status=status)


@bp.get("/")
@signed_in
def landing() -> BaseResponse:
    links = [
        link("ogcapi.landing", "self", JSON, "This document"),
        link("ogcapi.landing", "alternate", HTML, "This document as HTML", f="html"),
        link("ogcapi.api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
        link("ogcapi.api", "service-doc", HTML, "The API definition as HTML", f="html"),
        link("ogcapi.conformance", "conformance", JSON, "Conformance classes"),
        link("ogcapi.all_collections", "data", JSON, "The collections"),
    ]
    body = {
        "title": "annotator: OGC API - Features",
        "description": "Satellite-imagery annotations as features: all of them, per site "
        "and per report.",
        "links": links,
    }
    if wants_html():
        return _page("landing", body, title="OGC API - Features")
    return _json(body)


@bp.get("/conformance")
@signed_in
def conformance() -> BaseResponse:
    body = {"conformsTo": CONFORMANCE}
    if wants_html():
        return _page("conformance", body, title="Conformance")
    return _json(body)


@bp.get("/api")
@signed_in
def api() -> BaseResponse:
    document = openapi_document()
    if wants_html():
        return _page(
            "api",
            {"links": [link("ogcapi.api", "service-desc", OPENAPI, "OpenAPI 3.0", f="json")]},
            title="API definition",
        )
    return _json(document, OPENAPI)


@bp.get("/collections")
@signed_in
def all_collections() -> BaseResponse:
    with database().read() as session:
        found = collections(session, _role())
    body = {
        "links": [
            link("ogcapi.all_collections", "self", JSON, "The collections"),
            link("ogcapi.all_collections", "alternate", HTML, "As HTML", f="html"),
        ],
        "collections": [collection_body(one) for one in found],
        "crs": [CRS84],
    }
    if wants_html():
        return _page("collections", body, title="Collections")
    return _json(body)


def _collection(collection_id: str) -> Collection:
    with database().read() as session:
        return collection(session, collection_id, _role())


@bp.get("/collections/<collection_id>")
@signed_in
def one_collection(collection_id: str) -> BaseResponse:
    body = collection_body(_collection(collection_id))
    if wants_html():
        return _page("collection", body, title=body["title"])
    return _json(body)


def _label_names() -> dict[str, str]:
    return {label.id: label.name for label in services.taxonomy()}


@bp.get("/collections/<collection_id>/items")
@signed_in
def items(collection_id: str) -> BaseResponse:
    html = wants_html()
    found = _collection(collection_id)
    args = {name: request.args.get(name, "") for name in request.args}
    query = ogc_items.read_query(args, found.filters, found.crs)
    with database().read() as session:
        page = ogc_items.page(session, query, _label_names())
    links = links_of(found, query, page.cursor, html)
    if html:
        features = [orjson.loads(feature) for feature in page.features]
        body = {
            "title": found.title,
            "links": links,
            "features": features,
            "clamped": query.clamped,
            "limit": query.filters.limit,
        }
        response = _page("items", body, title=found.title)
    else:
        head = orjson.dumps(
            {
                "type": "FeatureCollection",
                "numberReturned": len(page.features),
                "timeStamp": _now(),
                "links": links,
            }
        )[:-1]
        response = Response(
            head + b',"features":[' + b",".join(page.features) + b"]}", mimetype=GEOJSON
        )
    response.headers["Content-Crs"] = f"<{query.crs}>"
    if query.clamped:
        response.headers["OGC-Limit-Clamped"] = (
            f"limit {query.asked_limit} is over the maximum; {query.filters.limit} given"
        )
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>")
@signed_in
def item(collection_id: str, feature_id: str) -> BaseResponse:
    html = wants_html()
    found = _collection(collection_id)
    args = {
        name: request.args.get(name, "") for name in request.args if name in ("crs", "f", "key")
    }
    query = ogc_items.read_query(args, found.filters, found.crs)
    with database().read() as session:
        feature = ogc_items.one(session, query, feature_id[:64], _label_names())
    if feature is None:
        raise NotFound(f"no feature {feature_id[:64]!r} in the collection {found.id!r}")
    self_links = [
        link(
            "ogcapi.item",
            "self",
            GEOJSON,
            "This feature",
            collection_id=found.id,
            feature_id=feature_id,
        ),
        link(
            "ogcapi.item",
            "alternate",
            HTML,
            "As HTML",
            collection_id=found.id,
            feature_id=feature_id,
            f="html",
        ),
        link("ogcapi.one_collection", "collection", JSON, found.title, collection_id=found.id),
    ]
    if html:
        body = {"title": found.title, "links": self_links, "features": [orjson.loads(feature)]}
        response = _page("item", body, title=f"Feature {feature_id[:64]}")
    else:
        parsed = orjson.loads(feature)
        parsed["links"] = self_links
        response = _json(parsed, GEOJSON)
    response.headers["Content-Crs"] = f"<{query.crs}>"
    return response


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page(kind: str, body: dict[str, Any], *, title: str) -> Response:
    text = render_template("ogcapi.html", kind=kind, body=body, title=title)
    return Response(text, mimetype=HTML)
