"""Small helpers the seed modules share to write realistic rows as plain data.

Nothing here reads the app's code: a seed row is what the table held at its revision, so
it must not change when the app's models or serialisers change later.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

Row = dict[str, Any]
Ring = list[list[float]]


def at(text: str) -> datetime:
    """A naive UTC timestamp, as the DateTime columns store them: at("2024-12-10 08:21")."""
    return datetime.fromisoformat(text)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rectangle(west: float, south: float, east: float, north: float) -> Ring:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def polygon(ring: Ring) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))


def bounds(geometry: str) -> dict[str, float]:
    """The bounding-box columns of a GeoJSON geometry (Point, LineString or Polygon)."""
    shape = json.loads(geometry)
    coordinates = shape["coordinates"]
    if shape["type"] == "Point":
        points = [coordinates]
    elif shape["type"] == "LineString":
        points = coordinates
    else:
        points = [p for ring in coordinates for p in ring]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return {"min_lon": min(lons), "min_lat": min(lats), "max_lon": max(lons), "max_lat": max(lats)}


def feature(annotation: Row, label_name: str | None = None) -> str:
    """The Feature JSON a revision's before/after held for `annotation` (a seed row)."""
    properties = {
        "label": annotation["label"],
        "label_name": label_name,
        "shape": annotation["shape"],
        "confidence": annotation["confidence"],
        "count": annotation["count"],
        "attributes": json.loads(annotation["attributes_json"]),
        "notes": annotation["notes"],
        "image_id": annotation["image_id"],
        "observed_at": iso(annotation["observed_at"]),
        "status": annotation["status"],
        "version": annotation["version"],
        "created_by": annotation["created_by"],
        "created_at": iso(annotation["created_at"]),
        "updated_by": annotation["updated_by"],
        "updated_at": iso(annotation["updated_at"]),
        "deleted": annotation["deleted_at"] is not None,
    }
    if "derived_from" in annotation:
        properties["derived_from"] = annotation["derived_from"]
    body = {
        "type": "Feature",
        "id": annotation["id"],
        "geometry": json.loads(annotation["geometry_geojson"]),
        "properties": properties,
        "measurements": json.loads(annotation["measurements_json"]),
        "source": json.loads(annotation["source_json"]),
    }
    return json.dumps(body, ensure_ascii=False)


def history(annotation_id: str, steps: list[tuple[int, str, str, str | None, Row]]) -> list[Row]:
    """Revision rows: each step is (revision id, action, actor, comment, the annotation's row
    after it); a step's `before` is the previous step's `after`, as the app records them."""
    rows: list[Row] = []
    before: Row | None = None
    for revision, action, actor, comment, after in steps:
        rows.append(
            {
                "id": revision,
                "annotation_id": annotation_id,
                "version": after["version"],
                "action": action,
                "actor": actor,
                "at": after["updated_at"],
                "comment": comment,
                "before_json": None if before is None else feature(before),
                "after_json": feature(after),
            }
        )
        before = after
    return rows
