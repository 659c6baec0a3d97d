"""Rows written at 0002: annotations of every shape, with their revisions (edits, review,
a delete, a delete then restore)."""

from __future__ import annotations

import json

from tests.upgrades.r0001 import IMAGE_1, IMAGE_2, IMAGE_3
from tests.upgrades.rows import Row, at, bounds, history, polygon, rectangle

SOURCE_1 = json.dumps(
    {
        "image_sha256": "e3b4f5c2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4",
        "provider": "Airbus DS (Pléiades Neo)",
        "licence": "newsroom licence 2024-117",
        "attribution": "© Airbus DS 2024",
        "gsd_m": 0.5,
        "captured_at": "2024-12-10T08:21:00Z",
        "synthetic": False,
    }
)
SOURCE_3 = json.dumps(
    {
        "image_sha256": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
        "provider": None,
        "licence": None,
        "attribution": None,
        "gsd_m": 0.3,
        "captured_at": None,
        "synthetic": False,
    }
)

BOX = "b0c1d2e3f4a5469788796a5b4c3d2e1f"
ROTATED = "193a6c732a7c43e9bdc01d7aaf8fb1b0"
POLYGON = "c7d8e9f0a1b24c3d9e8f7a6b5c4d3e2f"
LINE = "d1e2f3a4b5c64d7e8f9a0b1c2d3e4f5a"
POINT = "e14d9303441d4f7c8661c2c549d6ba0d"


def _annotation(annotation_id: str, geometry: str, **columns: object) -> Row:
    return {
        "id": annotation_id,
        "image_id": IMAGE_1,
        "label": "aircraft.transport.il-76",
        "shape": "box",
        "confidence": "confirmed",
        "count": 1,
        "attributes_json": "{}",
        "notes": "",
        "observed_at": at("2024-12-10 08:21:00"),
        "status": "draft",
        "version": 1,
        "geometry_geojson": geometry,
        "measurements_json": "{}",
        "source_json": SOURCE_1,
        "created_by": "analyst",
        "created_at": at("2024-12-11 09:00:00"),
        "updated_by": "analyst",
        "updated_at": at("2024-12-11 09:00:00"),
        "deleted_at": None,
        "deleted_by": None,
        **bounds(geometry),
        **columns,
    }


# a box, moved once, then reviewed and approved
box_1 = _annotation(
    BOX,
    polygon(rectangle(35.9515803, 35.4094155, 35.9521657, 35.4098662)),
    attributes_json=json.dumps({"state": "parked", "heading_deg": 262.0}),
    measurements_json=json.dumps(
        {"length_m": 50.51, "width_m": 46.61, "area_m2": 2353.3, "perimeter_m": 194.2}
    ),
)
box_2 = {
    **box_1,
    **bounds(box_moved := polygon(rectangle(35.9515903, 35.4094155, 35.9521757, 35.4098762))),
    "geometry_geojson": box_moved,
    "version": 2,
    "updated_at": at("2024-12-11 09:04:10.123456"),
}
box_3 = {**box_2, "status": "in_review", "version": 3, "updated_at": at("2024-12-11 09:05:00")}
box_4 = {
    **box_3,
    "status": "approved",
    "version": 4,
    "updated_by": "editor",
    "updated_at": at("2024-12-11 15:30:00"),
}

# a rotated box (an An-124 with its nose open), sent to review
rotated_1 = _annotation(
    ROTATED,
    polygon(
        [
            [35.9516876, 35.4092414],
            [35.9517649, 35.4087907],
            [35.952273, 35.4088491],
            [35.9521956, 35.4092999],
            [35.9516876, 35.4092414],
        ]
    ),
    image_id=IMAGE_2,
    label="aircraft.transport.an-124",
    shape="rotated-box",
    confidence="probable",
    attributes_json=json.dumps({"heading_deg": 172.0, "state": "nose door open"}),
    measurements_json=json.dumps(
        {
            "length_m": 73.3,
            "width_m": 68.96,
            "area_m2": 5054.2,
            "perimeter_m": 284.5,
            "heading_deg": 172.0,
        }
    ),
    observed_at=at("2024-12-13 08:19:30"),
    created_at=at("2024-12-14 10:00:00"),
    updated_at=at("2024-12-14 10:00:00"),
)
rotated_2 = {
    **rotated_1,
    "status": "in_review",
    "version": 2,
    "updated_at": at("2024-12-14 10:02:00"),
}

