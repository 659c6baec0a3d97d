"""What a received file's header says about its capture, to prefill the upload form: the
TIFF date tag and the GDAL metadata a provider writes (sensor, provider, copyright).
Only the header is read (tags and the first directory), never a pixel."""

from __future__ import annotations

import warnings
from pathlib import Path

import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from imagery.ingest import TIFF_MAGIC, read_date

#: metadata keys (any domain's default list, upper case) that name each field, first wins
KEYS: dict[str, tuple[str, ...]] = {
    "sensor": ("SENSOR", "SATELLITEID", "SATELLITE", "PLATFORM", "INSTRUMENT", "SPACECRAFT"),
    "provider": ("PROVIDER", "VENDOR", "TIFFTAG_ARTIST", "PRODUCER"),
    "licence": ("LICENCE", "LICENSE"),
    "attribution": ("TIFFTAG_COPYRIGHT", "COPYRIGHT", "ATTRIBUTION"),
}


def nothing_found() -> dict[str, str | int | None]:
    """A header that says nothing: every field None."""
    return {"captured": None, **dict.fromkeys(KEYS)}


def read_header(path: Path) -> dict[str, str | int | None]:
    """Capture time (ISO 8601, UTC) and provenance found in the file's tags; None where the
    file says nothing, and nothing at all for a file that is no TIFF. Read a file that was
    sent to the app through `imagery.sandbox.read_header_isolated`."""
    found = nothing_found()
    with path.open("rb") as handle:
        if handle.read(4) not in TIFF_MAGIC:
            return found
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path, driver="GTiff") as dataset:
                tags = {k.upper(): v for k, v in dataset.tags().items() if isinstance(v, str)}
                found["width"], found["height"], found["bands"] = (
                    dataset.width,
                    dataset.height,
                    dataset.count,
                )
    except RasterioError:
        return found
    when = read_date(tags)
    found["captured"] = when.isoformat().replace("+00:00", "Z") if when else None
    for field, keys in KEYS.items():
        value = next((tags[k].strip() for k in keys if tags.get(k, "").strip()), None)
        found[field] = value[:200] if value else None
    return found
