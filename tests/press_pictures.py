"""Press pictures made from a known capture, for the georeferencing tests and benchmark: a
capture in WGS 84 near Hmeimim with a smooth pattern (so pixels compare after JPEG and two
resamplings), cut, rotated and scaled by a known affine map into a picture with a caption
band, and control points picked off the truth with known noise."""

from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from PIL import Image, ImageDraw
from pyproj import Geod
from rasterio.transform import from_origin

GEOD = Geod(ellps="WGS84")
#: the capture: 0.5 m pixels (in degrees at 35.4 N), its top-left corner
ORIGIN = (35.945, 35.412)
DEG_X = 0.5 / 90_700  # metres -> degrees of longitude at 35.4 N (about)
DEG_Y = 0.5 / 110_950
CAPTION_ROWS = 40


def capture(path: Path, width: int = 600, height: int = 500) -> Path:
    """The known capture: RGB, a smooth pattern, georeferenced north-up in WGS 84."""
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    data = np.stack(
        [
            128 + 90 * np.sin(cols / 37.0 + k) * np.cos(rows / 29.0 - k) + 20 * np.sin(rows / 11.0)
            for k in (0.0, 1.1, 2.2)
        ]
    ).clip(0, 255)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "count": 3,
        "width": width,
        "height": height,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": from_origin(ORIGIN[0], ORIGIN[1], DEG_X, DEG_Y),
    }
    with rasterio.open(path, "w", **profile) as out:
        out.write(data.astype(np.uint8))
    return path


@dataclass(frozen=True)
class Press:
    """A press picture and its truth: picture pixel (corner-based) -> lon, lat."""

    path: Path
    width: int
    height: int
    #: picture pixel -> capture pixel
    to_capture: Affine
    capture_transform: Affine

    def truth(self, col: float, row: float) -> tuple[float, float]:
        lon, lat = self.capture_transform * (self.to_capture * (col, row))
        return float(lon), float(lat)

    def points(self, count: int, noise_m: float, seed: int = 3) -> list[list[float]]:
        """`count` control points spread over the picture (not the caption), each ground
        position moved by Gaussian noise of `noise_m` metres per axis."""
        rng = np.random.default_rng(seed)
        side = math.ceil(math.sqrt(count))
        found = []
        for n in range(count):
            col = (n % side + 0.5) / side * self.width * 0.9 + self.width * 0.05
            row = (n // side + 0.5) / side * (self.height - CAPTION_ROWS) * 0.9 + 10
            lon, lat = self.truth(col, row)
            dx, dy = rng.normal(0, noise_m, 2)
            lon, lat, _ = GEOD.fwd(lon, lat, 90, dx)
            lon, lat, _ = GEOD.fwd(lon, lat, 0, dy)
            found.append([round(col, 2), round(row, 2), lon, lat])
        return found


def press_picture(
    capture_path: Path,
    target: Path,
    *,
    angle: float = 17.0,
    scale: float = 1.3,
    crop: tuple[float, float] = (60.0, 50.0),
    size: tuple[int, int] = (520, 440),
    exif: bytes | None = None,
    fmt: str = "JPEG",
) -> Press:
    """Cut the capture from `crop` (capture pixels), rotate it by `angle` degrees, enlarge
    it by `scale`, add a caption band under it, and save as `fmt` (JPEG quality 90)."""
    with rasterio.open(capture_path) as src:
        data = src.read()
        capture_transform = src.transform
    picture = Image.fromarray(np.moveaxis(data, 0, 2))
    width, height = size
    # picture pixel -> capture pixel: rotate about the picture's origin, shrink, shift
    to_capture = Affine.translation(*crop) * Affine.rotation(angle) * Affine.scale(1 / scale)
    a, b, c, d, e, f = to_capture[:6]
    body = picture.transform(
        (width, height - CAPTION_ROWS),
        Image.Transform.AFFINE,
        (a, b, c, d, e, f),
        resample=Image.Resampling.BILINEAR,
    )
    framed = Image.new("RGB", (width, height), "white")
    framed.paste(body, (0, 0))
    draw = ImageDraw.Draw(framed)
    draw.text((8, height - CAPTION_ROWS + 12), "Satellite image (c) 2024 Synthetic", fill="black")
    draw.text((width - 120, 12), "SYNTHETIC", fill=(255, 255, 255))
    options: dict[str, Any] = {"quality": 90} if fmt == "JPEG" else {}
    if exif is not None:
        options["exif"] = exif
    framed.save(target, format=fmt, **options)
    return Press(target, width, height, to_capture, capture_transform)


def gps_exif() -> bytes:
    """EXIF with a GPS position, an author and a camera: none of it may be served."""
    exif = Image.Exif()
    exif[0x013B] = "Ana Author-Secret"  # Artist
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (35.0, 24.0, 41.0)
    gps[3] = "E"
    gps[4] = (35.0, 56.0, 58.0)
    return exif.tobytes()


def png_bomb(path: Path, width: int = 30_000, height: int = 30_000) -> Path:
    """A PNG whose header claims width x height pixels, with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 80, 120)).save(buffer, format="PNG")
    return buffer.getvalue()
