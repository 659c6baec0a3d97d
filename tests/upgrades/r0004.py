"""Rows written at 0004: an imported annotation, which remembers its source feature."""

from __future__ import annotations

import json

from tests.upgrades.r0001 import IMAGE_3
from tests.upgrades.r0002 import SOURCE_3
from tests.upgrades.rows import Row, at, bounds, history, sha256

IMPORTED = "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5"


def carry(table: str, row: Row) -> Row:
    """0004 adds annotations.import_key, empty: annotations made before it were not imported
    with a key, so importing their file again may add them again (as before 0004)."""
    if table == "annotations":
        return {**row, "import_key": None}
    return row


geometry = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [
            [[35.8701, 34.9101], [35.8712, 34.9101], [35.8712, 34.9108], [35.8701, 34.9101]]
        ],
    }
)
imported = {
    "id": IMPORTED,
    "image_id": IMAGE_3,
    "label": "ship.landing",
    "shape": "polygon",
    "confidence": "probable",
    "count": 1,
    "attributes_json": json.dumps({"moored": True}),
    "notes": "from the partner's GeoPackage (feature 17)",
    "observed_at": None,
    "status": "draft",
    "version": 1,
    "geometry_geojson": geometry,
    "measurements_json": json.dumps({"area_m2": 3899.7, "perimeter_m": 330.12}),
    "source_json": SOURCE_3,
    "created_by": "ingest-bot",
    "created_at": at("2024-12-17 02:00:00"),
    "updated_by": "ingest-bot",
    "updated_at": at("2024-12-17 02:00:00"),
    "deleted_at": None,
    "deleted_by": None,
    **bounds(geometry),
    "derived_from": None,
    "import_key": sha256("partner.gpkg|17|" + geometry + "|" + IMAGE_3),
}

ROWS: dict[str, list[Row]] = {
    "annotations": [imported],
    "revisions": history(
        IMPORTED, [(14, "create", "ingest-bot", "imported from partner.gpkg", imported)]
    ),
}
