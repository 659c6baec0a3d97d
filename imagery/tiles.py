"""XYZ WebMercator tiles from stored COGs, rendered with rio-tiler and encoded by Pillow.

A `TileRenderer` keeps one open rio-tiler `Reader` per image per thread (GDAL dataset
handles must not be shared across threads), so a tile costs one overview-aware windowed
read plus an encode, not an open, a header parse and a read.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.enums import ColorInterp
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from imagery import encode as encoders
from imagery.colours import apply_palette, palette
from imagery.display import Display
from imagery.errors import BadTileAddress, TileOutsideImage
from imagery.footprint import lonlat_boxes
from imagery.ingest import mask_kind, stretch_range

if TYPE_CHECKING:
    from morecantile import TileMatrixSet

TILE_SIZE = 256
MAX_ZOOM = 30
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
#: Bumped whenever rendering changes, so cached tiles and ETags change with it.
RENDER_VERSION = "2"
#: Like GDAL, take an overview up to 20 % coarser than the tile, for less aliasing.
OVERSAMPLING_TOLERANCE = 1.2


@dataclass(frozen=True)
class TileSource:
    """A stored COG and how to show it."""

    path: str
    display: Display


@dataclass(frozen=True)
class TileSetInfo:
    bounds: tuple[float, float, float, float]
    minzoom: int
    maxzoom: int


@cache
def web_mercator() -> TileMatrixSet:
    """morecantile's Web Mercator grid, loaded when first needed: morecantile and rio-tiler
    cost a command or a web worker that draws no tile half a second to import."""
    from morecantile import tms

    return tms.get("WebMercatorQuad")


def mercator_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's west, south, east and north in Web Mercator metres."""
    from morecantile import Tile

    west, south, east, north = web_mercator().xy_bounds(Tile(x, y, z))
    return west, south, east, north


