"""The parts of the OpenAPI document no route's models describe, built by hand from the domain's
constants: the GeoJSON geometry that annotations.geometry.parse_geometry reads, the If-Match
header of annotation writes, and which attributes go with which label (from the loaded
taxonomy). Everything else comes from the routes' contracts (annotator.api.contract)."""

from __future__ import annotations

from typing import Any

from annotations import geometry as geometry_rules
from annotations.labels.taxonomy import Taxonomy
from annotator.api.models.annotations import attributes_by_label
from annotator.api.openapi_common import schema_ref


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
