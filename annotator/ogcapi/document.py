"""The conformance classes of /ogcapi and its OpenAPI 3.0 definition (OGC asks for 3.0;
the REST API's /api/v1/openapi.json is 3.1, so this one is its own, small and by hand,
with the REST API's security schemes)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from annotations.annotation import STATUSES
from annotations.feature import CONFIDENCES
from annotations.ogc.items import DEFAULT_LIMIT, FILTERS, MAX_LIMIT
from annotator.api.openapi_hand import security_schemes
from annotator.urls import external_url

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


PARAMETERS: dict[str, Any] = {
    "f": _query(
        "f",
        "The representation: json (the default) or html.",
        {"type": "string", "enum": ["json", "html"]},
    ),
    "bbox": _query(
        "bbox",
        "west,south,east,north (4 numbers, or 6 with heights), in bbox-crs (CRS84 unless given).",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    ),
    "bbox-crs": _query(
        "bbox-crs",
        "The CRS of bbox, as a URI the collection offers.",
        {"type": "string", "format": "uri"},
    ),
    "crs": _query(
        "crs",
        "The CRS of the answer's geometries, as a URI the collection offers.",
        {"type": "string", "format": "uri"},
    ),
    "datetime": _query(
        "datetime",
        "Observation time: an instant, or an interval start/end; '..' leaves a side open. "
        "A bare date stands for its whole day (UTC).",
        {"type": "string"},
    ),
    "limit": _query(
        "limit",
        f"Features per page; over {MAX_LIMIT} is clamped to {MAX_LIMIT} and the answer says "
        "so in its OGC-Limit-Clamped header.",
        {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
    ),
    "cursor": _query(
        "cursor", "Where the next page starts (from a next link).", {"type": "string"}
    ),
    "label": _query("label", "A label id: it and every label below it.", {"type": "string"}),
    "status": _query(
        "status",
        "One or more statuses, comma-separated.",
        {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}},
    ),
    "confidence": _query(
        "confidence",
        "One or more confidence levels, comma-separated (equality; for 'at least probable' "
        "ask confidence=probable,confirmed).",
        {"type": "array", "items": {"type": "string", "enum": list(CONFIDENCES)}},
    ),
    "collectionId": {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "description": "annotations, site-<slug> or report-<id>.",
        "schema": {"type": "string"},
    },
    "featureId": {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    },
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _answer(description: str, *kinds: str) -> dict[str, Any]:
    content = {kind: {"schema": {"type": "object"}} for kind in kinds}
    return {"description": description, "content": content}


def _get(operation: str, summary: str, parameters: list[str], ok: dict[str, Any]) -> Any:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "tags": ["OGC API - Features"],
            "parameters": [_ref("parameters", name) for name in ["f", *parameters]],
            "responses": {
                "200": ok,
                "400": _ref("responses", "Error"),
                "401": _ref("responses", "Error"),
                "404": _ref("responses", "Error"),
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    both = ("application/json", "text/html")
    features = ("application/geo+json", "text/html")
    items = list(FILTERS)
    cookie = str(current_app.config.get("SESSION_COOKIE_NAME", "session"))
    schemes = security_schemes(cookie)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "annotator: OGC API - Features",
            "version": "1.0.0",
            "description": "The annotations as features: all, per site and per report.",
        },
        "servers": [{"url": external_url("ogcapi.landing").rstrip("/")}],
        "security": [{"bearerToken": []}, {"sessionCookie": []}],
        "paths": {
            "/": _get("getLandingPage", "Landing page", [], _answer("The landing page", *both)),
            "/conformance": _get(
                "getConformance", "Conformance classes", [], _answer("The classes", *both)
            ),
            "/api": _get(
                "getApi",
                "This definition",
                [],
                _answer("OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0"),
            ),
            "/collections": _get(
                "getCollections", "The collections", [], _answer("The collections", *both)
            ),
            "/collections/{collectionId}": _get(
                "describeCollection",
                "One collection",
                ["collectionId"],
                _answer("The collection", *both),
            ),
            "/collections/{collectionId}/items": _get(
                "getFeatures",
                "A page of features",
                ["collectionId", *items],
                _answer("A FeatureCollection", *features),
            ),
            "/collections/{collectionId}/items/{featureId}": _get(
                "getFeature",
                "One feature",
                ["collectionId", "featureId", "crs"],
                _answer("A Feature", *features),
            ),
        },
        "components": {
            "parameters": PARAMETERS,
            "responses": {
                "Error": {
                    "description": "An error: our envelope and OGC's exception in one.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["code", "description"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "description": {"type": "string"},
                                    "error": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
            "securitySchemes": {k: schemes[k] for k in ("bearerToken", "sessionCookie")},
        },
    }
