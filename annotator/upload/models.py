"""The uploads API's bodies and answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

UploadId = Field(pattern="^[0-9a-f]{32}$")


class UploadStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, description="The file's name (a label).")
    size: int = Field(ge=1, description="The whole file's size in bytes.")


class UploadOut(BaseModel):
    """An upload: `received` is where the next chunk must start."""

    id: str = UploadId
    name: str
    size: int
    received: int
    complete: bool


class Header(BaseModel):
    """What the file's header says (None where it says nothing), to prefill the form."""

    captured: str | None
    provider: str | None
    sensor: str | None
    licence: str | None
    attribution: str | None
    width: int | None = None
    height: int | None = None
    bands: int | None = None


def _text() -> str | None:
    return Field(default=None, max_length=500)


class UploadIngest(BaseModel):
    """Finished uploads to ingest together (sidecars go beside the image of their stem)."""

    model_config = ConfigDict(extra="forbid")

    uploads: list[str] = Field(min_length=1, max_length=100, description="Upload ids.")
    sites: list[str] = Field(default=[], max_length=20, description="Site slugs.")
    captured: str | None = Field(
        default=None, max_length=64, description="Capture time when the file has no date tag."
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
        allow_inf_nan=False,
        description="Ground height in metres at which images placed by RPCs are "
        "orthorectified (else 0 m, or the deployment's DEM).",
    )
