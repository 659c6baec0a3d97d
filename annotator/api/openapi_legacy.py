"""The hand-written OpenAPI of the routes not yet described by their contracts (annotator.api.
contract.operation): the annotations API. The builder (annotator.api.openapi) falls back to
these dicts for any view without `operation` metadata; delete a route's part here when its
view gets models and `operation`.
"""

from __future__ import annotations

from typing import Any

from annotations import annotation as annotation_rules
from annotations import geometry as geometry_rules
from annotations import history as history_rules
from annotations import review as review_rules
from annotations import search as search_rules
from annotations.labels.taxonomy import Taxonomy
from annotator.api.openapi_common import (
    ID_PATTERN,
    WRITE_SECURITY,
    attribute_schema_name,
    errors,
    json_content,
    ok,
    ref,
    schema_ref,
)

COUNT_MAX = 100_000  # properties.count, as parse_feature checks it
COMMENT_MAX = 2000  # 'comment' of an edit, as annotations_api._comment checks it
QUADRILATERAL_SHAPES = ("box", "rotated-box")  # 4 corners, 5 positions, as parse_feature checks


def schemas(taxonomy: Taxonomy) -> dict[str, Any]:
    schemas: dict[str, Any] = {
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
        **_workspace_schemas(),
    }
    return schemas


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


def parameters() -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "description": description, "schema": schema, **extra}

    return {
        "report": query(
            "report",
            "Annotations the report rests on: linked to it, to one of its claims, or grouped into "
            "an event linked to it. A report you may not see (a draft, to a viewer) selects "
            "nothing, as an id that does not exist.",
            {"type": "integer", "minimum": 1},
        ),
        "event": query(
            "event", "Annotations grouped into this event.", {"type": "integer", "minimum": 1}
        ),
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "The ETag of the version you edited (from GET, or the last write): "
            "428 without it, 412 when someone changed the annotation meanwhile.",
            "schema": {"type": "string"},
            "example": '"0123456789abcdef0123456789abcdef-v1"',
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


def paths(taxonomy: Taxonomy) -> dict[str, Any]:
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
    return {
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
        **_workspace_paths(),
    }


# --- the analyst workspace: copy to another capture, review --------------------------------


def _workspace_schemas() -> dict[str, Any]:
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
    }