# a polygon (a hangar) deleted by mistake, then restored
polygon_1 = _annotation(
    POLYGON,
    polygon(
        [
            [35.9440, 35.4000],
            [35.9452, 35.4001],
            [35.9453, 35.4009],
            [35.9446, 35.4012],
            [35.9439, 35.4008],
            [35.9440, 35.4000],
        ]
    ),
    label="structure.hangar",
    shape="polygon",
    confidence="possible",
    count=1,
    notes="Roof partly collapsed; compare with the 13 Dec pass.\nSecond line, «quoted».",
    measurements_json=json.dumps({"area_m2": 8120.4, "perimeter_m": 371.9}),
    observed_at=None,
    created_at=at("2024-12-11 16:00:00"),
    updated_at=at("2024-12-11 16:00:00"),
)
polygon_2 = {
    **polygon_1,
    "version": 2,
    "updated_by": "editor",
    "updated_at": at("2024-12-12 08:00:00"),
    "deleted_at": at("2024-12-12 08:00:00"),
    "deleted_by": "editor",
}
polygon_3 = {
    **polygon_2,
    "version": 3,
    "updated_by": "analyst",
    "updated_at": at("2024-12-12 09:15:00"),
    "deleted_at": None,
    "deleted_by": None,
}

# a line (a taxiway convoy) on the Tartus image, never reviewed
line_1 = _annotation(
    LINE,
    json.dumps(
        {"type": "LineString", "coordinates": [[35.865, 34.90], [35.87, 34.905], [35.88, 34.91]]}
    ),
    image_id=IMAGE_3,
    label="vehicle.convoy",
    shape="line",
    confidence="possible",
    count=14,
    attributes_json=json.dumps({"vehicles": 14}),
    notes="about 14 vehicles heading north-east",
    measurements_json=json.dumps({"length_m": 1734.55}),
    source_json=SOURCE_3,
    observed_at=None,
    created_by="ingest-bot",
    created_at=at("2024-12-15 03:00:00"),
    updated_by="ingest-bot",
    updated_at=at("2024-12-15 03:00:00"),
)

# a point (a helicopter), deleted
point_1 = _annotation(
    POINT,
    json.dumps({"type": "Point", "coordinates": [35.9501, 35.4021]}),
    label="aircraft.helicopter.mi-8",
    shape="point",
    confidence="possible",
    created_at=at("2024-12-11 09:10:00"),
    updated_at=at("2024-12-11 09:10:00"),
)
point_2 = {
    **point_1,
    "version": 2,
    "updated_at": at("2024-12-11 11:00:00"),
    "deleted_at": at("2024-12-11 11:00:00"),
    "deleted_by": "analyst",
}

annotation_rows: list[Row] = [box_4, rotated_2, polygon_3, line_1, point_2]
# revisions in the order they were written (ids ascending through time)
revisions: list[Row] = sorted(
    [
        *history(
            BOX,
            [
                (1, "create", "analyst", None, box_1),
                (2, "edit", "analyst", "nudged to the shadow's edge", box_2),
                (3, "status", "analyst", None, box_3),
                (6, "status", "editor", "checked against the 13 Dec pass", box_4),
            ],
        ),
        *history(
            POINT,
            [
                (4, "create", "analyst", None, point_1),
                (5, "delete", "analyst", "duplicate of a box", point_2),
            ],
        ),
        *history(
            POLYGON,
            [
                (7, "create", "analyst", None, polygon_1),
                (8, "delete", "editor", None, polygon_2),
                (9, "restore", "analyst", "deleted by mistake", polygon_3),
            ],
        ),
        *history(
            ROTATED,
            [
                (10, "create", "analyst", None, rotated_1),
                (11, "status", "analyst", None, rotated_2),
            ],
        ),
        *history(LINE, [(12, "create", "ingest-bot", "imported from convoy.geojson", line_1)]),
    ],
    key=lambda row: row["id"],
)

ROWS: dict[str, list[Row]] = {"annotations": annotation_rows, "revisions": revisions}
