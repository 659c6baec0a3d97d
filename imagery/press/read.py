"""Reading a press picture with Pillow: only JPEG, PNG and WebP are opened, with Pillow's
decompression-bomb limit set explicitly (PRESS_MAX_PIXELS; beyond it the picture is refused
before it is decoded), and the EXIF orientation applied, so pixel positions are those of the
picture as a browser shows it. What is read is the pixels alone: no EXIF (GPS, camera,
author), XMP, ICC or text chunk reaches anything written from them."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imagery.errors import ImageryError, ImageTooLarge

#: Pillow's limit on width x height, set here explicitly for every press picture read
#: (below Pillow's own default, so no other reader in the process is loosened)
PRESS_MAX_PIXELS = 80_000_000
Image.MAX_IMAGE_PIXELS = PRESS_MAX_PIXELS
#: Pillow's format names accepted (MPO: a camera's JPEG with a second frame)
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


class NotAnImage(ImageryError):
    """The file is not a JPEG, PNG or WebP picture."""


@dataclass(frozen=True)
class Picture:
    """A press picture's size as shown (EXIF orientation applied) and its format."""

    width: int
    height: int
    format: str


@contextlib.contextmanager
def _opened(path: Path, name: str) -> Iterator[Image.Image]:
    with warnings.catch_warnings():
        # over the limit is a bomb (Pillow only warns up to twice the limit)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=["JPEG", "PNG", "WEBP"]) as image:
                if image.size[0] * image.size[1] > PRESS_MAX_PIXELS:
                    raise Image.DecompressionBombError(name)  # whatever the global says now
                yield image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(
                f"{name} claims more than {PRESS_MAX_PIXELS:,} pixels; "
                "refused as a possible decompression bomb"
            ) from None
        except UnidentifiedImageError:
            raise NotAnImage(f"{name} is not a JPEG, PNG or WebP picture") from None
        except (OSError, SyntaxError, ValueError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise NotAnImage(f"{name} could not be read as a picture ({first})") from None


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def inspect(path: Path, name: str) -> Picture:
    """The picture's size and format, from its header (no pixel is decoded)."""
    with _opened(path, name) as image:
        width, height = _oriented_size(image)
        return Picture(width, height, FORMATS[str(image.format)])


def pixels(path: Path, name: str, *, longest: int | None = None) -> tuple[np.ndarray, float]:
    """The picture's pixels as (bands, rows, cols) uint8 (grey, RGB, or RGB with alpha) and
    the scale they were read at (1.0, or less when `longest` asked for a smaller copy: a
    JPEG is then decoded at a reduced size directly)."""
    with _opened(path, name) as image:
        width, height = _oriented_size(image)
        scale = 1.0
        if longest is not None and max(width, height) > longest:
            scale = longest / max(width, height)
            image.draft(None, (int(image.size[0] * scale) + 1, int(image.size[1] * scale) + 1))
        try:
            shown = ImageOps.exif_transpose(image)
            mode = _mode(shown)
            shown = shown.convert(mode) if shown.mode != mode else shown
            if scale < 1.0:
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                shown = shown.resize(size, Image.Resampling.BILINEAR)
                scale = size[0] / width
            data = np.asarray(shown)
        except (OSError, SyntaxError, ValueError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise NotAnImage(f"{name}: its pixels could not be read ({first})") from None
    if data.ndim == 2:
        return data[np.newaxis], scale
    return np.ascontiguousarray(np.moveaxis(data, 2, 0)), scale


def _mode(image: Image.Image) -> str:
    if image.mode == "L":
        return "L"
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        return "RGBA"
    return "RGB"
