"""Turn any georeferenced GeoTIFF into a stored Cloud-Optimized GeoTIFF and describe it.

The original is checked before a single pixel is read (magic bytes, driver, size,
georeference); the COG is written by rio-cogeo to a temporary file beside the store and
moved into place under the sha256 of the original only when everything succeeded.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
import rasterio.features
from affine import Affine
from pyproj import Geod, Transformer
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.vrt import WarpedVRT
from shapely.geometry import mapping

from imagery.cog import write_cog
from imagery.colours import low_range_stretch
from imagery.display import Display
from imagery.errors import (
    ImageryError,
    ImageTooLarge,
    NotAGeoTIFF,
    NotGeoreferenced,
    UnreadableImage,
    UnsupportedImage,
)
from imagery.footprint import (
    check_earth,
    footprint_wgs84,
    longitude_shift,
    sample_shape,
)
from imagery.georef.formats import ACCEPTED, driver_for, read_head
from imagery.georef.sidecars import find as find_sidecars
from imagery.georef.vendor import acquisition, captured_at
from imagery.georef.warp import Height, ground_placed, north_up

log = logging.getLogger(__name__)

#: Default ceiling on width x height; a header claiming more is refused before reading.
DEFAULT_MAX_PIXELS = 2_000_000_000
#: Signatures of classic TIFF and BigTIFF, little and big endian.
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
SUPPORTED_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
DATE_TAGS = ("TIFFTAG_DATETIME", "ACQUISITION_DATETIME", "ACQUISITIONDATETIME", "DATETIME")
GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class ImageFacts:
    """What ingest learned about one capture; the catalogue stores it as it is."""

    sha256: str
    cog_path: Path
    original_filename: str
    crs: str
    width: int
    height: int
    band_count: int
    dtype: str
    nodata: float | None
    mask: str
    gsd_m: float
    footprint: dict[str, Any]
    bounds: tuple[float, float, float, float]
    captured_at: datetime | None
    captured_source: str
    display: Display
    warped: bool
    tags: dict[str, str] = field(default_factory=dict)
    #: how it was placed (imagery.georef.models.Georeferencing.to_tags)
    georeferencing: dict[str, str] = field(default_factory=dict)
    #: capture facts from vendor headers and sidecars (imagery.georef.vendor)
    acquisition: dict[str, str] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    """Hash a file in 1 MiB chunks, so a large scene never sits in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_signature(path: Path, name: str | None = None) -> str:
    """Refuse empty files and anything whose first bytes are not a TIFF, JPEG 2000 or NITF
    header, and answer the one GDAL driver the file may be opened with; messages call the
    file `name`, the one the user sent (an upload is kept under a name of ours)."""
    name = name or path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotAGeoTIFF(f"cannot read {name}: {exc.strerror}") from exc
    if size == 0:
        raise NotAGeoTIFF(f"{name} is empty (0 bytes); expected a GeoTIFF")
    head = read_head(path)
    driver = driver_for(head)
    if driver is None:
        raise NotAGeoTIFF(
            f"{name} is not a TIFF, JPEG 2000 or NITF (it starts with {head[:4]!r}); "
            f"export the image as {ACCEPTED}"
        )
    return driver


@contextlib.contextmanager
def open_geotiff(path: Path, name: str | None = None) -> Iterator[rasterio.DatasetReader]:
    """Open with the one driver its first bytes name (GTiff, JP2OpenJPEG or NITF), so no
    VRT, URL or sidecar trick is followed."""
    name = name or path.name
    driver = check_signature(path, name)
    try:
        # the image's own sidecars beside it (an upload's folder holds only its files, named
        # by us): the .msk mask, .aux.xml and world file are read, as GDAL does by default
        with warnings.catch_warnings(), rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="FALSE"):
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(path, driver=driver)
    except RasterioError as exc:
        raise NotAGeoTIFF(
            f"{name} could not be opened as a GeoTIFF: {str(exc).replace(str(path), name)}"
        ) from exc
    try:
        if dataset.driver != driver:
            raise NotAGeoTIFF(f"{name} is read by GDAL's {dataset.driver} driver, not {driver}")
        yield dataset
    finally:
        dataset.close()


def check_dataset(
    dataset: rasterio.DatasetReader, name: str, max_pixels: int, *, placed: bool = False
) -> None:
    """Everything decidable from the header, before any pixel is read; `placed`: it has
    GCPs or RPCs instead of a CRS and geotransform (imagery.georef.warp checks those)."""
    pixels = dataset.width * dataset.height
    if pixels > max_pixels:
        raise ImageTooLarge(
            f"{name} claims {dataset.width} x {dataset.height} pixels "
            f"({pixels:,}), over the limit of {max_pixels:,}; "
            "cut it into smaller scenes or raise ANNOTATOR_MAX_IMAGE_PIXELS"
        )
    if dataset.count < 1:
        raise UnsupportedImage(f"{name} has no bands")
    dtypes = set(dataset.dtypes)
    if not dtypes <= SUPPORTED_DTYPES:
        raise UnsupportedImage(
            f"{name} has data type {', '.join(sorted(dtypes - SUPPORTED_DTYPES))}; "
            "supported are integer and floating-point bands"
        )
    if dataset.crs is None and not placed:
        raise NotGeoreferenced(
            f"{name} has no coordinate reference system (CRS); "
            "it cannot be placed on the map. Export it as a GeoTIFF with its CRS"
        )
    if dataset.transform == Affine.identity() and not placed:
        raise NotGeoreferenced(
            f"{name} has a CRS but no geotransform (pixel-to-map mapping is the identity); "
            "export it with its georeference"
        )
    if dataset.transform.determinant == 0:
        raise NotGeoreferenced(f"{name} has a degenerate geotransform (zero pixel size)")


def is_rotated(transform: Affine) -> bool:
    return transform.b != 0 or transform.d != 0