def check_address(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise BadTileAddress(f"zoom {z} is outside 0..{MAX_ZOOM}")
    limit = 1 << z
    if not (0 <= x < limit and 0 <= y < limit):
        raise BadTileAddress(f"tile {x}/{y} does not exist at zoom {z} (0..{limit - 1})")


def to_rgb8(data: np.ndarray[Any, Any], display: Display) -> np.ndarray[Any, Any]:
    """Apply the stored stretch (or none, for 8-bit data) and return uint8 bands.

    Floating-point pixels may be anything a file holds: NaN and infinities come out 0
    (`finite_mask` hides them), and values near the float limits (1e308) are scaled in
    halves, so that neither `value - low` nor `high - low` overflows."""
    if display.rescale is None and data.dtype == np.uint8:
        return data
    if display.rescale is None:
        with np.errstate(invalid="ignore"):
            return np.clip(np.nan_to_num(data), 0, 255).astype(np.uint8)
    out = np.empty(data.shape, dtype=np.uint8)
    for i, (low, high) in enumerate(display.rescale):
        low, high = stretch_range(low, high)  # a stretch stored before it was made safe
        if data.dtype.kind == "f":
            with np.errstate(all="ignore"):
                band = (data[i].astype(np.float64) * 0.5 - low * 0.5) * (
                    255.0 / (high * 0.5 - low * 0.5)
                )
                np.nan_to_num(band, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        else:  # integers: float32 is exact enough and twice as fast
            band = (data[i].astype(np.float32) - low) * (255.0 / (high - low))
        np.clip(band, 0, 255, out=band)
        out[i] = band
    return out


def finite_mask(data: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """`mask` with pixels that are NaN or infinite in any band made transparent (nodata);
    a changed mask is uint8 0/255 (rio-tiler gives its masks in the data's type)."""
    if data.dtype.kind != "f":
        return mask
    finite = np.isfinite(data).all(axis=0)
    if finite.all():
        return mask
    return ((mask != 0) & finite).astype(np.uint8) * np.uint8(255)


def encode(bands: np.ndarray[Any, Any], mask: np.ndarray[Any, Any], fmt: str) -> bytes:
    """Encode uint8 bands (1 or 3) with their 0/255 mask; transparent where masked."""
    pixels = bands[0] if bands.shape[0] == 1 else np.moveaxis(bands, 0, -1)
    opaque = bool(mask.all())
    if fmt == "jpg":
        if not opaque:
            pixels = pixels.copy()
            pixels[mask == 0] = 0
        return encoders.jpeg(pixels)
    if not opaque:
        base = pixels if pixels.ndim == 3 else pixels[..., np.newaxis]
        pixels = np.concatenate([base, mask[..., np.newaxis]], axis=2)
    if fmt == "png":
        return encoders.png(pixels)
    if fmt == "webp":
        if pixels.ndim == 2 or pixels.shape[2] == 2:  # WebP has no grey: widen to RGB(A)
            grey = pixels if pixels.ndim == 2 else pixels[..., 0]
            pixels = np.stack([grey] * 3 + ([] if pixels.ndim == 2 else [pixels[..., 1]]), axis=2)
        return encoders.webp(pixels)
    raise BadTileAddress(f"unknown tile format {fmt!r}; use png, jpg or webp")


class OpenImage:
    """One thread's open handles on a COG: the full-resolution dataset and its overviews.

    A tile is read as GDAL's warper would with nearest resampling, but without building a
    warped VRT per request: the tile's pixel centres are projected into the image on a
    coarse grid (exactly), interpolated in between (sub-pixel error at tile scale, as GDAL's
    approximate transformer does), and looked up in one windowed read of the overview whose
    resolution is just finer than the tile's.
    """

    GRID = 9

    def __init__(self, path: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            self.dataset = rasterio.open(path, driver="GTiff")
        self.path = path
        self.factors: list[int] = list(self.dataset.overviews(1))
        self._overviews: dict[int, Any] = {}
        self.mask_kind = mask_kind(self.dataset)
        self.nodata = self.dataset.nodata
        self.alpha_band = _alpha_band(self.dataset)
        self.inverse = ~self.dataset.transform
        self.to_image = Transformer.from_crs("EPSG:3857", self.dataset.crs, always_xy=True)
        self.palette = palette(self.dataset)
        # a lon/lat image may reach past 180 degrees (0..360 grids, scenes across the
        # antimeridian): a tile's longitudes are taken round to the image's side
        left, _, right, _ = self.dataset.bounds
        self.wrap_around = (left + right) / 2 if self.dataset.crs.is_geographic else None
        self.mercator_boxes = _mercator_boxes(self.dataset)
        self._weights = _bilinear_weights(self.GRID, TILE_SIZE)
        # pixel centres of a GRID x GRID lattice spanning a tile, in tile pixels
        self._ticks = np.linspace(0.5, TILE_SIZE - 0.5, self.GRID)

    def _level(self, factor: int) -> Any:
        if factor == 1:
            return self.dataset
        index = self.factors.index(factor)
        handle = self._overviews.get(index)
        if handle is None:
            handle = rasterio.open(self.path, driver="GTiff", overview_level=index)
            self._overviews[index] = handle
        return handle

    def _interpolate(self, grid: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Bilinear GRID x GRID -> 256 x 256. einsum, not '@': a BLAS product this size
        wakes OpenBLAS's thread pool, which under concurrent requests costs more than
        the product itself."""
        w = self._weights
        return np.einsum(
            "ik,kj->ij", w, np.einsum("kl,jl->kj", grid, w, optimize=False), optimize=False
        )

    def _to_pixels(
        self, gx: np.ndarray[Any, Any], gy: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Web Mercator points as (fractional) columns and rows of the image; a lon/lat
        image takes each longitude round to within 180 degrees of its middle."""
        with np.errstate(all="ignore"):
            ix, iy = (np.asarray(v) for v in self.to_image.transform(gx.ravel(), gy.ravel()))
            if self.wrap_around is not None:
                ix = self.wrap_around + np.mod(ix - self.wrap_around + 180.0, 360.0) - 180.0
            cols, rows = self.inverse @ (ix, iy)
        return np.asarray(cols).reshape(gx.shape), np.asarray(rows).reshape(gx.shape)

    def intersects(self, z: int, x: int, y: int) -> bool:
        west, south, east, north = mercator_bounds(z, x, y)
        return any(
            west < right and east > left and south < top and north > bottom
            for left, bottom, right, top in self.mercator_boxes
        )

    def read_tile(
        self, z: int, x: int, y: int, bands: tuple[int, ...]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        """Return (bands x 256 x 256 data, 256 x 256 uint8 mask) or None if outside."""
        west, _south, east, north = mercator_bounds(z, x, y)
        ticks = self._ticks * ((east - west) / TILE_SIZE)
        gx, gy = np.meshgrid(west + ticks, north - ticks)
        cols_g, rows_g = self._to_pixels(gx, gy)
        # a lattice with points off the CRS's domain (a geostationary disk) or across the
        # seam of a lon/lat image is not smooth: every tile pixel is then projected itself
        smooth = np.isfinite(cols_g).all() and np.isfinite(rows_g).all()
        if smooth and self.wrap_around is not None:
            smooth = float(np.abs(np.diff(cols_g, axis=1)).max()) < self.dataset.width / 2
        if smooth:
            cols = self._interpolate(cols_g)
            rows = self._interpolate(rows_g)
            scale = max(float(np.ptp(cols[0])), float(np.ptp(rows[:, 0]))) / (TILE_SIZE - 1)
        else:
            every = (np.arange(TILE_SIZE) + 0.5) * ((east - west) / TILE_SIZE)
            cols, rows = self._to_pixels(*np.meshgrid(west + every, north - every))
            placed = np.isfinite(cols) & np.isfinite(rows)
            cols[~placed] = -1.0  # outside
            rows[~placed] = -1.0
            scale = _finite_scale(cols, rows, placed)
        factor = 1
        for candidate in self.factors:
            if candidate <= scale * OVERSAMPLING_TOLERANCE:
                factor = candidate
        level = self._level(factor)
        width, height = level.width, level.height
        cols = np.floor(cols * (width / self.dataset.width)).astype(np.intp)
        rows = np.floor(rows * (height / self.dataset.height)).astype(np.intp)
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        c0, c1 = max(0, int(cols.min())), min(width, int(cols.max()) + 1)
        r0, r1 = max(0, int(rows.min())), min(height, int(rows.max()) + 1)
        if c0 >= c1 or r0 >= r1 or not inside.any():
            # the square touches the image but no pixel centre falls on it
            empty = np.zeros((len(bands), TILE_SIZE, TILE_SIZE), dtype=self.dataset.dtypes[0])
            return empty, np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.uint8)
        window = Window(c0, r0, c1 - c0, r1 - r0)
        block = level.read(list(bands), window=window)
        # one flat index per tile pixel: np.take is several times faster than [:, rows, cols]
        np.clip(cols - c0, 0, c1 - c0 - 1, out=cols)
        np.clip(rows - r0, 0, r1 - r0 - 1, out=rows)
        flat = (rows * (c1 - c0) + cols).ravel()
        data = np.take(block.reshape(len(bands), -1), flat, axis=1)
        data = data.reshape(len(bands), TILE_SIZE, TILE_SIZE)
        mask = inside.astype(np.uint8) * np.uint8(255)
        if self.mask_kind == "nodata" and self.nodata is not None:
            if np.isnan(self.nodata):
                valid = ~np.isnan(data).all(axis=0)
            else:
                valid = ~(data == self.nodata).all(axis=0)
            mask[~valid] = 0
        elif self.mask_kind == "alpha" and self.alpha_band is not None:
            alpha = np.take(level.read(self.alpha_band, window=window).ravel(), flat)
            mask[alpha.reshape(TILE_SIZE, TILE_SIZE) == 0] = 0
        elif self.mask_kind == "mask":
            dmask = np.take(level.dataset_mask(window=window).ravel(), flat)
            mask[dmask.reshape(TILE_SIZE, TILE_SIZE) == 0] = 0
        return data, mask

    def close(self) -> None:
        for handle in self._overviews.values():
            handle.close()
        self.dataset.close()


def _mercator_boxes(dataset: Any) -> list[tuple[float, float, float, float]]:
    """The image's extent in Web Mercator: one box, or two across the antimeridian; the
    whole world when its edge cannot all be placed (tiles then find its pixels one by one)."""
    boxes = lonlat_boxes(dataset)
    if not boxes:
        return [(-np.inf, -np.inf, np.inf, np.inf)]
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    limit = 85.0511287798066
    result = []
    for west, south, east, north in boxes:
        xs, ys = to_mercator.transform(
            [west, east], [max(-limit, min(limit, south)), max(-limit, min(limit, north))]
        )
        result.append((float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])))
    return result


def _finite_scale(
    cols: np.ndarray[Any, Any], rows: np.ndarray[Any, Any], placed: np.ndarray[Any, Any]
) -> float:
    """Source pixels per tile pixel, from the steps between neighbouring tile pixels that
    both have a place in the image (the median: a seam's jump is one step of many)."""
    down = placed[:-1, :] & placed[1:, :]
    across = placed[:, :-1] & placed[:, 1:]
    steps = [np.hypot(np.diff(cols, axis=0), np.diff(rows, axis=0))[down]]
    steps += [np.hypot(np.diff(cols, axis=1), np.diff(rows, axis=1))[across]]
    every = np.concatenate(steps)
    return float(np.median(every)) if every.size else 1.0


def _bilinear_weights(grid: int, size: int) -> np.ndarray[Any, Any]:
    """A (size x grid) matrix interpolating a grid of samples to every pixel centre."""
    positions = np.linspace(0, grid - 1, size)
    lower = np.clip(np.floor(positions).astype(int), 0, grid - 2)
    frac = positions - lower
    weights = np.zeros((size, grid))
    weights[np.arange(size), lower] = 1 - frac
    weights[np.arange(size), lower + 1] = frac
    return weights


def _alpha_band(dataset: Any) -> int | None:
    for index, interp in enumerate(dataset.colorinterp, start=1):
        if interp == ColorInterp.alpha:
            return index
    return None


class TileRenderer:
    """Renders tiles, keeping up to `max_open` images open per thread."""

    def __init__(self, max_open: int = 32) -> None:
        self.max_open = max_open
        self._local = threading.local()

    def _open(self, path: str) -> OpenImage:
        images: OrderedDict[str, OpenImage] | None = getattr(self._local, "images", None)
        if images is None:
            images = OrderedDict()
            self._local.images = images
        image = images.get(path)
        if image is not None:
            images.move_to_end(path)
            return image
        image = OpenImage(path)
        images[path] = image
        while len(images) > self.max_open:
            _, old = images.popitem(last=False)
            old.close()
        return image

    def covers(self, source: TileSource, z: int, x: int, y: int) -> bool:
        """Whether the tile's square meets the image's extent (cheap, no pixel read)."""
        check_address(z, x, y)
        return self._open(source.path).intersects(z, x, y)

    def tile(self, source: TileSource, z: int, x: int, y: int, fmt: str) -> bytes:
        check_address(z, x, y)
        if fmt not in MEDIA_TYPES:
            raise BadTileAddress(f"unknown tile format {fmt!r}; use png, jpg or webp")
        image = self._open(source.path)
        result = (
            image.read_tile(z, x, y, source.display.bands) if image.intersects(z, x, y) else None
        )
        if result is None:
            raise TileOutsideImage(f"tile {z}/{x}/{y} does not intersect the image")
        data, mask = result
        if image.palette is not None:
            rgb, mask = apply_palette(image.palette, data[0], mask)
            return encode(rgb, mask, fmt)
        return encode(to_rgb8(data, source.display), finite_mask(data, mask), fmt)

    def close(self) -> None:
        images = getattr(self._local, "images", None)
        while images:
            _, image = images.popitem()
            image.close()


def tileset_info(path: str) -> TileSetInfo:
    """Geographic bounds and the zoom range rio-tiler derives from the resolution; an
    image across the antimeridian has its east past 180 degrees (179.5..180.5), as a web
    map (Leaflet, which wraps its tiles) shows it in one piece."""
    from rio_tiler.io import Reader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with Reader(path, tms=web_mercator()) as reader:
            west, south, east, north = reader.get_geographic_bounds("EPSG:4326")
            boxes = lonlat_boxes(reader.dataset)
            if len(boxes) == 2:  # across 180 degrees: one box on a map, its east past 180
                (_, _, west_end, _), (east_start, _, _, _) = sorted(boxes)
                west, east = east_start, west_end + 360.0
                south, north = min(b[1] for b in boxes), max(b[3] for b in boxes)
                # rio-tiler's zooms take the extent as the whole world: from the pixel size
                minzoom, maxzoom = _zooms(reader.dataset, (south + north) / 2)
                return TileSetInfo((west, south, east, north), minzoom, maxzoom)
            if len(boxes) == 1:
                west, south, east, north = boxes[0]
            return TileSetInfo(
                bounds=(west, south, east, north), minzoom=reader.minzoom, maxzoom=reader.maxzoom
            )


def _zooms(dataset: Any, latitude: float) -> tuple[int, int]:
    """The zoom whose Web Mercator pixel matches the image's at `latitude`, and the one
    where the whole image fits a tile or two."""
    stretch = max(math.cos(math.radians(latitude)), 1e-6)  # Web Mercator's scale there
    if dataset.crs.is_geographic:
        metres = abs(dataset.transform.a) * 111_319.49 * stretch
    else:
        metres = abs(dataset.transform.a) * dataset.crs.linear_units_factor[1]
    maxzoom = int(web_mercator().zoom_for_res(metres / stretch))
    span = max(dataset.width, dataset.height) / TILE_SIZE
    return max(0, maxzoom - math.ceil(math.log2(max(span, 1.0)))), maxzoom


def thumbnail(source: TileSource, max_size: int = 256) -> bytes:
    """A small PNG of the whole image, read from its coarsest useful overview."""
    from rio_tiler.io import Reader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with Reader(source.path, tms=web_mercator()) as reader:
            image = reader.preview(indexes=source.display.bands, max_size=max_size)
            lookup = palette(reader.dataset)
    data = image.array.data
    if lookup is not None:
        return encode(*apply_palette(lookup, data[0], image.mask), "png")
    return encode(to_rgb8(data, source.display), finite_mask(data, image.mask), "png")
