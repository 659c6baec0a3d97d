"""The file formats ingest opens, told apart by their first bytes, and the one GDAL driver
each may be opened with (so no VRT, URL or other driver is ever chosen by the file)."""

from __future__ import annotations

from pathlib import Path

#: first bytes -> (GDAL driver, what the format is called)
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"II*\x00", "GTiff", "TIFF"),
    (b"MM\x00*", "GTiff", "TIFF"),
    (b"II+\x00", "GTiff", "BigTIFF"),
    (b"MM\x00+", "GTiff", "BigTIFF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JP2OpenJPEG", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JP2OpenJPEG", "JPEG 2000 codestream"),
    (b"NITF02.10", "NITF", "NITF 2.1"),
    (b"NITF02.00", "NITF", "NITF 2.0"),
    (b"NSIF01.00", "NITF", "NSIF 1.0"),
)
HEAD_BYTES = max(len(magic) for magic, _, _ in SIGNATURES)
#: what the refusal names as accepted
ACCEPTED = "GeoTIFF, Cloud-Optimized GeoTIFF, JPEG 2000 or NITF"


def driver_for(head: bytes) -> str | None:
    """The GDAL driver for a file starting with `head`, or None if it is none of ours."""
    for magic, driver, _ in SIGNATURES:
        if head.startswith(magic):
            return driver
    return None


def read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)
