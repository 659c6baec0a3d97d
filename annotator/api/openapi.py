"""The API described as OpenAPI 3.1, built from the constants the validators themselves use.

`GET /api/v1/openapi.json` is generated on each request from the label taxonomy the app
loaded and from the module constants that `parse_feature`, `parse_geometry`, `search` and
the error table check against, so adding a label, an attribute, a shape or a status changes
the document with no edit here. `GET /api/v1/docs` shows it in a vendored Swagger UI.
tests/annotator/test_openapi.py checks the document against the app's routes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from http import HTTPStatus
from importlib import metadata
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from annotations import annotation as annotation_rules
from annotations import geometry as geometry_rules
from annotations import history as history_rules
from annotations import review as review_rules
from annotations import search as search_rules
from annotations import timeline as timeline_rules
from annotations.catalogue.images import TEXT_LIMIT
from annotations.catalogue.users import Role
from annotations.exchange import FORMATS
from annotations.labels import identify as identify_rules
from annotations.labels.taxonomy import ATTRIBUTE_TYPES, AttributeSpec, Taxonomy
from annotations.measure import Measurements
from annotator import services
from annotator.api.sites import DEFAULT_RADIUS_M
from annotator.auth import current_user, login_required
from annotator.errors import STATUS_TABLE
from imagery.chips import MAX_CHIP, MIN_CHIP
from imagery.tiles import MEDIA_TYPES

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

OPENAPI_VERSION = "3.1.0"
CSRF_HEADER = "X-CSRF-Token"  # what annotator.auth.check_csrf reads
COUNT_MAX = 100_000  # properties.count, as parse_feature checks it
COMMENT_MAX = 2000  # 'comment' of an edit, as annotations_api._comment checks it
SITE_NAME_MAX = 200  # as annotations.catalogue.sites.add_site checks it
QUADRILATERAL_SHAPES = ("box", "rotated-box")  # 4 corners, 5 positions, as parse_feature checks
ID_PATTERN = "^[0-9a-f]{32}$"
SITE_EXAMPLE = {"name": "Hmeimim air base", "lon": 35.948, "lat": 35.405, "radius_m": 3000}

#: error codes the web layer uses besides STATUS_TABLE's (RequestError, werkzeug)
WEB_ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request", "malformed_json", "csrf_failed", "bad_host", "export_cancelled"),
    401: ("unauthorized",),
    403: ("forbidden",),
    413: (
        "request_entity_too_large",
        "too_large",
        "too_many_chips",
        "export_chips",
        "export_bytes",
        "export_seconds",
    ),
    415: ("unsupported_media_type",),
    422: ("invalid",),
    503: ("busy",),
}
ERROR_MEANINGS: dict[int, str] = {
    400: "The request is malformed: not the shape asked for, bad JSON, a bad tile address, "
    f"or a browser write without the session's `{CSRF_HEADER}` header.",
    401: "Not signed in: sign in through /login (session cookie) or send "
    "`Authorization: Bearer <token>` (`annotator tokens create USER`).",
    403: "Signed in, but the role or ownership does not allow this.",
    404: "No such site, image, annotation or tile.",
    409: "A unique name (a site slug) is taken, something is linked already, or (publishing) "
    "linked evidence is not approved: `details.annotations` lists each item.",
    412: "`If-Match` names an older version; `details.current` holds the current annotation.",
    413: "The upload or the image is larger than the configured limit.",
    415: "The body is not of the media type asked for (JSON, or a GeoTIFF in an upload).",
    422: "Well-formed, but the content is wrong; `message` says what and how to fix it.",
    428: "A write without `If-Match`: send the annotation's current ETag.",
    503: "Busy: every figure-drawing slot of the server process is taken; try again after "
    "`Retry-After` seconds.",
}


def openapi_path(rule: str) -> str:
    """A werkzeug rule (`/tiles/<image_id>/<z>.<fmt>`) as an OpenAPI path template."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


# --- the views ----------------------------------------------------------------------------------


