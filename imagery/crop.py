"""A window of a stored COG, warped to any CRS at any size: the pixels behind a figure or a map.

Tiles answer a browser's XYZ grid; a story output instead needs one picture of the area around
some annotations, in a CRS and at a size of its own choosing. rio-tiler's `part` does the warp
(with bilinear resampling, since a print figure usually enlarges the pixels) and the stored
display (band order, contrast stretch) turns the result into RGBA.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

from imagery import encode
from imagery.display import Display
from imagery.errors import UnreadableImage, UnsupportedImage
from imagery.ingest import display_bands, percentile_stretch
from imagery.tiles import finite_mask, tileset_info, to_rgb8

#: Largest side, in pixels, of a crop embedded in a standalone map.
MAP_CROP_MAX = 1600


@dataclass(frozen=True)
class Crop:
    """RGBA pixels (h x w x 4, uint8; transparent off the image) covering `bounds` in `crs`."""

    pixels: np.ndarray[Any, Any]
    bounds: tuple[float, float, float, float]
    crs: str

    def png(self) -> bytes:
        return encode.png(self.pixels)

    def webp(self) -> bytes:
        """Lossy but small, with the transparency kept: for maps embedded in a page."""
        return encode.webp(self.pixels, quality=88)


def display_of(path: Path) -> Display:
    """The display ingest chose for this COG (same bands, same stretch: both read the COG)."""
    with _open(path) as dataset:
        bands = display_bands(dataset)
        return Display(bands=bands, rescale=percentile_stretch(dataset, bands))


def native_crs(path: Path) -> str:
    with _open(path) as dataset:
        crs = CRS.from_user_input(dataset.crs.to_wkt())
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def metric_crs(path: Path, lon: float, lat: float) -> str:
    """The image's own CRS when it is projected (no resampling across grids), else the UTM zone
    of (lon, lat), so that a figure is drawn in metres either way."""
    crs = native_crs(path)
    if CRS.from_user_input(crs).is_projected:
        return crs
    zones = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    return f"EPSG:{zones[0].code}" if zones else "EPSG:3857"


def read_crop(
    path: Path,
    bounds: tuple[float, float, float, float],
    crs: str,
    width: int,
    height: int,
    display: Display | None = None,
) -> Crop:
    """`bounds` of the image in `crs`, as exactly `width` x `height` RGBA pixels."""
    from rio_tiler.io import Reader  # when first used: it costs every command half a second

    display = display or display_of(path)
    try:
        with _quiet(), Reader(str(path)) as reader:
            image = reader.part(
                bounds,
                dst_crs=CRS.from_user_input(crs),
                bounds_crs=CRS.from_user_input(crs),
                indexes=display.bands,
                width=width,
                height=height,
                resampling_method="bilinear",
                reproject_method="bilinear",
            )
    except RasterioIOError as exc:
        raise UnreadableImage(f"the stored image {path.name} could not be read: {exc}") from exc
    rgb = to_rgb8(image.array.data, display)
    if rgb.shape[0] == 1:
        rgb = np.repeat(rgb, 3, axis=0)
    # rio-tiler gives the mask in the data type (uint16 here); NaN and infinity are nodata
    mask = finite_mask(image.array.data, image.mask).astype(np.uint8)
    pixels = np.concatenate([np.moveaxis(rgb, 0, -1), mask[..., np.newaxis]], axis=2)
    return Crop(pixels=np.ascontiguousarray(pixels), bounds=bounds, crs=crs)


def map_crop(
    path: Path,
    lonlat_bounds: tuple[float, float, float, float],
    gsd_m: float,
    max_size: int = MAP_CROP_MAX,
) -> tuple[Crop, tuple[float, float, float, float]]:
    """The area in WGS 84 `lonlat_bounds` that the image covers, warped to Web Mercator for a
    Leaflet image overlay, at the image's own resolution or coarser so that its longer side is
    at most `max_size`; with the overlay's (west, south, east, north)."""
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    image_west, image_south, image_east, image_north = tileset_info(str(path)).bounds
    west, south, east, north = lonlat_bounds
    west, south = max(west, image_west), max(south, image_south)
    east, north = min(east, image_east), min(north, image_north)
    if west >= east or south >= north:
        raise UnsupportedImage(f"the image {path.name} does not cover the area asked for")
    left, bottom = to_mercator.transform(west, south)
    right, top = to_mercator.transform(east, north)
    # Mercator metres are 1/cos(lat) ground metres
    stretch = 1 / max(np.cos(np.radians((south + north) / 2)), 1e-6)
    pixel = max(gsd_m * stretch, max(right - left, top - bottom) / max_size)
    width = max(1, round((right - left) / pixel))
    height = max(1, round((top - bottom) / pixel))
    crop = read_crop(path, (left, bottom, right, top), "EPSG:3857", width, height)
    return crop, (west, south, east, north)


@contextlib.contextmanager
def _open(path: Path) -> Iterator[Any]:
    try:
        with _quiet(), rasterio.open(path, driver="GTiff") as dataset:
            yield dataset
    except RasterioIOError as exc:
        raise UnreadableImage(f"the stored image {path.name} could not be read: {exc}") from exc


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield
