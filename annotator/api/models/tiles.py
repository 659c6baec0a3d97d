"""TileJSON, and the path of an XYZ tile (checked by the view: 400 for a bad address)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from annotator.api.models.sites import BBox
from imagery.tiles import MEDIA_TYPES


class TileJSON(BaseModel):
    """Bounds, zoom range and the tile URL."""

    tilejson: Literal["3.0.0"]
    name: str
    version: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: BBox
    center: list[float]
    attribution: str


def tile_path_parameters() -> list[dict[str, Any]]:
    """z, x, y and the format, as the view reads them."""
    number = {"type": "integer", "minimum": 0}
    return [
        *({"name": name, "in": "path", "required": True, "schema": number} for name in "zxy"),
        {"name": "fmt", "in": "path", "required": True, "schema": {"enum": list(MEDIA_TYPES)}},
    ]