def page_login_required(view: F) -> F:
    """Like login_required, but a person who is not signed in is sent to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/openapi.json")
@login_required
def spec() -> BaseResponse:
    document = build(
        services.taxonomy(),
        cookie_name=str(current_app.config.get("SESSION_COOKIE_NAME") or "session"),
        server=request.script_root or "/",
    )
    response = jsonify(document)
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/docs")
@page_login_required
def docs() -> str:
    return render_template(
        "api_docs.html", spec_url=url_for("openapi.spec"), openapi_version=OPENAPI_VERSION
    )


# --- the document -------------------------------------------------------------------------------


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict[str, str]:
    return ref("schemas", name)


def response_name(status: int) -> str:
    return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")


def build(
    taxonomy: Taxonomy, *, cookie_name: str = "annotator_session", server: str = "/"
) -> dict[str, Any]:
    """The whole OpenAPI document for this taxonomy."""
    from annotator.api import openapi_reports  # it builds on the helpers of this module

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "annotator API",
            "version": _version(),
            "summary": "Satellite-imagery annotation: sites, images, labels, annotations, tiles.",
            "description": (
                'Every error is JSON `{"error": "<code>", "message": "<what was wrong '
                'and how to fix it>", "details": ...}` with a 4xx status. Browsers sign in '
                f"at /login and send the session's CSRF token in `{CSRF_HEADER}` with every "
                "write; scripts send `Authorization: Bearer <token>` instead. Annotation "
                "writes need `If-Match` with the ETag last read (428 without it, 412 when "
                "stale). Geometries are RFC 7946 GeoJSON in WGS 84 longitude, latitude."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": server}],
        "security": [{"sessionCookie": []}, {"bearerToken": []}],
        "tags": [
            {"name": "sites", "description": "Areas of interest."},
            {"name": "images", "description": "The imagery catalogue and uploads."},
            {"name": "labels", "description": "The label taxonomy."},
            {"name": "annotations", "description": "GeoJSON annotations, versions and review."},
            {"name": "tiles", "description": "XYZ tiles and TileJSON."},
            {"name": "users", "description": "Accounts and roles (admin)."},
            {"name": "imports", "description": "Annotations from GIS files."},
            {"name": "meta", "description": "This description of the API."},
            *openapi_reports.TAGS,
        ],
        "paths": {**_paths(taxonomy), **_workspace_paths(), **openapi_reports.paths()},
        "components": {
            "schemas": {**_schemas(taxonomy), **_workspace_schemas(), **openapi_reports.schemas()},
            "parameters": _parameters() | openapi_reports.parameters(),
            "headers": _headers(),
            "responses": _responses(),
            "securitySchemes": _security_schemes(cookie_name),
        },
    }


def _version() -> str:
    try:
        return metadata.version("annotator")
    except metadata.PackageNotFoundError:
        return "0.0.0"


# --- schemas ------------------------------------------------------------------------------------


def _schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": _error_schema(),
        "Position": {
            "type": "array",
            "description": "[longitude, latitude] or [longitude, latitude, height], WGS 84.",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 3,
        },
        "Geometry": {
            "description": (
                "An RFC 7946 GeoJSON geometry in WGS 84 lon/lat, without `crs`; at most "
                f"{geometry_rules.MAX_VERTICES:,} vertices; rings closed; not self-intersecting "
                "(nothing is repaired for you)."
            ),
            "oneOf": [schema_ref(kind) for kind in geometry_rules.DEPTHS],
        },
        **{kind: _geometry_schema(kind, depth) for kind, depth in geometry_rules.DEPTHS.items()},
        "Shape": {
            "type": "string",
            "enum": list(annotation_rules.SHAPES),
            "description": "What was drawn, and the geometry each shape takes: "
            + "; ".join(
                f"{shape} → {' or '.join(annotation_rules.GEOMETRY_TYPES_BY_SHAPE[shape])}"
                for shape in annotation_rules.SHAPES
            )
            + ". A box or rotated-box is a Polygon of 4 corners (5 positions). When absent, "
            "it follows from the geometry type.",
        },
        "Confidence": {"type": "string", "enum": list(annotation_rules.CONFIDENCES)},
        "Status": {
            "type": "string",
            "enum": list(annotation_rules.STATUSES),
            "description": "Review status. Allowed moves and the least role for each: "
            + "; ".join(
                f"{start} → {end} ({role.name})"
                for start, moves in annotation_rules.TRANSITIONS.items()
                for end, role in moves.items()
            )
            + ".",
        },
        "LabelId": {
            "type": "string",
            "enum": [label.id for label in taxonomy],
            "description": "A label id of the taxonomy (GET /api/v1/labels).",
        },
        **_attribute_schemas(taxonomy),
        "AnnotationPropertiesInput": _properties_input(taxonomy, required=True),
        "AnnotationPropertiesPatch": _properties_input(taxonomy, required=False),
        "FeatureInput": _feature_input(required=True),
        "FeaturePatch": _feature_input(required=False),
        "FeatureCollectionInput": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "minItems": 1, "items": schema_ref("FeatureInput")},
            },
            "description": "Several annotations created at once, all or none.",
        },
        "Measurements": {
            "type": "object",
            "description": "Measured on the WGS 84 ellipsoid; absent values are left out.",
            "properties": {
                field.name: {"type": "number"} for field in dataclasses.fields(Measurements)
            },
        },
        "AnnotationSource": {
            "type": "object",
            "description": "The image the annotation was drawn on, as it was then.",
            "properties": {
                "image_sha256": {"type": "string"},
                "provider": {"type": ["string", "null"]},
                "licence": {"type": ["string", "null"]},
                "attribution": {"type": ["string", "null"]},
                "gsd_m": {"type": "number"},
                "captured_at": {"type": ["string", "null"], "format": "date-time"},
                "synthetic": {"type": "boolean"},
            },
        },
        "Annotation": _annotation_schema(),
        "AnnotationCollection": {
            "type": "object",
            "required": ["type", "features", "numberReturned", "links"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": schema_ref("Annotation")},
                "numberReturned": {"type": "integer", "minimum": 0},
                "links": {
                    "type": "array",
                    "description": "`next` when there are more matches (keyset pagination).",
                    "items": {
                        "type": "object",
                        "properties": {
                            "rel": {"type": "string", "enum": ["next"]},
                            "type": {"type": "string"},
                            "href": {"type": "string"},
                        },
                    },
                },
            },
        },
        "CreatedAnnotations": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "features": {"type": "array", "items": schema_ref("Annotation")},
            },
        },
        "Comment": {
            "type": "string",
            "maxLength": COMMENT_MAX,
            "description": "Why; kept in the annotation's history.",
        },
        "StatusChange": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": schema_ref("Status"), "comment": schema_ref("Comment")},
        },
        "Restore": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The version to bring back; absent: undo a deletion.",
                },
                "comment": schema_ref("Comment"),
            },
        },
        "Revision": {
            "type": "object",
            "properties": {
                "revision": {"type": "integer"},
                "version": {"type": "integer"},
                "action": {"type": "string", "enum": list(history_rules.ACTIONS)},
                "actor": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "comment": {"type": ["string", "null"]},
                "before": {"oneOf": [schema_ref("Annotation"), {"type": "null"}]},
                "after": {"oneOf": [schema_ref("Annotation"), {"type": "null"}]},
            },
        },
        "History": {
            "type": "object",
            "properties": {
                "annotation": {"type": "string"},
                "revisions": {"type": "array", "items": schema_ref("Revision")},
                "links": {
                    "type": "array",
                    "description": "Every link of this annotation to a report or claim, and "
                    "every unlink (the changes of /api/v1/links).",
                    "items": {"type": "object"},
                },
            },
        },
        "AttributeSpec": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": list(ATTRIBUTE_TYPES)},
                "values": {"type": "array", "items": {"type": "string"}},
                "min": {"type": "number"},
                "max": {"type": "number"},
                "unit": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "Label": _label_schema(),
        "Taxonomy": {
            "type": "object",
            "properties": {"labels": {"type": "array", "items": schema_ref("Label")}},
        },
        "MeasureRequest": {
            "type": "object",
            "required": ["geometry", "image_id"],
            "properties": {
                "geometry": schema_ref("Geometry"),
                "image_id": {"type": "string", "description": "The image it is drawn on."},
            },
        },
        "Measurement": _measurement_schema(),
        "Site": _site_schema(),
        "SiteInput": _site_input(),
        "SiteList": {
            "type": "object",
            "properties": {"sites": {"type": "array", "items": schema_ref("Site")}},
        },
        "Image": _image_schema(),
        "ImageList": {
            "type": "object",
            "properties": {"images": {"type": "array", "items": schema_ref("Image")}},
        },
        "ImportedImage": {
            "allOf": [
                schema_ref("Image"),
                {
                    "type": "object",
                    "properties": {
                        "created": {
                            "type": "boolean",
                            "description": "false: the same file was catalogued already",
                        }
                    },
                },
            ]
        },
        "ImageUpload": _image_upload(),
        "ImportUpload": _import_upload(),
        "ImportReport": _import_report(),
        "TileJSON": _tilejson_schema(),
        "Role": {
            "type": "string",
            "enum": [role.name for role in Role],
            "description": "Each role can do what the ones before it can.",
        },
        "User": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "role": schema_ref("Role"),
                "active": {"type": "boolean"},
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "UserList": {
            "type": "object",
            "properties": {"users": {"type": "array", "items": schema_ref("User")}},
        },
        "UserInput": {
            "type": "object",
            "required": ["name", "role", "password"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "role": schema_ref("Role"),
                "password": {"type": "string", "minLength": 1, "format": "password"},
            },
        },
        "UserChange": {
            "type": "object",
            "properties": {
                "role": schema_ref("Role"),
                "active": {
                    "type": "boolean",
                    "description": "false switches the account off, ends its browser sessions "
                    "and revokes its tokens. The last active admin cannot be switched off.",
                },
                "password": {
                    "type": "string",
                    "minLength": 1,
                    "format": "password",
                    "description": "A new password; the user's browser sessions end.",
                },
            },
        },
        "BBox": {
            "type": "array",
            "description": "[west, south, east, north] in degrees.",
            "items": {"type": "number"},
            "minItems": 4,
            "maxItems": 4,
        },
    }
    return schemas


def _error_schema() -> dict[str, Any]:
    codes = sorted(
        {code for _, _, code in STATUS_TABLE}
        | {code for extra in WEB_ERROR_CODES.values() for code in extra}
    )
    return {
        "type": "object",
        "required": ["error", "message", "details"],
        "properties": {
            "error": {
                "type": "string",
                "description": "A short code, e.g. " + ", ".join(codes) + ".",
            },
            "message": {
                "type": "string",
                "description": "What was wrong and how to fix it, for a person.",
            },
            "details": {
                "description": "null, or an object that helps a client act: `current` (the "
                "current annotation, on 412 and 428), `closest` (labels, on an unknown label), "
                "`where` (the place in the input), `attributes` (per attribute faults)."
            },
        },
    }


def _geometry_schema(kind: str, depth: int) -> dict[str, Any]:
    coordinates: dict[str, Any] = schema_ref("Position")
    for level in range(1, depth + 1):
        coordinates = {"type": "array", "items": coordinates}
        if kind in ("Polygon", "MultiPolygon") and level == 1:
            coordinates["minItems"] = 4  # a ring: at least 4 positions, the first repeated
        elif kind == "LineString" and level == 1:
            coordinates["minItems"] = 2
        if level == depth:
            coordinates["minItems"] = max(coordinates.get("minItems", 1), 1)
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
        "not": {"required": ["crs"]},
    }


def attribute_schema_name(label_id: str) -> str:
    return f"Attributes.{label_id}"


def _attribute_value(spec: AttributeSpec) -> dict[str, Any]:
    schema: dict[str, Any]
    if spec.type == "enum":
        schema = {"type": ["string", "null"], "enum": [*spec.values, None]}
    else:
        schema = {"type": [spec.type, "null"]}
    if spec.min is not None:
        schema["minimum"] = spec.min
    if spec.max is not None:
        schema["maximum"] = spec.max
    words = [spec.description] if spec.description else []
    if spec.unit:
        words.append(f"unit: {spec.unit}")
        schema["x-unit"] = spec.unit
    if spec.type == "enum":
        words.append("matched ignoring case, stored in the spelling listed")
    words.append("null leaves it out")
    schema["description"] = "; ".join(words)
    return schema


def _attribute_schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    """One schema per label: its own attributes and those it inherits, nothing else."""
    return {
        attribute_schema_name(label.id): {
            "type": "object",
            "description": f"Attributes of {label.id} ({label.name}).",
            "properties": {name: _attribute_value(spec) for name, spec in label.attributes.items()},
            "additionalProperties": False,
        }
        for label in taxonomy
    }


def _properties_input(taxonomy: Taxonomy, *, required: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": (
            "What was seen. Other members (label_name, status, version, ... as returned) are "
            "ignored, so a Feature read from the API can be sent back."
            if required
            else "Only the members sent change; the others keep their current values."
        ),
        "properties": {
            "label": schema_ref("LabelId"),
            "image_id": {
                "type": "string",
                "minLength": 1,
                "description": "The image it was seen on.",
            },
            "shape": schema_ref("Shape"),
            "confidence": {**schema_ref("Confidence"), "default": "probable"},
            "count": {"type": "integer", "minimum": 1, "maximum": COUNT_MAX, "default": 1},
            "attributes": {
                "type": ["object", "null"],
                "description": "Per label: see the Attributes.<label id> schemas.",
            },
            "notes": {
                "type": ["string", "null"],
                "maxLength": annotation_rules.NOTES_LIMIT,
                "default": "",
            },
            "observed_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "ISO 8601; absent: the image's capture time.",
            },
        },
        "allOf": [
            {
                "if": {"properties": {"label": {"const": label.id}}, "required": ["label"]},
                "then": {
                    "properties": {
                        "attributes": {
                            "oneOf": [
                                schema_ref(attribute_schema_name(label.id)),
                                {"type": "null"},
                            ]
                        }
                    }
                },
            }
            for label in taxonomy
        ],
    }
    if required:
        schema["required"] = ["label", "image_id"]
    return schema


def _feature_input(*, required: bool) -> dict[str, Any]:
    properties = "AnnotationPropertiesInput" if required else "AnnotationPropertiesPatch"
    shape_rules = [_shape_rule(shape) for shape in annotation_rules.SHAPES]
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["type", "geometry", "properties"] if required else ["type"],
        "properties": {
            "type": {"const": "Feature"},
            "geometry": schema_ref("Geometry"),
            "properties": (
                schema_ref(properties)
                if required
                else {"oneOf": [schema_ref(properties), {"type": "null"}]}
            ),
        },
        "not": {"required": ["crs"]},
        "allOf": shape_rules,
    }
    return schema


def _shape_rule(shape: str) -> dict[str, Any]:
    """If properties.shape is `shape`, the geometry must be of a type that shape takes."""
    geometry: dict[str, Any] = {
        "type": {"enum": list(annotation_rules.GEOMETRY_TYPES_BY_SHAPE[shape])}
    }
    if shape in QUADRILATERAL_SHAPES:
        geometry["coordinates"] = {"prefixItems": [{"minItems": 5, "maxItems": 5}]}
    return {
        "if": {
            "properties": {
                "properties": {
                    "type": "object",
                    "properties": {"shape": {"const": shape}},
                    "required": ["shape"],
                }
            },
            "required": ["properties"],
        },
        "then": {"properties": {"geometry": {"properties": geometry}}},
    }


def _annotation_schema() -> dict[str, Any]:
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "type": "object",
        "description": "An annotation as a GeoJSON Feature with its provenance.",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "string", "pattern": ID_PATTERN},
            "geometry": schema_ref("Geometry"),
            "properties": {
                "type": "object",
                "properties": {
                    "label": schema_ref("LabelId"),
                    "label_name": {"type": ["string", "null"]},
                    "shape": schema_ref("Shape"),
                    "confidence": schema_ref("Confidence"),
                    "count": {"type": "integer", "minimum": 1, "maximum": COUNT_MAX},
                    "attributes": {"type": "object"},
                    "notes": {"type": "string"},
                    "image_id": {"type": "string"},
                    "observed_at": nullable_time,
                    "status": schema_ref("Status"),
                    "version": {"type": "integer", "minimum": 1},
                    "created_by": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_by": {"type": "string"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "deleted": {"type": "boolean"},
                    "derived_from": {
                        "type": ["string", "null"],
                        "description": "The annotation this one was copied from, on another "
                        "capture (POST /api/v1/annotations/{annotation_id}/copy).",
                    },
                    "measurements": schema_ref("Measurements"),
                    "source": schema_ref("AnnotationSource"),
                    "reports": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def _label_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": schema_ref("LabelId"),
            "name": {"type": "string"},
            "colour": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
            "parent": {"type": ["string", "null"]},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "description": {"type": ["string", "null"]},
            "attributes": {
                "type": "object",
                "additionalProperties": schema_ref("AttributeSpec"),
            },
            "reference": {
                "type": ["object", "null"],
                "description": "Published size in metres, and its source.",
                "properties": {
                    "length_m": {"type": "number"},
                    "span_m": {"type": "number"},
                    "span_swept_m": {"type": "number"},
                    "length_m_range": {"type": "array", "items": {"type": "number"}},
                    "span_m_range": {"type": "array", "items": {"type": "number"}},
                    "source": {"type": "string"},
                    "checked": {"type": "boolean"},
                    "note": {"type": "string"},
                },
            },
        },
    }


def _measurement_schema() -> dict[str, Any]:
    number = {"type": "number"}
    return {
        "type": "object",
        "properties": {
            "measurements": schema_ref("Measurements"),
            "aircraft": {
                "type": ["object", "null"],
                "description": "The sides as length and span, in the order the best fit takes.",
                "properties": {"length_m": number, "span_m": number},
            },
            "gsd_m": number,
            "tolerance_m": {"type": "number", "description": "2 image pixels."},
            "candidates": {
                "type": "array",
                "description": "Aircraft types with a reference size, best fit first (at most "
                f"{identify_rules.CANDIDATE_COUNT}); score is in units of tolerance, "
                "1 or less fits.",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": schema_ref("LabelId"),
                        "name": {"type": "string"},
                        "colour": {"type": "string"},
                        "score": number,
                        "fits": {"type": "boolean"},
                        "length_m": number,
                        "span_m": number,
                    },
                },
            },
        },
    }


def _site_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "area": {"oneOf": [schema_ref("Polygon"), schema_ref("MultiPolygon")]},
            "bbox": schema_ref("BBox"),
            "image_ids": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
        },
    }


def _site_input() -> dict[str, Any]:
    common = {
        "name": {"type": "string", "minLength": 1, "maxLength": SITE_NAME_MAX},
        "slug": {"type": "string", "description": "URL name; made from the name when absent."},
    }
    return {
        "description": "A circle around a point, or a GeoJSON polygon.",
        "oneOf": [
            {
                "type": "object",
                "title": "circle",
                "required": ["name", "lon", "lat"],
                "properties": {
                    **common,
                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "radius_m": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "default": DEFAULT_RADIUS_M,
                    },
                },
                "not": {"required": ["area"]},
            },
            {
                "type": "object",
                "title": "area",
                "required": ["name", "area"],
                "properties": {
                    **common,
                    "area": {
                        "description": "A Polygon or MultiPolygon, or a Feature or a "
                        "FeatureCollection of one holding it.",
                        "type": "object",
                    },
                },
            },
        ],
    }


def _image_schema() -> dict[str, Any]:
    text = {"type": ["string", "null"]}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": ID_PATTERN},
            "sha256": {"type": "string"},
            "original_filename": {"type": "string"},
            "captured_at": {"type": ["string", "null"], "format": "date-time"},
            "captured_source": {"type": "string"},
            "provider": text,
            "sensor": text,
            "licence": text,
            "attribution": text,
            "description": text,
            "synthetic": {"type": "boolean"},
            "crs": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "band_count": {"type": "integer"},
            "dtype": {"type": "string"},
            "nodata": {"type": ["number", "null"]},
            "mask": {"type": "string"},
            "gsd_m": {"type": "number", "description": "ground sample distance in metres"},
            "bbox": schema_ref("BBox"),
            "footprint": {"oneOf": [schema_ref("Polygon"), schema_ref("MultiPolygon")]},
            "display": {"type": "object"},
            "warped": {"type": "boolean"},
            "sites": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
        },
    }


def _image_upload() -> dict[str, Any]:
    text = {"type": "string", "maxLength": TEXT_LIMIT}
    return {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "array",
                "items": {"type": "string", "format": "binary", "contentMediaType": "image/tiff"},
                "minItems": 1,
                "description": "One or more georeferenced GeoTIFFs; all are imported or none.",
            },
            "site": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Slugs of sites to attach the images to.",
            },
            "captured": {
                "type": "string",
                "format": "date-time",
                "description": "Capture time when the file has no TIFF date tag.",
            },
            "provider": text,
            "sensor": text,
            "licence": text,
            "attribution": text,
            "description": text,
        },
    }


def _tilejson_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["tilejson", "tiles"],
        "properties": {
            "tilejson": {"const": "3.0.0"},
            "name": {"type": "string"},
            "version": {"type": "string"},
            "scheme": {"const": "xyz"},
            "tiles": {"type": "array", "items": {"type": "string"}},
            "minzoom": {"type": "integer"},
            "maxzoom": {"type": "integer"},
            "bounds": schema_ref("BBox"),
            "center": {"type": "array", "items": {"type": "number"}},
            "attribution": {"type": "string"},
        },
    }


# --- parameters, headers, responses, security ---------------------------------------------------


def _parameters() -> dict[str, Any]:
    def path(name: str, description: str, **schema: Any) -> dict[str, Any]:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": {"type": "string", **schema},
        }

    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "description": description, "schema": schema, **extra}

    return {
        "AnnotationId": path("annotation_id", "The annotation's id.", pattern=ID_PATTERN),
        "ImageId": path("image_id", "The image's id.", pattern=ID_PATTERN),
        "SiteSlug": path("slug", "The site's URL name."),
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The ETag of the version you edited (from GET, or the last write): "
            "428 without it, 412 when someone changed the annotation meanwhile.",
            "schema": {"type": "string"},
            "example": '"0123456789abcdef0123456789abcdef-v1"',
        },
        "IfNoneMatch": {
            "name": "If-None-Match",
            "in": "header",
            "description": "An ETag you hold; 304 when it is still current.",
            "schema": {"type": "string"},
        },
        "bbox": query(
            "bbox",
            "Annotations meeting the box west,south,east,north (degrees; not across the "
            "antimeridian).",
            schema_ref("BBox"),
            style="form",
            explode=False,
        ),
        "site": query("site", "Annotations on the images of this site (slug).", {"type": "string"}),
        "image": query("image", "Annotations on this image (id).", {"type": "string"}),
        "label": query("label", "This label and every label below it.", schema_ref("LabelId")),
        "status": query(
            "status",
            "Any of these statuses (comma-separated).",
            {"type": "array", "items": schema_ref("Status")},
            style="form",
            explode=False,
        ),
        "datetime": query(
            "datetime",
            "Observed at this RFC 3339 instant, or in the interval start/end where either side "
            "may be '..' (e.g. 2024-12-10T00:00:00Z/..).",
            {"type": "string"},
        ),
        "author": query("author", "Created by this user name.", {"type": "string"}),
        "limit": query(
            "limit",
            "Most features in one page.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": search_rules.MAX_LIMIT,
                "default": search_rules.DEFAULT_LIMIT,
            },
        ),
        "cursor": query(
            "cursor", "Where the next page starts: from the `next` link.", {"type": "string"}
        ),
        "download": query(
            "download",
            "Any non-empty value: answer as the attachment annotations.geojson.",
            {"type": "string"},
            example="1",
        ),
    }


def _headers() -> dict[str, Any]:
    return {
        "ETag": {
            "description": 'The annotation\'s version, `"<id>-v<version>"`: send it back in '
            "If-Match with the next write.",
            "schema": {"type": "string"},
        },
        "Location": {"description": "Where the resource is.", "schema": {"type": "string"}},
        "CacheControl": {"schema": {"type": "string"}},
        "ContentDisposition": {
            "description": 'With `download`: `attachment; filename="annotations.geojson"`.',
            "schema": {"type": "string"},
        },
    }


def error_statuses() -> list[int]:
    """Every error status an API answer can carry: STATUS_TABLE's and the web layer's."""
    return sorted({status for _, status, _ in STATUS_TABLE} | set(WEB_ERROR_CODES))


def _responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in error_statuses():
        codes = [code for _, row_status, code in STATUS_TABLE if row_status == status]
        codes += [code for code in WEB_ERROR_CODES.get(status, ()) if code not in codes]
        responses[response_name(status)] = {
            "description": f"{ERROR_MEANINGS.get(status, HTTPStatus(status).phrase)} "
            f"Error codes: {', '.join(codes)}.",
            "content": {
                "application/json": {
                    "schema": schema_ref("Error"),
                    "example": {
                        "error": codes[0],
                        "message": ERROR_MEANINGS.get(status, HTTPStatus(status).phrase),
                        "details": None,
                    },
                }
            },
        }
    return responses


def _security_schemes(cookie_name: str) -> dict[str, Any]:
    return {
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": cookie_name,
            "description": "The browser session, set by signing in at /login.",
        },
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "With the session cookie, every write echoes the session's CSRF "
            "token (the docs page sends it for you).",
        },
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `annotator tokens create USER`; no CSRF needed.",
        },
    }


# --- paths --------------------------------------------------------------------------------------

WRITE_SECURITY: list[dict[str, list[str]]] = [
    {"sessionCookie": [], "csrfToken": []},
    {"bearerToken": []},
]


def errors(*statuses: int) -> dict[str, Any]:
    return {str(status): ref("responses", response_name(status)) for status in statuses}


def json_content(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": schema}}


def ok(
    description: str,
    schema: dict[str, Any],
    media: str = "application/json",
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": json_content(schema, media)}
    if headers:
        response["headers"] = headers
    return response


def annotation_ok(description: str = "The annotation, with its ETag.") -> dict[str, Any]:
    return ok(
        description,
        schema_ref("Annotation"),
        headers={"ETag": ref("headers", "ETag"), "Location": ref("headers", "Location")},
    )


def geojson_body(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for media in ("application/geo+json", "application/json"):
        content[media] = {"schema": schema}
        if example is not None:
            content[media]["example"] = example
    return {"required": True, "content": content}


def example_feature(taxonomy: Taxonomy) -> dict[str, Any]:
    """An An-124-sized rotated box on the apron at Hmeimim, with the first sized label."""
    label = next((label for label in taxonomy if label.reference is not None), None)
    label = label or next(iter(taxonomy))
    return {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [35.9470, 35.4040],
                    [35.9478, 35.4040],
                    [35.9478, 35.4046],
                    [35.9470, 35.4046],
                    [35.9470, 35.4040],
                ]
            ],
        },
        "properties": {
            "label": label.id,
            "image_id": "0123456789abcdef0123456789abcdef",
            "shape": "rotated-box" if "rotated-box" in annotation_rules.SHAPES else "polygon",
            "confidence": annotation_rules.CONFIDENCES[0],
            "count": 1,
            "notes": "",
        },
    }


def _paths(taxonomy: Taxonomy) -> dict[str, Any]:
    annotation_id = ref("parameters", "AnnotationId")
    if_match = ref("parameters", "IfMatch")
    example = example_feature(taxonomy)
    list_params = [
        "bbox",
        "site",
        "image",
        "label",
        "status",
        "datetime",
        "author",
        "report",
        "event",
        "limit",
        "cursor",
        "download",
    ]
    tile_path = openapi_path("/tiles/<image_id>/<z>/<x>/<y>.<fmt>")
    return {
        "/api/v1/sites": {
            "get": {
                "tags": ["sites"],
                "operationId": "listSites",
                "summary": "List the sites",
                "responses": {"200": ok("The sites.", schema_ref("SiteList")), **errors(401)},
            },
            "post": {
                "tags": ["sites"],
                "operationId": "createSite",
                "summary": "Add a site (analyst)",
                "description": "Every catalogued image whose footprint meets the area is "
                "attached to it.",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": schema_ref("SiteInput"),
                            "example": SITE_EXAMPLE,
                        }
                    },
                },
                "responses": {
                    "201": ok(
                        "The new site.",
                        schema_ref("Site"),
                        headers={"Location": ref("headers", "Location")},
                    ),
                    **errors(400, 401, 403, 409, 415, 422),
                },
            },
        },
        "/api/v1/sites/{slug}": {
            "get": {
                "tags": ["sites"],
                "operationId": "getSite",
                "summary": "One site",
                "parameters": [ref("parameters", "SiteSlug")],
                "responses": {"200": ok("The site.", schema_ref("Site")), **errors(401, 404)},
            }
        },
        "/api/v1/images": {
            "get": {
                "tags": ["images"],
                "operationId": "listImages",
                "summary": "List the catalogue",
                "responses": {"200": ok("The images.", schema_ref("ImageList")), **errors(401)},
            },
            "post": {
                "tags": ["images"],
                "operationId": "uploadImages",
                "summary": "Upload GeoTIFFs (analyst)",
                "description": "Each file is checked and stored as a Cloud-Optimized GeoTIFF "
                'under its sha256. One file answers the image, several `{"images": [...]}`; '
                "all are imported or none.",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": schema_ref("ImageUpload"),
                            "encoding": {
                                "file": {"contentType": "image/tiff, application/octet-stream"}
                            },
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "At least one image is new.",
                        "headers": {"Location": ref("headers", "Location")},
                        "content": json_content(_upload_result()),
                    },
                    "200": {
                        "description": "Every file was catalogued already.",
                        "headers": {"Location": ref("headers", "Location")},
                        "content": json_content(_upload_result()),
                    },
                    **errors(400, 401, 403, 404, 413, 415, 422),
                },
            },
        },
        "/api/v1/images/{image_id}": {
            "get": {
                "tags": ["images"],
                "operationId": "getImage",
                "summary": "One image",
                "parameters": [ref("parameters", "ImageId")],
                "responses": {"200": ok("The image.", schema_ref("Image")), **errors(401, 404)},
            }
        },
        "/api/v1/images/{image_id}/cog": {
            "get": {
                "tags": ["images"],
                "operationId": "getImageCog",
                "summary": "The stored Cloud-Optimized GeoTIFF (range requests answered)",
                "description": "What a STAC export made over HTTP links each image asset to; "
                "GDAL's /vsicurl/ and QGIS read it in place with range requests.",
                "parameters": [ref("parameters", "ImageId")],
                "responses": {
                    "200": {
                        "description": "The COG.",
                        "content": {
                            "image/tiff; application=geotiff; profile=cloud-optimized": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "206": {"description": "The byte range asked for (Range header)."},
                    **errors(401, 404),
                },
            }
        },
        "/api/v1/labels": {
            "get": {
                "tags": ["labels"],
                "operationId": "listLabels",
                "summary": "The label taxonomy, or the labels matching a type-ahead search",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "description": "Words typed: whole matches of id, name or alias first, "
                        "then prefixes, then substrings ('124' finds the An-124). Absent: "
                        "every label.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "description": "Most labels matching `q`.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    },
                ],
                "responses": {
                    "200": ok("Every label, or the best matches.", schema_ref("Taxonomy")),
                    **errors(400, 401),
                },
            }
        },
        "/api/v1/measure": {
            "post": {
                "tags": ["labels"],
                "operationId": "measureAndIdentify",
                "summary": "Measure a shape on an image; rank the aircraft types its size fits",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": json_content(schema_ref("MeasureRequest")),
                },
                "responses": {
                    "200": ok("Measurements and candidates.", schema_ref("Measurement")),
                    **errors(400, 401, 404, 415, 422),
                },
            }
        },
        "/api/v1/annotations": {
            "get": {
                "tags": ["annotations"],
                "operationId": "searchAnnotations",
                "summary": "Find annotations",
                "description": "Oldest first; follow the `next` link for more.",
                "parameters": [ref("parameters", name) for name in list_params],
                "responses": {
                    "200": ok(
                        "One page of matches.",
                        schema_ref("AnnotationCollection"),
                        media="application/geo+json",
                        headers={"Content-Disposition": ref("headers", "ContentDisposition")},
                    ),
                    **errors(400, 401, 422),
                },
            },
            "post": {
                "tags": ["annotations"],
                "operationId": "createAnnotations",
                "summary": "Add annotations (analyst)",
                "description": "A Feature, or a FeatureCollection of several (all or none). "
                "New annotations are drafts at version 1.",
                "security": WRITE_SECURITY,
                "requestBody": geojson_body(
                    {
                        "oneOf": [
                            schema_ref("FeatureInput"),
                            schema_ref("FeatureCollectionInput"),
                        ]
                    },
                    example,
                ),
                "responses": {
                    "201": {
                        "description": "The annotation (ETag and Location for a single Feature), "
                        "or a FeatureCollection of them.",
                        "headers": {
                            "ETag": ref("headers", "ETag"),
                            "Location": ref("headers", "Location"),
                        },
                        "content": json_content(
                            {
                                "oneOf": [
                                    schema_ref("Annotation"),
                                    schema_ref("CreatedAnnotations"),
                                ]
                            }
                        ),
                    },
                    **errors(400, 401, 403, 404, 415, 422),
                },
            },
        },
        "/api/v1/annotations/{annotation_id}": {
            "parameters": [annotation_id],
            "get": {
                "tags": ["annotations"],
                "operationId": "getAnnotation",
                "summary": "One annotation",
                "parameters": [ref("parameters", "IfNoneMatch")],
                "responses": {
                    "200": annotation_ok(),
                    "304": {
                        "description": "Your copy (If-None-Match) is current.",
                        "headers": {"ETag": ref("headers", "ETag")},
                    },
                    **errors(401, 404),
                },
            },
            "put": {
                "tags": ["annotations"],
                "operationId": "replaceAnnotation",
                "summary": "Replace an annotation",
                "description": "Every field is sent. Analysts edit their own drafts and "
                "rejected annotations; editors any.",
                "security": WRITE_SECURITY,
                "parameters": [if_match],
                "requestBody": geojson_body(
                    {
                        "allOf": [
                            schema_ref("FeatureInput"),
                            {"type": "object", "properties": {"comment": schema_ref("Comment")}},
                        ]
                    },
                    example,
                ),
                "responses": {
                    "200": annotation_ok("The annotation at its new version."),
                    **errors(400, 401, 403, 404, 412, 415, 422, 428),
                },
            },
            "patch": {
                "tags": ["annotations"],
                "operationId": "updateAnnotation",
                "summary": "Change some fields of an annotation",
                "description": "Members left out keep their current values.",
                "security": WRITE_SECURITY,
                "parameters": [if_match],
                "requestBody": geojson_body(
                    {
                        "allOf": [
                            schema_ref("FeaturePatch"),
                            {"type": "object", "properties": {"comment": schema_ref("Comment")}},
                        ]
                    },
                    {"type": "Feature", "properties": {"confidence": "confirmed"}},
                ),
                "responses": {
                    "200": annotation_ok("The annotation at its new version."),
                    **errors(400, 401, 403, 404, 412, 415, 422, 428),
                },
            },
            "delete": {
                "tags": ["annotations"],
                "operationId": "deleteAnnotation",
                "summary": "Delete an annotation",
                "description": "Kept in the history and restorable.",
                "security": WRITE_SECURITY,
                "parameters": [
                    if_match,
                    {
                        "name": "comment",
                        "in": "query",
                        "description": "Why; kept in the history.",
                        "schema": schema_ref("Comment"),
                    },
                ],
                "responses": {
                    "200": annotation_ok("The deleted annotation."),
                    **errors(400, 401, 403, 404, 412, 428),
                },
            },
        },
        "/api/v1/annotations/{annotation_id}/status": {
            "parameters": [annotation_id],
            "post": {
                "tags": ["annotations"],
                "operationId": "setAnnotationStatus",
                "summary": "Move an annotation through review",
                "security": WRITE_SECURITY,
                "parameters": [if_match],
                "requestBody": {
                    "required": True,
                    "content": json_content(schema_ref("StatusChange")),
                },
                "responses": {
                    "200": annotation_ok("The annotation in its new status."),
                    **errors(400, 401, 403, 404, 412, 415, 422, 428),
                },
            },
        },
        "/api/v1/annotations/{annotation_id}/restore": {
            "parameters": [annotation_id],
            "post": {
                "tags": ["annotations"],
                "operationId": "restoreAnnotation",
                "summary": "Undo a deletion, or bring back an earlier version",
                "security": WRITE_SECURITY,
                "parameters": [if_match],
                "requestBody": {
                    "required": False,
                    "content": json_content(schema_ref("Restore")),
                },
                "responses": {
                    "200": annotation_ok("The annotation as restored, at a new version."),
                    **errors(400, 401, 403, 404, 412, 415, 422, 428),
                },
            },
        },
        "/api/v1/annotations/{annotation_id}/history": {
            "parameters": [annotation_id],
            "get": {
                "tags": ["annotations"],
                "operationId": "annotationHistory",
                "summary": "Every revision: who, when, before, after, why",
                "responses": {
                    "200": ok("The revisions, oldest first.", schema_ref("History")),
                    **errors(401, 404),
                },
            },
        },
        tile_path: {
            "get": {
                "tags": ["tiles"],
                "operationId": "getTile",
                "summary": "An XYZ WebMercator 256 px tile",
                "parameters": [
                    ref("parameters", "ImageId"),
                    *(
                        {
                            "name": name,
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0},
                        }
                        for name in ("z", "x", "y")
                    ),
                    {
                        "name": "fmt",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(MEDIA_TYPES)},
                    },
                    ref("parameters", "IfNoneMatch"),
                ],
                "responses": {
                    "200": {
                        "description": "The tile; transparent where there is no data (PNG, WebP).",
                        "headers": {
                            "ETag": {"schema": {"type": "string"}},
                            "Cache-Control": ref("headers", "CacheControl"),
                        },
                        "content": {media: {} for media in MEDIA_TYPES.values()},
                    },
                    "304": {"description": "Your copy (If-None-Match) is current."},
                    **errors(400, 401, 404),
                },
            }
        },
        openapi_path("/tiles/<image_id>/tilejson.json"): {
            "get": {
                "tags": ["tiles"],
                "operationId": "getTileJSON",
                "summary": "TileJSON 3.0.0 for an image",
                "parameters": [ref("parameters", "ImageId")],
                "responses": {
                    "200": ok("Bounds, zoom range and the tile URL.", schema_ref("TileJSON")),
                    **errors(401, 404),
                },
            }
        },
        **_user_paths(),
        **_export_paths(),
        **_import_paths(),
        "/api/v1/openapi.json": {
            "get": {
                "tags": ["meta"],
                "operationId": "getOpenAPI",
                "summary": "This document",
                "responses": {
                    "200": ok("OpenAPI 3.1.", {"type": "object"}),
                    "304": {"description": "Your copy (If-None-Match) is current."},
                    **errors(401),
                },
            }
        },
        "/api/v1/docs": {
            "get": {
                "tags": ["meta"],
                "operationId": "getDocsPage",
                "summary": "This document, browsable",
                "security": [{"sessionCookie": []}],
                "responses": {
                    "200": {"description": "An HTML page.", "content": {"text/html": {}}},
                    "302": {"description": "Not signed in: to the login page."},
                },
            }
        },
    }


def _upload_result() -> dict[str, Any]:
    return {
        "oneOf": [
            schema_ref("ImportedImage"),
            {
                "type": "object",
                "required": ["images"],
                "properties": {"images": {"type": "array", "items": schema_ref("ImportedImage")}},
            },
        ]
    }


def _user_paths() -> dict[str, Any]:
    return {
        "/api/v1/users": {
            "get": {
                "tags": ["users"],
                "operationId": "listUsers",
                "summary": "List the accounts (admin)",
                "responses": {"200": ok("The users.", schema_ref("UserList")), **errors(401, 403)},
            },
            "post": {
                "tags": ["users"],
                "operationId": "createUser",
                "summary": "Add an account (admin)",
                "security": WRITE_SECURITY,
                "requestBody": {"required": True, "content": json_content(schema_ref("UserInput"))},
                "responses": {
                    "201": ok(
                        "The new account.",
                        schema_ref("User"),
                        headers={"Location": ref("headers", "Location")},
                    ),
                    **errors(400, 401, 403, 409, 415, 422),
                },
            },
        },
        "/api/v1/users/{name}": {
            "patch": {
                "tags": ["users"],
                "operationId": "changeUser",
                "summary": "Change a role or password, or switch an account off or on (admin)",
                "security": WRITE_SECURITY,
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "description": "The user name.",
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": json_content(schema_ref("UserChange")),
                },
                "responses": {
                    "200": ok("The account as it is now.", schema_ref("User")),
                    **errors(400, 401, 403, 404, 415, 422),
                },
            }
        },
    }


# --- the analyst workspace: site timeline, copy to another capture, review ------------------


def _workspace_schemas() -> dict[str, Any]:
    count = {
        "type": "object",
        "required": ["label", "annotations", "objects"],
        "properties": {
            "label": schema_ref("LabelId"),
            "label_name": {"type": ["string", "null"]},
            "annotations": {"type": "integer", "minimum": 1},
            "objects": {
                "type": "integer",
                "minimum": 1,
                "description": "The sum of the annotations' `count` (a convoy of 40 is 40).",
            },
        },
    }
    capture = {
        "type": "object",
        "required": ["image_id", "captured_at", "objects", "counts"],
        "properties": {
            "image_id": {"type": "string", "pattern": ID_PATTERN},
            "captured_at": {"type": ["string", "null"], "format": "date-time"},
            "provider": {"type": ["string", "null"]},
            "gsd_m": {"type": "number"},
            "synthetic": {"type": "boolean"},
            "objects": {"type": "integer", "minimum": 0},
            "counts": {
                "type": "array",
                "items": count,
                "description": "Per label, most objects first.",
            },
        },
    }
    return {
        "ReviewRequest": {
            "type": "object",
            "required": ["ids", "action"],
            "properties": {
                "ids": {
                    "type": "array",
                    "items": {"type": "string", "pattern": ID_PATTERN},
                    "minItems": 1,
                    "maxItems": review_rules.MAX_BATCH,
                    "uniqueItems": True,
                },
                "action": {"type": "string", "enum": list(review_rules.DECISIONS)},
                "comment": schema_ref("Comment"),
                "versions": {
                    "type": "object",
                    "description": "Annotation id -> the version you reviewed (from its ETag).",
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
            },
        },
        "ReviewResult": {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": list(review_rules.DECISIONS)},
                "annotations": {"type": "array", "items": schema_ref("Annotation")},
            },
        },
        "CopyRequest": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {
                    "type": "string",
                    "pattern": ID_PATTERN,
                    "description": "The capture to copy the annotation to.",
                }
            },
        },
        "Timeline": {
            "type": "object",
            "required": ["site", "statuses", "captures"],
            "properties": {
                "site": {"type": "string"},
                "name": {"type": "string"},
                "statuses": {"type": "array", "items": schema_ref("Status")},
                "captures": {
                    "type": "array",
                    "items": capture,
                    "description": "Oldest first; captures of unknown date last.",
                },
            },
        },
    }


def _workspace_paths() -> dict[str, Any]:
    annotation_id = ref("parameters", "AnnotationId")
    return {
        "/api/v1/annotations/review": {
            "post": {
                "tags": ["annotations"],
                "operationId": "reviewAnnotations",
                "summary": "Approve or reject annotations in review, in bulk (editor)",
                "description": "All or nothing: if any item cannot move (unknown id 404, not in "
                "review 422, changed since the version you give 412), nothing in the batch "
                "changes and the error names that item. Each annotation gets its own revision "
                "with the comment. Rule for versions: an id listed in `versions` is refused when "
                "the annotation has changed since that version; an id without one is reviewed "
                "as it stands (only annotations in review can be approved or rejected). "
                "Rejecting needs a comment.",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": schema_ref("ReviewRequest"),
                            "example": {
                                "ids": ["0123456789abcdef0123456789abcdef"],
                                "action": "reject",
                                "comment": "type not clear at this resolution",
                                "versions": {"0123456789abcdef0123456789abcdef": 2},
                            },
                        }
                    },
                },
                "responses": {
                    "200": ok("The annotations in their new status.", schema_ref("ReviewResult")),
                    **errors(400, 401, 403, 404, 412, 415, 422),
                },
            },
        },
        "/api/v1/annotations/{annotation_id}/copy": {
            "parameters": [annotation_id],
            "post": {
                "tags": ["annotations"],
                "operationId": "copyAnnotation",
                "summary": "Still there on this date: copy to another capture (analyst)",
                "description": "Makes a NEW annotation on `image`: same label, shape, geometry, "
                "confidence, count, attributes and notes; status draft; author you; observed at "
                "that capture's time; `derived_from` the original. 422 when the geometry is not "
                "inside that image's footprint or it is the same image; 404 for an unknown "
                "annotation or image.",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": schema_ref("CopyRequest"),
                            "example": {"image": "0123456789abcdef0123456789abcdef"},
                        }
                    },
                },
                "responses": {
                    "201": annotation_ok("The new annotation, with its ETag."),
                    **errors(400, 401, 403, 404, 415, 422),
                },
            },
        },
        "/api/v1/sites/{slug}/timeline": {
            "get": {
                "tags": ["sites"],
                "operationId": "siteTimeline",
                "summary": "The site's captures by date, with objects counted per label",
                "description": "Counted: annotations not deleted whose status is among `status` "
                f"(default {', '.join(timeline_rules.COUNTED_STATUSES)}: everything but "
                "rejected).",
                "parameters": [
                    ref("parameters", "SiteSlug"),
                    {
                        "name": "status",
                        "in": "query",
                        "description": "Count annotations in any of these statuses.",
                        "schema": {"type": "array", "items": schema_ref("Status")},
                        "style": "form",
                        "explode": False,
                    },
                ],
                "responses": {
                    "200": ok("The timeline.", schema_ref("Timeline")),
                    **errors(401, 404, 422),
                },
            }
        },
    }


def _import_paths() -> dict[str, Any]:
    return {
        "/api/v1/imports": {
            "post": {
                "tags": ["imports"],
                "operationId": "importAnnotations",
                "summary": "Import annotations from a GIS file (analyst)",
                "description": "GeoJSON (2008-style `crs` reprojected), GeoPackage, zipped "
                "Shapefile, KML, KMZ, or a zip of a STAC label item with its files; the format "
                "is told by content. A dry run reports what would be made and every feature "
                "left out with its reason. A real run imports every feature or none (one "
                "invalid feature refuses it all; features outside every image are listed and "
                "left out); importing the same features again makes nothing new.",
                "security": WRITE_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": schema_ref("ImportUpload")}},
                },
                "responses": {
                    "201": ok("Annotations were made.", schema_ref("ImportReport")),
                    "200": ok("A dry run, or nothing new to make.", schema_ref("ImportReport")),
                    **errors(400, 401, 403, 404, 409, 413, 415, 422),
                },
            }
        }
    }


def _import_upload() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "The GIS file."},
            "image": {"type": "string", "description": "Put every feature on this image."},
            "label_field": {
                "type": "string",
                "description": "The field holding labels (default `label`, or the STAC "
                "item's `label:properties`).",
            },
            "label_map": {
                "type": "string",
                "description": "Value -> label id, as a JSON object or two-column CSV (text "
                "or a file part).",
            },
            "dry_run": {"type": "string", "enum": ["1", "true", "yes", "on", "0", "false"]},
        },
    }


def _import_report() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    return {
        "type": "object",
        "required": ["source", "dry_run", "would_create", "created", "not_imported"],
        "properties": {
            "source": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "sha256": {"type": "string"},
                    "format": {
                        "type": "string",
                        "enum": ["geojson", "gpkg", "shapefile", "kml", "kmz", "stac"],
                    },
                    "layers": {"type": "array", "items": {"type": "string"}},
                    "features": count,
                },
            },
            "dry_run": {"type": "boolean"},
            "label_field": {"type": "string"},
            "would_create": count,
            "created": count,
            "already_imported": count,
            "outside_every_image": count,
            "invalid": count,
            "unknown_labels": {"type": "array", "items": {"type": "string"}},
            "by_label": {"type": "object", "additionalProperties": count},
            "by_image": {"type": "object", "additionalProperties": count},
            "not_imported": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "layer": {"type": "string"},
                        "number": count,
                        "feature_id": {"type": "string"},
                        "kind": {"type": "string", "enum": ["invalid", "outside", "duplicate"]},
                        "reason": {"type": "string"},
                    },
                },
            },
            "annotation_ids": {"type": "array", "items": {"type": "string"}},
        },
    }


def _export_paths() -> dict[str, Any]:
    filters = ["bbox", "site", "image", "label", "status", "datetime", "author"]
    formats = {
        "name": "format",
        "in": "query",
        "required": True,
        "description": "; ".join(f"`{f.name}`: {f.title}" for f in FORMATS.values()),
        "schema": {"type": "string", "enum": list(FORMATS)},
    }
    media = {
        f.media_type: {"schema": {"type": "string", "format": "binary"}} for f in FORMATS.values()
    }
    return {
        "/api/v1/exports": {
            "get": {
                "tags": ["exports"],
                "operationId": "exportAnnotations",
                "summary": "The annotations a search selects, as a GIS file",
                "description": "Every feature carries its provenance (image, capture time, "
                "provider, licence, GSD, analyst, status, confidence, version, reports). "
                "Written to a temporary file and streamed; at most "
                "ANNOTATOR_EXPORT_MAX_FEATURES annotations (413 above it: use "
                "`annotator export`). X-Annotation-Count says how many were written. "
                "Each export has a budget: chip settings that would cut more than "
                "ANNOTATOR_EXPORT_MAX_CHIPS chips are refused before any is cut (413 "
                "`too_many_chips`, `details.chips`), and an export that writes more than "
                "ANNOTATOR_EXPORT_MAX_MB or runs longer than ANNOTATOR_EXPORT_MAX_SECONDS is "
                "stopped (413 `export_bytes`, `export_seconds`). It also stops when the client "
                "closes the connection. The STAC catalogue's image links use "
                "ANNOTATOR_PUBLIC_URL, or the request's host if ANNOTATOR_ALLOWED_HOSTS lists "
                "it (400 `bad_host` otherwise). CSV cells that would start a spreadsheet "
                "formula (=, +, -, @, tab, CR) start with a single quote.",
                "parameters": [
                    formats,
                    *(ref("parameters", name) for name in filters),
                    *_chip_parameters(),
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment.",
                        "content": media,
                        "headers": {
                            "X-Annotation-Count": {"schema": {"type": "integer"}},
                            "Content-Disposition": {"schema": {"type": "string"}},
                        },
                    },
                    **errors(400, 401, 404, 413, 422),
                },
            }
        }
    }


def _chip_parameters() -> list[dict[str, Any]]:
    """The training-set formats' options (coco, yolo); other formats ignore them."""

    def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
        }

    return [
        query(
            "chip_size",
            "coco, yolo: chip width and height in pixels (default 512).",
            {"type": "integer", "minimum": MIN_CHIP, "maximum": MAX_CHIP},
        ),
        query(
            "overlap",
            "coco, yolo: pixels shared by neighbouring chips (default 64, at most half a chip).",
            {"type": "integer", "minimum": 0},
        ),
        query(
            "empty_chips",
            "coco, yolo: also write chips that show no annotation.",
            {"type": "string", "enum": ["1", "true", "yes"]},
        ),
    ]
