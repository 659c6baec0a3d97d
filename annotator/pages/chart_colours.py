"""Colours a reader can tell apart: labels whose taxonomy colours look alike get moved apart.

The distance is CIE76: the straight-line distance between two colours in CIE L*a*b* (D65),
where about 2.3 is the smallest difference a person notices and under about 20 two thin lines
on a chart are easily confused. Labels keep their taxonomy colour in order (the most counted
first); a later label whose colour is within `MIN_DELTA_E` of an earlier one is shifted: its
hue turned and its lightness stepped in L*C*h until it is far enough from every earlier one
(and still a displayable sRGB colour).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MIN_DELTA_E = 25.0
FALLBACK = "#555555"
_WHITE = (0.95047, 1.0, 1.08883)  # D65
_HUE_TURNS = (0, 40, -40, 80, -80, 120, -120, 160, -160, 180)
_LIGHTNESS_STEPS = (0, -15, 15, -30, 30)

Lab = tuple[float, float, float]


def hex_to_lab(colour: str) -> Lab:
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    r, g, b = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    lin = [_linear(c) for c in (r, g, b)]
    x = 0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]
    y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2]
    z = 0.0193339 * lin[0] + 0.1191920 * lin[1] + 0.9503041 * lin[2]
    fx, fy, fz = (_f(v / w) for v, w in zip((x, y, z), _WHITE, strict=True))
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def lab_to_hex(lab: Lab) -> str | None:
    """The sRGB colour of a Lab one, or None when it is outside what a screen shows."""
    lightness, a, b = lab
    fy = (lightness + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200
    x, y, z = (_f_inverse(f) * w for f, w in zip((fx, fy, fz), _WHITE, strict=True))
    lin = (
        3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
        -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
        0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    )
    if any(c < -1e-6 or c > 1 + 1e-6 for c in lin):
        return None
    channels = [round(_gamma(min(1.0, max(0.0, c))) * 255) for c in lin]
    return "#" + "".join(f"{c:02x}" for c in channels)


def delta_e(first: str, second: str) -> float:
    """CIE76: the Euclidean distance of two colours in Lab."""
    return math.dist(hex_to_lab(first), hex_to_lab(second))


def distinct_colours(
    labels: Iterable[str], colours: dict[str, str], min_delta_e: float = MIN_DELTA_E
) -> dict[str, str]:
    """Each label's colour, the later of two look-alikes shifted (see the module's words)."""
    chosen: dict[str, str] = {}
    for label in labels:
        wanted = colours.get(label, FALLBACK)
        chosen[label] = _far_from(wanted, list(chosen.values()), min_delta_e)
    return chosen


def _far_from(colour: str, taken: list[str], min_delta_e: float) -> str:
    if all(delta_e(colour, other) >= min_delta_e for other in taken):
        return colour
    lightness, a, b = hex_to_lab(colour)
    chroma = max(math.hypot(a, b), 35.0)  # a grey gets some colour to turn
    hue = math.degrees(math.atan2(b, a))
    best, best_gap = colour, -1.0
    for step in _LIGHTNESS_STEPS:
        for turn in _HUE_TURNS:
            candidate = _displayable(lightness + step, chroma, hue + turn)
            if candidate is None:
                continue
            gap = min(delta_e(candidate, other) for other in taken)
            if gap >= min_delta_e:
                return candidate
            if gap > best_gap:
                best, best_gap = candidate, gap
    return best  # many look-alikes: the farthest one found


def _displayable(lightness: float, chroma: float, hue: float) -> str | None:
    """The L*C*h colour, its chroma lowered until a screen can show it (None: cannot)."""
    lightness = min(90.0, max(20.0, lightness))
    angle = math.radians(hue)
    while chroma >= 10:
        found = lab_to_hex((lightness, chroma * math.cos(angle), chroma * math.sin(angle)))
        if found is not None:
            return found
        chroma *= 0.85
    return None


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _f(t: float) -> float:
    return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29


def _f_inverse(f: float) -> float:
    return f**3 if f > 6 / 29 else 3 * (6 / 29) ** 2 * (f - 4 / 29)
