"""POST /api/v1/imports: a multipart form (read by the view, documented by ImportUpload) and
the report of what was, or would be, made."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from annotations.exchange.imports import LABEL_MAP_LIMIT


class ImportUpload(BaseModel):
    file: bytes = Field(description="The GIS file.", json_schema_extra={"format": "binary"})
    image: str | None = Field(default=None, description="Put every feature on this image.")
    label_field: str | None = Field(
        default=None,
        description="The field holding labels (default `label`, or the STAC item's "
        "`label:properties`).",
    )
    label_map: str | None = Field(
        default=None,
        description="Value -> label id, as a JSON object or two-column CSV (text or a file "
        f"part of at most {LABEL_MAP_LIMIT:,} bytes).",
    )
    dry_run: Literal["1", "true", "yes", "on", "0", "false"] | None = None


class ImportSource(BaseModel):
    name: str
    sha256: str
    format: Literal["geojson", "gpkg", "shapefile", "kml", "kmz", "stac"]
    layers: list[str]
    features: int = Field(ge=0)


class NotImported(BaseModel):
    layer: str
    number: int = Field(ge=0)
    feature_id: str | None = None
    kind: Literal["invalid", "outside", "duplicate"]
    reason: str


class ImportReport(BaseModel):
    """What was made, or would be (a dry run), and every feature left out with its reason."""

    source: ImportSource
    dry_run: bool
    label_field: str | None = None
    would_create: int = Field(ge=0)
    created: int = Field(ge=0)
    already_imported: int = Field(default=0, ge=0)
    outside_every_image: int = Field(default=0, ge=0)
    invalid: int = Field(default=0, ge=0)
    unknown_labels: list[str] = []
    by_label: dict[str, int] = {}
    by_image: dict[str, int] = {}
    not_imported: list[NotImported]
    annotation_ids: list[str] = []