def read_date(tags: dict[str, str]) -> datetime | None:
    """Parse the TIFF date tags ('YYYY:MM:DD HH:MM:SS', taken as UTC) or ISO 8601."""
    for key in DATE_TAGS:
        raw = tags.get(key)
        if not raw:
            continue
        match = re.fullmatch(
            r"\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})\S*\s*", raw
        )
        if match:
            with contextlib.suppress(ValueError):
                year, month, day, hour, minute, second = (int(p) for p in match.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def display_bands(dataset: rasterio.DatasetReader) -> tuple[int, ...]:
    """Red, green, blue by colour interpretation when present, else the first band."""
    interp = list(dataset.colorinterp)
    colour = [b for b in range(1, dataset.count + 1) if interp[b - 1] != ColorInterp.alpha]
    wanted = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    if all(c in interp for c in wanted):
        return tuple(interp.index(c) + 1 for c in wanted)
    if len(colour) >= 3:
        return tuple(colour[:3])
    return (colour[0] if colour else 1,)


def mask_kind(dataset: rasterio.DatasetReader) -> str:
    flags = dataset.mask_flag_enums[0]
    if MaskFlags.alpha in flags:
        return "alpha"
    if MaskFlags.nodata in flags:
        return "nodata"
    if MaskFlags.per_dataset in flags:
        return "mask"
    return "none"


def percentile_stretch(
    dataset: rasterio.DatasetReader, bands: tuple[int, ...]
) -> tuple[tuple[float, float], ...] | None:
    """A 2-98 % stretch per band, from a decimated read of the valid pixels."""
    out_h, out_w = sample_shape(dataset)
    data = dataset.read(list(bands), out_shape=(len(bands), out_h, out_w), masked=True)
    if all(dataset.dtypes[b - 1] == "uint8" for b in bands):
        return low_range_stretch(dataset, bands, data)  # None unless too dark to see
    ranges = []
    for band in data:
        valid = band.compressed()
        valid = valid[np.isfinite(valid)]
        if valid.size == 0:
            raise UnsupportedImage("the image has no valid pixels to display")
        with np.errstate(all="ignore"):
            low, high = (float(v) for v in np.percentile(valid, [2, 98]))
        if not (math.isfinite(low) and math.isfinite(high)):
            # interpolating between values near the float limits overflows: take data values
            low, high = (float(v) for v in np.percentile(valid, [2, 98], method="nearest"))
        ranges.append(stretch_range(low, high))
    return tuple(ranges)


def stretch_range(low: float, high: float) -> tuple[float, float]:
    """A (low, high) with high > low, both finite, for any finite pair: a flat band gets a
    span of 1 (or, where 1 is below the float spacing, as near 1e308, a relative one)."""
    low, high = round(low, 6), round(high, 6)
    if high > low:
        return low, high
    span = max(1.0, abs(low) * 2.0**-20)
    if math.isfinite(low + span):
        return low, low + span
    return low - span, low


def gsd_metres(dataset: rasterio.DatasetReader) -> float:
    """Nominal pixel size in metres: from the CRS units if projected, geodesic if not."""
    transform = dataset.transform
    size_x = abs(transform.a)
    size_y = abs(transform.e)
    if dataset.crs.is_projected:
        _, factor = dataset.crs.linear_units_factor
        return round((size_x + size_y) / 2 * factor, 4)
    to_wgs84 = Transformer.from_crs(dataset.crs, "EPSG:4326", always_xy=True)
    col, row = dataset.width / 2, dataset.height / 2
    xs, ys = zip(
        *(transform @ (c, r) for c, r in ((col, row), (col + 1, row), (col, row + 1))), strict=True
    )
    lons, lats = to_wgs84.transform(xs, ys)
    _, _, dx = GEOD.inv(lons[0], lats[0], lons[1], lats[1])
    _, _, dy = GEOD.inv(lons[0], lats[0], lons[2], lats[2])
    return round((dx + dy) / 2, 4)


def overview_resampling(dataset: rasterio.DatasetReader) -> Literal["average", "nearest"]:
    """'average', unless a sum of pixels could overflow: GDAL averages by summing, so a
    float image with values near its type's limit (1e308, 3e38) would get overviews of
    nothing but infinity."""
    floats = [np.dtype(d) for d in dataset.dtypes if np.dtype(d).kind == "f"]
    if not floats:
        return "average"
    out_h, out_w = sample_shape(dataset)
    sample = dataset.read(out_shape=(dataset.count, out_h, out_w))
    finite = np.abs(sample[np.isfinite(sample)])
    # room for the 256 x 256 pixels one value of the coarsest overview may sum
    limit = min(float(np.finfo(d).max) for d in floats) / 2**16
    return "nearest" if finite.size and float(finite.max()) > limit else "average"


def ingest(
    path: Path,
    store: Path,
    *,
    original_filename: str | None = None,
    sha256: str | None = None,
    captured: datetime | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    height: Height | None = None,
) -> ImageFacts:
    """Validate `path`, write `<store>/<sha256>.tif` as a COG and describe it. `height`:
    the ground height for an image placed by RPCs (imagery.georef.warp.Height).

    Nothing is left in `store` when this raises. Logged: its beginning with the source's
    size, its end with the pixels, the COG's size and the seconds taken, or why it failed.
    """
    name = original_filename or path.name
    started = time.perf_counter()
    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None  # said by the checks below, in the user's words
    log.info(
        "ingest begins: %s, %s bytes",
        name,
        size,
        extra={"event": "ingest.begin", "file": name, "source_bytes": size},
    )
    try:
        facts = _ingest(path, store, name, sha256, captured, max_pixels, height or Height())
    except BaseException as exc:
        seconds = round(time.perf_counter() - started, 3)
        log.warning(
            "ingest of %s failed after %.2f s: %s",
            name,
            seconds,
            _first_line(exc),
            extra={"event": "ingest.failed", "file": name, "seconds": seconds},
        )
        raise
    seconds = round(time.perf_counter() - started, 3)
    cog_bytes = facts.cog_path.stat().st_size
    log.info(
        "ingest ends: %s, %d x %d pixels, %d bands %s, COG %d bytes, %.2f s",
        name,
        facts.width,
        facts.height,
        facts.band_count,
        facts.dtype,
        cog_bytes,
        seconds,
        extra={
            "event": "ingest.end",
            "file": name,
            "source_bytes": size,
            "pixels": facts.width * facts.height,
            "cog_bytes": cog_bytes,
            "seconds": seconds,
        },
    )
    return facts


def _ingest(
    path: Path,
    store: Path,
    name: str,
    sha256: str | None,
    captured: datetime | None,
    max_pixels: int,
    height: Height,
) -> ImageFacts:
    digest = sha256 or sha256_file(path)
    store.mkdir(parents=True, exist_ok=True)
    final = store / f"{digest}.tif"
    handle, tmp_name = tempfile.mkstemp(prefix=".ingest-", suffix=".tif", dir=store)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        with open_geotiff(path, name) as src, contextlib.ExitStack() as stack:
            sidecars = find_sidecars(path)
            check_dataset(src, name, max_pixels, placed=ground_placed(src, sidecars))
            acquired = acquisition(src, src.driver, sidecars)
            tags = {k: v for k, v in src.tags().items() if isinstance(v, str)}
            # GCPs or RPCs: warped north-up into a file beside the store, read from now on
            src, georef = stack.enter_context(north_up(src, name, sidecars, store, height))
            check_earth(src.crs, name)
            rotated = is_rotated(src.transform)
            shift = longitude_shift(src, name)
            try:
                overviews = overview_resampling(src)
                if rotated or shift:
                    # a VRT in the same CRS: north up if rotated, moved by `shift` degrees
                    placed = Affine.translation(shift, 0) * src.transform
                    grid = (
                        {}
                        if rotated
                        else {"transform": placed, "width": src.width, "height": src.height}
                    )
                    with WarpedVRT(
                        src,
                        crs=src.crs,
                        src_transform=placed,
                        resampling=Resampling.nearest,
                        # rotated or sheared: the corners outside the image transparent
                        add_alpha=rotated and mask_kind(src) in ("none", "mask"),
                        **grid,
                    ) as vrt:
                        write_cog(vrt, tmp, overviews)
                else:
                    write_cog(src, tmp, overviews)
            except (RasterioError, OSError, ValueError) as exc:
                if _no_room(exc, store, path):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(store)) from exc
                raise UnreadableImage(
                    f"{name} opened but its pixels could not be read ({_first_line(exc)}); "
                    "the file may be truncated or corrupt"
                ) from exc
        facts = describe(tmp, final, name, digest, tags, captured, rotated)
        facts = _with_vendor_facts(facts, georef.to_tags(), acquired)
        os.replace(tmp, final)
        return facts
    except ImageryError as exc:
        named = _named(exc, name, (path, tmp))
        if named is exc:
            raise
        raise named from exc
    finally:
        tmp.unlink(missing_ok=True)


