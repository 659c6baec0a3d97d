"""Images: the catalogue, and GeoTIFF uploads (a multipart form, documented by ImageUpload)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel

from annotations.catalogue.images import TEXT_LIMIT
from annotator.api.models.sites import BBox, Polygonal
from annotator.api.openapi_common import ID_PATTERN

DATE_TIME: dict[str, Any] = {"format": "date-time"}


class Image(BaseModel):
    """The image."""

    id: str = Field(pattern=ID_PATTERN)
    sha256: str
    original_filename: str
    captured_at: str | None = Field(json_schema_extra=DATE_TIME)
    captured_source: str
    provider: str | None
    sensor: str | None
    licence: str | None
    attribution: str | None
    description: str | None
    synthetic: bool
    crs: str
    width: int
    height: int
    band_count: int
    dtype: str
    nodata: float | None
    mask: str
    gsd_m: float = Field(description="ground sample distance in metres")
    bbox: BBox
    footprint: Polygonal
    display: dict[str, Any]
    warped: bool
    georeferencing: dict[str, str] = Field(
        description="how the image was placed: `method` (geotransform, rotated, sheared, "
        "gcp-polynomial, gcp-tps, rpc), `text` in words, and where they apply `rms_m`, "
        "`points`, `order`, `height_m`"
    )
    acquisition: dict[str, str] = Field(
        description="capture facts read from vendor headers and metadata files: "
        "captured_at, platform, instrument, provider, off_nadir_deg, sun_azimuth_deg, "
        "sun_elevation_deg, source (nitf-header, imd, dimap)"
    )
    sites: list[str]
    created_at: str = Field(json_schema_extra=DATE_TIME)
    created_by: str | None


class ImageList(BaseModel):
    """The images."""

    images: list[Image]


class ImportedImage(Image):
    created: bool = Field(description="false: the same file was catalogued already")


class ImportedImages(BaseModel):
    images: list[ImportedImage]


class UploadResult(RootModel[ImportedImage | ImportedImages]):
    """One file answers the image, several `{"images": [...]}`."""


def _text() -> Any:
    return Field(default=None, max_length=TEXT_LIMIT)


class ImageUpload(BaseModel):
    """The multipart form of an upload (read by the view, documented here)."""

    file: list[bytes] = Field(
        min_length=1,
        description="One or more georeferenced GeoTIFFs; all are imported or none.",
        json_schema_extra={
            "items": {"type": "string", "format": "binary", "contentMediaType": "image/tiff"}
        },
    )
    site: list[str] = Field(default=[], description="Slugs of sites to attach the images to.")
    captured: str | None = Field(
        default=None,
        description="Capture time when the file has no TIFF date tag.",
        json_schema_extra=DATE_TIME,
    )
    provider: str | None = _text()
    sensor: str | None = _text()
    licence: str | None = _text()
    attribution: str | None = _text()
    description: str | None = _text()
    height: float | None = Field(
        default=None,
        gt=-500,
        lt=9000,
        description="Ground height in metres at which images placed by RPCs are "
        "orthorectified (else 0 m, or the deployment's DEM).",
    )


class CoordinateQuery(BaseModel):
    """A coordinate as typed (`q`), or a point (`lat`, `lon`) to write in every notation."""

    q: str | None = Field(
        default=None,
        max_length=100,
        description="Decimal degrees (35.4011, 35.9483), DMS (35°24'04\"N 35°56'54\"E, "
        "spaces or ' \" or d for the symbols, hemisphere letters before or after) or MGRS "
        "(36S YE 67759 21519). Latitude first unless letters say otherwise.",
    )
    lat: float | None = Field(default=None, ge=-90, le=90, description="With lon, instead of q.")
    lon: float | None = Field(default=None, ge=-180, le=180, description="With lat, instead of q.")


class Coordinate(BaseModel):
    """One point: WGS 84 degrees, and the same point written three ways."""

    lat: float
    lon: float
    decimal: str = Field(description="35.401111, 35.948333")
    dms: str = Field(description="35°24'04.0\"N 35°56'54.0\"E (seconds to a tenth)")
    mgrs: str | None = Field(description="36S YE 67759 21519 (1 m); null where MGRS has none")
