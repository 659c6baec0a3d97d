"""Everything in the OpenAPI document that is written by hand rather than derived from the routes'
contracts (annotator.api.contract): the document's description and tags, the shared path
parameters, the error envelope and its response per status (codes from annotator.errors'
STATUS_TABLE), the headers, the security schemes, the GeoJSON geometry that
annotations.geometry.parse_geometry reads, the If-Match header of annotation writes, and which
attributes go with which label (from the loaded taxonomy). The builder (annotator.api.openapi)
assembles these with what it derives from the routes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from annotations import geometry as geometry_rules
from annotations.labels.taxonomy import Taxonomy
from annotator.api.models.annotations import attributes_by_label
from annotator.api.openapi_common import CSRF_HEADER, ID_PATTERN, response_name, schema_ref
from annotator.errors import STATUS_TABLE


def schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    return {
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
        "AttributesByLabel": attributes_by_label(taxonomy),
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


def parameters() -> dict[str, Any]:
    return {
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The ETag of the version you edited (from GET, or the last write): "
            "428 without it, 412 when someone changed the annotation meanwhile.",
            "schema": {"type": "string"},
            "example": '"0123456789abcdef0123456789abcdef-v1"',
        },
    }


#: path parameters shared by many routes: name in the rule -> component, description, pattern
PATH_PARAMETERS: dict[str, tuple[str, str, str | None]] = {
    "annotation_id": ("AnnotationId", "The annotation's id.", ID_PATTERN),
    "image_id": ("ImageId", "The image's id.", ID_PATTERN),
    "slug": ("SiteSlug", "The site's URL name.", None),
    "name": ("UserName", "The user name.", None),
    "report_id": ("ReportId", "The report's id.", "^[0-9]+$"),
    "claim_id": ("ClaimId", "The claim's id.", "^[0-9]+$"),
    "event_id": ("EventId", "The event's id.", "^[0-9]+$"),
    "link_id": ("LinkId", "The link's id.", "^[0-9]+$"),
    "job_id": ("JobId", "The background job's id.", "^[0-9a-f]{32}$"),
}
#: error codes the web layer uses besides STATUS_TABLE's (RequestError, werkzeug)
WEB_ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request", "malformed_json", "csrf_failed", "bad_host", "export_cancelled"),
    401: ("unauthorized",),
    403: ("forbidden",),
    410: ("withdrawn",),
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
    429: ("too_many_jobs",),
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
    410: "The report was withdrawn: `message` says when and why (`details.withdrawn`).",
    412: "`If-Match` names an older version; `details.current` holds the current annotation.",
    413: "The upload or the image is larger than the configured limit.",
    415: "The body is not of the media type asked for (JSON, or a GeoTIFF in an upload).",
    422: "Well-formed, but the content is wrong; `message` says what and how to fix it.",
    428: "A write without `If-Match`: send the annotation's current ETag.",
    429: "Too many background jobs: you have as many queued or running as you may "
    "(ANNOTATOR_JOBS_PER_USER); wait for one to end or cancel one.",
    503: "Busy: every figure-drawing slot of the server process is taken; try again after "
    "`Retry-After` seconds.",
}
TAGS = [
    {"name": "sites", "description": "Areas of interest."},
    {"name": "images", "description": "The imagery catalogue and uploads."},
    {"name": "labels", "description": "The label taxonomy."},
    {"name": "annotations", "description": "GeoJSON annotations, versions and review."},
    {"name": "tiles", "description": "XYZ tiles and TileJSON."},
    {"name": "users", "description": "Accounts and roles (admin)."},
    {"name": "imports", "description": "Annotations from GIS files."},
    {"name": "meta", "description": "This description of the API."},
    {"name": "reports", "description": "News reports, the claims quoted from them, publishing."},
    {"name": "events", "description": "What happened at a site over a time window."},
    {"name": "links", "description": "Evidence (annotations, events) for reports and claims."},
    {"name": "jobs", "description": "Background jobs (ingest): progress, results, cancel."},
]
DESCRIPTION = (
    'Every error is JSON `{"error": "<code>", "message": "<what was wrong and how to fix '
    'it>", "details": ...}` with a 4xx status. Browsers sign in at /login and send the '
    f"session's CSRF token in `{CSRF_HEADER}` with every write; scripts send `Authorization: "
    "Bearer <token>` instead. Annotation writes need `If-Match` with the ETag last read (428 "
    "without it, 412 when stale). Geometries are RFC 7946 GeoJSON in WGS 84 longitude, "
    "latitude."
)
NOT_MODIFIED = "Your copy (If-None-Match) is current."


def path_parameter_components() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, (component, description, pattern) in PATH_PARAMETERS.items():
        schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
        found[component] = {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": schema,
        }
    found["IfNoneMatch"] = {
        "name": "If-None-Match",
        "in": "header",
        "description": "An ETag you hold; 304 when it is still current.",
        "schema": {"type": "string"},
    }
    return found


# --- shared by every route: errors, headers, security -------------------------------------------


def error_statuses() -> list[int]:
    """Every error status an API answer can carry: STATUS_TABLE's and the web layer's."""
    return sorted({status for _, status, _ in STATUS_TABLE} | set(WEB_ERROR_CODES))


def error_codes(status: int) -> list[str]:
    codes = [code for _, row_status, code in STATUS_TABLE if row_status == status]
    return codes + [code for code in WEB_ERROR_CODES.get(status, ()) if code not in codes]


def error_schema() -> dict[str, Any]:
    codes = sorted({code for status in error_statuses() for code in error_codes(status)})
    return {
        "type": "object",
        "required": ["error", "message", "details"],
        "properties": {
            "error": {"type": "string", "description": f"A short code, e.g. {', '.join(codes)}."},
            "message": {
                "type": "string",
                "description": "What was wrong and how to fix it, for a person.",
            },
            "details": {
                "description": "null, or an object that helps a client act: `current` (the "
                "current annotation, on 412 and 428), `closest` (labels, on an unknown label), "
                "`where` (the place in the input), `attributes` (per attribute faults); or, for "
                "a request that does not fit its model, the list of faults (`loc`, `msg`)."
            },
        },
    }


def responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in error_statuses():
        codes = error_codes(status)
        meaning = ERROR_MEANINGS.get(status, HTTPStatus(status).phrase)
        example = {"error": codes[0], "message": meaning, "details": None}
        responses[response_name(status)] = {
            "description": f"{meaning} Error codes: {', '.join(codes)}.",
            "content": {"application/json": {"schema": schema_ref("Error"), "example": example}},
        }
    return responses


def headers() -> dict[str, Any]:
    return {
        "ETag": {
            "description": 'The annotation\'s version, `"<id>-v<version>"`: send it back in '
            "If-Match with the next write.",
            "schema": {"type": "string"},
        },
        "Location": {"description": "Where the resource is.", "schema": {"type": "string"}},
        "CacheControl": {"schema": {"type": "string"}},
        "ContentDisposition": {
            "description": (
                "With `download`: an attachment named for the filters and the day, e.g. "
                '`attachment; filename="annotations-hmeimim-aircraft-2026-12-06.geojson"`.'
            ),
            "schema": {"type": "string"},
        },
    }


def security_schemes(cookie_name: str) -> dict[str, Any]:
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
        "readKey": {
            "type": "apiKey",
            "in": "query",
            "name": "key",
            "description": "A read-only key (the Keys page, or `annotator tokens create USER "
            "--scope read-tiles`) for clients that cannot send headers; only tiles, TileJSON, "
            "WMTS, COG downloads and OGC API reads take it. A write with a key is 403.",
        },
        "readKeyBasic": {
            "type": "http",
            "scheme": "basic",
            "description": "The same read-only key as the password of HTTP Basic (any user "
            "name), for QGIS's and GDAL's authentication settings.",
        },
    }


#: the reads a read-only key may make: a session, a token, or a key in either form
READ_KEY_SECURITY: list[dict[str, list[str]]] = [
    {"sessionCookie": []},
    {"bearerToken": []},
    {"readKey": []},
    {"readKeyBasic": []},
]