def _with_vendor_facts(
    facts: ImageFacts, georeferencing: dict[str, str], acquired: dict[str, str]
) -> ImageFacts:
    """How the image was placed, and its capture facts; a vendor's capture time only when
    neither a TIFF tag nor the user gave one."""
    when = captured_at(acquired)
    warped = facts.warped or georeferencing.get("method", "geotransform") != "geotransform"
    facts = replace(facts, georeferencing=georeferencing, acquisition=acquired, warped=warped)
    if facts.captured_source == "unknown" and when is not None:
        source = acquired.get("source", "vendor").split(",")[0][:16]
        facts = replace(facts, captured_at=when, captured_source=source)
    return facts


def _named(exc: ImageryError, name: str, ours: tuple[Path, ...]) -> ImageryError:
    """The same error, its message naming the file the user sent: never a path or name of
    ours (an upload's temporary copy, the COG being written), which GDAL's text may hold."""
    text = str(exc)
    for path in ours:
        text = text.replace(str(path), name)
    for path in ours:
        if path.name != name:
            text = re.sub(rf"(?<![\w.-]){re.escape(path.name)}(?![\w.-])", name, text)
    if name not in text:
        text = f"{name}: {text}"
    return exc if text == str(exc) else type(exc)(text)


def describe(
    cog: Path,
    final: Path,
    name: str,
    digest: str,
    tags: dict[str, str],
    captured: datetime | None,
    warped: bool,
) -> ImageFacts:
    with rasterio.open(cog, driver="GTiff") as dataset:
        bands = display_bands(dataset)
        footprint = footprint_wgs84(dataset)
        tag_time = read_date(tags)
        if tag_time is not None:
            captured_at, captured_source = tag_time, "tiff-tag"
        elif captured is not None:
            captured_at, captured_source = captured.astimezone(UTC), "user"
        else:
            captured_at, captured_source = None, "unknown"
        epsg = dataset.crs.to_epsg()
        west, south, east, north = footprint.bounds
        gsd_m = gsd_metres(dataset)
        if not (math.isfinite(gsd_m) and gsd_m > 0):
            raise NotGeoreferenced(
                f"{name}: no pixel size in metres can be worked out from its georeference; "
                "check its CRS and geotransform"
            )
        return ImageFacts(
            sha256=digest,
            cog_path=final,
            original_filename=name,
            crs=f"EPSG:{epsg}" if epsg else dataset.crs.to_wkt(),
            width=dataset.width,
            height=dataset.height,
            band_count=dataset.count,
            dtype=dataset.dtypes[0],
            nodata=None if dataset.nodata is None else float(dataset.nodata),
            mask=mask_kind(dataset),
            gsd_m=gsd_m,
            footprint=mapping(footprint),
            bounds=(west, south, east, north),
            captured_at=captured_at,
            captured_source=captured_source,
            display=Display(bands=bands, rescale=percentile_stretch(dataset, bands)),
            warped=warped,
            tags=tags,
        )


def _no_room(exc: BaseException, store: Path, source: Path) -> bool:
    """Whether writing the COG failed for want of disk space. GDAL reports a full disk as
    a bare "write error" (libtiff prints the errno and does not pass it on), so when no
    ENOSPC is in the chain, a failure with less room left in the store than the original
    takes counts as one: a COG needs about that much, and a corrupt original fails to
    read, not to write."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        cause = cause.__cause__ or cause.__context__
    try:
        room = shutil.disk_usage(store).free
        return room < source.stat().st_size
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
