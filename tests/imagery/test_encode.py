"""Our PNG writer produces standard PNGs that decode to exactly the pixels given."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from imagery.encode import jpeg, png, webp
from imagery.tiles import encode


@pytest.mark.parametrize(("shape", "mode"), [((256, 256), "L"), ((256, 256, 2), "LA"),
                                             ((256, 256, 3), "RGB"), ((256, 256, 4), "RGBA"),
                                             ((7, 300, 3), "RGB")])  # fmt: skip
def test_png_round_trip(shape: tuple[int, ...], mode: str) -> None:
    rng = np.random.default_rng(len(shape) * 7 + shape[-1])
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    pixels[..., :10] = 255  # some runs, some wrap-around differences
    decoded = Image.open(io.BytesIO(png(pixels)))
    decoded.load()
    assert decoded.format == "PNG" and decoded.mode == mode
    assert np.array_equal(np.asarray(decoded), pixels)


def test_png_refuses_wider_types() -> None:
    with pytest.raises(ValueError, match="8-bit"):
        png(np.zeros((4, 4), dtype=np.uint16))


def test_lossy_formats_and_masks() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    assert Image.open(io.BytesIO(jpeg(rgb))).format == "JPEG"
    assert Image.open(io.BytesIO(webp(rgb))).format == "WEBP"
    grey = rng.integers(0, 256, (1, 256, 256), dtype=np.uint8)
    mask = np.full((256, 256), 255, dtype=np.uint8)
    mask[:, :100] = 0
    for fmt in ("png", "webp"):
        picture = np.asarray(Image.open(io.BytesIO(encode(grey, mask, fmt))))
        alpha = picture[..., -1]
        assert (alpha[:, :100] == 0).all() and (alpha[:, 100:] == 255).all(), fmt
    dark = np.asarray(Image.open(io.BytesIO(encode(grey, mask, "jpg"))))
    assert dark[:, :90].mean() < 3, "masked pixels are black in JPEG"
