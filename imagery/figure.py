"""An annotated figure for print: a crop of one capture with outlines, labels, scale bar, north
arrow, caption and credit, drawn from plain shapely geometries (WGS 84) and colours.

One `FigureLayout` is computed and then painted twice: by Pillow into a PNG of exactly the asked
size (with its dpi recorded), and as SVG (the crop as an embedded PNG under vector overlays, all
text escaped by ElementTree). Text sizes are set in points, so a figure printed at its dpi has
legible 10 pt captions whatever its pixel size.

Text in Arabic script is drawn in Noto Naskh Arabic (vendored in imagery/fonts/, with its
licence), shaped and put in visual order by libraqm; a paragraph whose first strong letter is
right-to-left is set right-to-left and aligned right. The SVG says the same with `direction` and
`unicode-bidi: plaintext` on each text holding user words.
"""

from __future__ import annotations

import base64
import math
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont, features
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

from imagery import encode
from imagery.crop import Crop, metric_crs, read_crop
from imagery.errors import BadFigureRequest
from imagery.sizes import MAX_SIDE_PX, MIN_SIDE_PX

GEOD = Geod(ellps="WGS84")
#: Where a figure's grey shows through: outside the image's valid pixels.
NO_DATA = (128, 128, 128)
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
FONTS_DIR = Path(__file__).parent / "fonts"
#: for text holding Arabic script (the font has Latin letters and digits too, for mixed text)
ARABIC_FONT_FILES = {
    False: FONTS_DIR / "NotoNaskhArabic-Regular.ttf",
    True: FONTS_DIR / "NotoNaskhArabic-Bold.ttf",
}
FONT_FAMILY = "DejaVu Sans, Noto Naskh Arabic, Verdana, sans-serif"
#: user text in the SVG sets its own direction from its first strong letter
BIDI_STYLE = "unicode-bidi: plaintext"
CAPTION_PT, LABEL_PT, CREDIT_PT = 10.0, 9.0, 7.5
MIN_DPI, MAX_DPI = 36, 1200
FILL_OPACITY = 0.18
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Overlay:
    """One thing to outline: a WGS 84 geometry, its colour (#rrggbb) and its label text."""

    geometry: BaseGeometry
    colour: str
    label: str


@dataclass(frozen=True)
class FigureWords:
    """The figure's own words, in the figure's language (chosen by the caller)."""

    metre: str = "m"
    kilometre: str = "km"
    north: str = "N"


@dataclass(frozen=True)
class FigureSpec:
    cog_path: Path
    focus: BaseGeometry  # WGS 84: the crop is centred on this, with a margin
    overlays: tuple[Overlay, ...]
    caption: str
    credit: tuple[str, ...]  # lines under the caption: capture date, provider, licence...
    width_px: int = 2400
    height_px: int | None = None
    dpi: int = 300
    words: FigureWords = FigureWords()
    #: set the caption, and the credits, right-to-left (the report's language is); None: as
    #: the text's first strong letter says
    caption_rtl: bool | None = None
    credit_rtl: bool | None = None


@dataclass(frozen=True)
class FigureLayout:
    width: int
    height: int
    panel_height: int
    crs: str
    bounds: tuple[float, float, float, float]  # of the image panel, in `crs`
    scale: float  # pixels per point
    caption_lines: tuple[str, ...]
    credit_lines: tuple[str, ...]
    scale_bar_m: float
    scale_bar_px: float
    north_deg: float  # direction of true north, clockwise from straight up
    words: FigureWords = FigureWords()
    caption_rtl: bool = False
    credit_rtl: tuple[bool, ...] = ()  # one per line of credit_lines

    def to_pixels(self, geometry: BaseGeometry) -> BaseGeometry:
        """A WGS 84 geometry in figure pixels (origin top-left, y down)."""
        to_crs = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        left, bottom, right, top = self.bounds
        sx = self.width / (right - left)
        sy = self.panel_height / (top - bottom)

        def convert(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            x, y = to_crs.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([(np.asarray(x) - left) * sx, (top - np.asarray(y)) * sy])

        return shapely.transform(geometry, convert)

    def px(self, points: float) -> int:
        return max(1, round(points * self.scale))


def layout(spec: FigureSpec) -> FigureLayout:
    for name, value in (("width_px", spec.width_px), ("height_px", spec.height_px)):
        if value is not None and not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise BadFigureRequest(f"{name} must be between {MIN_SIDE_PX} and {MAX_SIDE_PX}")
    if not MIN_DPI <= spec.dpi <= MAX_DPI:
        raise BadFigureRequest(f"dpi must be between {MIN_DPI} and {MAX_DPI}")
    width = spec.width_px
    # text is sized for print at `dpi`, as if the figure were at least 6 inches wide
    scale = min(spec.dpi, width / 6.0) / 72.0
    margin = CAPTION_PT * scale
    text_width = width - 2 * margin
    caption_lines = tuple(
        _wrap(spec.caption, _font_for(spec.caption, CAPTION_PT * scale, True), text_width)
    )
    credits = [
        (line, is_rtl(text) if spec.credit_rtl is None else spec.credit_rtl)
        for text in spec.credit
        for line in _wrap(text, _font_for(text, CREDIT_PT * scale), text_width)
    ]
    credit_lines = tuple(line for line, _rtl in credits)
    footer = round(
        2 * margin
        + len(caption_lines) * _line_height(CAPTION_PT * scale)
        + (0.4 * margin if credit_lines else 0)
        + len(credit_lines) * _line_height(CREDIT_PT * scale)
    )
    centre = spec.focus.centroid
    crs = metric_crs(spec.cog_path, centre.x, centre.y)
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    left, bottom, right, top = _projected_bounds(spec.focus, to_crs)
    side = max(right - left, top - bottom)
    pad = max(0.3 * side, 15.0)
    left, bottom, right, top = left - pad, bottom - pad, right + pad, top + pad
    if spec.height_px is None:
        aspect = min(max((top - bottom) / (right - left), 9 / 16), 1.0)
        panel_height = round(width * aspect)
        height = panel_height + footer
    else:
        height = spec.height_px
        panel_height = height - footer
        if panel_height < height / 4:
            raise BadFigureRequest(
                f"height_px {height} leaves too little room for the image under a "
                f"{footer}-pixel caption; ask for a taller figure or a shorter caption"
            )
    # grow the crop to the panel's aspect, keeping its centre
    cx, cy = (left + right) / 2, (bottom + top) / 2
    half_w, half_h = (right - left) / 2, (top - bottom) / 2
    if half_h / half_w < panel_height / width:
        half_h = half_w * panel_height / width
    else:
        half_w = half_h * width / panel_height
    bounds = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    metres_per_px = _ground_metres_per_pixel(bounds, crs, width)
    bar_m = _nice_length(0.2 * width * metres_per_px)
    return FigureLayout(
        width=width,
        height=height,
        panel_height=panel_height,
        crs=crs,
        bounds=bounds,
        scale=scale,
        caption_lines=caption_lines,
        credit_lines=credit_lines,
        scale_bar_m=bar_m,
        scale_bar_px=bar_m / metres_per_px,
        north_deg=_north_angle(cx, cy, crs),
        words=spec.words,
        caption_rtl=is_rtl(spec.caption) if spec.caption_rtl is None else spec.caption_rtl,
        credit_rtl=tuple(rtl for _line, rtl in credits),
    )


def render_png(spec: FigureSpec) -> bytes:
    figure = layout(spec)
    crop = read_crop(spec.cog_path, figure.bounds, figure.crs, figure.width, figure.panel_height)
    canvas = Image.new("RGBA", (figure.width, figure.height), (255, 255, 255, 255))
    panel = Image.new("RGBA", (figure.width, figure.panel_height), (*NO_DATA, 255))
    panel.alpha_composite(Image.fromarray(crop.pixels, "RGBA"))
    canvas.paste(panel, (0, 0))
    fills = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    fill_draw = ImageDraw.Draw(fills)
    for overlay in spec.overlays:
        shape = figure.to_pixels(overlay.geometry)
        tint = (*_rgb(overlay.colour), round(255 * FILL_OPACITY))
        for ring, hole in _rings(shape):
            if len(ring) > 2:
                fill_draw.polygon(ring, fill=(0, 0, 0, 0) if hole else tint)
        for part in _parts(shape):
            if isinstance(part, shapely.Point):
                r = figure.px(4)
                fill_draw.ellipse((part.x - r, part.y - r, part.x + r, part.y + r), fill=tint)
    canvas.alpha_composite(fills)
    draw = ImageDraw.Draw(canvas)
    line = figure.px(1.25)
    for overlay in spec.overlays:
        shape = figure.to_pixels(overlay.geometry)
        for part in _parts(shape):
            if isinstance(part, shapely.Point):
                r = figure.px(4)
                draw.ellipse(
                    (part.x - r, part.y - r, part.x + r, part.y + r),
                    outline=overlay.colour,
                    width=line,
                )
        for ring, _hole in _rings(shape):
            draw.line(ring, fill=overlay.colour, width=line, joint="curve")
        for string in _lines(shape):
            draw.line(string, fill=overlay.colour, width=line, joint="curve")
    for text, x, y, colour in _label_positions(figure, spec.overlays):
        draw.text(
            (x, y),
            text,
            font=_font_for(text, LABEL_PT * figure.scale, True),
            fill=colour,
            anchor="ls",
            stroke_width=figure.px(1.2),
            stroke_fill="black",
            direction=_direction(text),
        )
    _draw_scale_bar(draw, figure)
    _draw_north_arrow(draw, figure)
    for text, x, y, size, bold, colour, rtl in _footer_lines(figure):
        draw.text(
            (x, y),
            text,
            font=_font_for(text, size, bold),
            fill=colour,
            anchor="rs" if rtl else "ls",
            direction=_direction(text, rtl),
        )
    # ISA-L's deflate, not Pillow's zlib: 2400 px of imagery in 0.1 s rather than several
    return encode.png(np.asarray(canvas.convert("RGB")), dpi=spec.dpi)


def render_svg(spec: FigureSpec) -> str:
    figure = layout(spec)
    crop = read_crop(spec.cog_path, figure.bounds, figure.crs, figure.width, figure.panel_height)
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": str(figure.width),
            "height": str(figure.height),
            "viewBox": f"0 0 {figure.width} {figure.height}",
            "font-family": FONT_FAMILY,
        },
    )
    ET.SubElement(svg, "rect", width="100%", height="100%", fill="#ffffff")
    ET.SubElement(
        svg,
        "rect",
        width=str(figure.width),
        height=str(figure.panel_height),
        fill="#{:02x}{:02x}{:02x}".format(*NO_DATA),
    )
    ET.SubElement(
        svg,
        "image",
        {
            "x": "0",
            "y": "0",
            "width": str(figure.width),
            "height": str(figure.panel_height),
            "preserveAspectRatio": "none",
            "href": _data_uri(crop),
        },
    )
    line = str(figure.px(1.25))
    for overlay in spec.overlays:
        shape = figure.to_pixels(overlay.geometry)
        group = ET.SubElement(
            svg, "g", {"stroke": overlay.colour, "stroke-width": line, "stroke-linejoin": "round"}
        )
        ET.SubElement(group, "title").text = overlay.label
        for polygon in _polygons(shape):
            rings = [polygon.exterior, *polygon.interiors]
            path = " ".join(_path(list(ring.coords), closed=True) for ring in rings)
            ET.SubElement(
                group,
                "path",
                {
                    "d": path,
                    "fill": overlay.colour,
                    "fill-opacity": str(FILL_OPACITY),
                    "fill-rule": "evenodd",
                },
            )
        for string in _lines(shape):
            ET.SubElement(group, "path", d=_path(string, closed=False), fill="none")
        for part in _parts(shape):
            if isinstance(part, shapely.Point):
                ET.SubElement(
                    group,
                    "circle",
                    {
                        "cx": _n(part.x),
                        "cy": _n(part.y),
                        "r": str(figure.px(4)),
                        "fill": overlay.colour,
                        "fill-opacity": str(FILL_OPACITY),
                    },
                )
    for text, x, y, colour in _label_positions(figure, spec.overlays):
        label = ET.SubElement(
            svg,
            "text",
            {
                "x": _n(x),
                "y": _n(y),
                "fill": colour,
                "font-weight": "bold",
                "font-size": _n(LABEL_PT * figure.scale),
                "stroke": "black",
                "stroke-width": str(2 * figure.px(1.2)),
                "paint-order": "stroke",
                "stroke-linejoin": "round",
                "style": BIDI_STYLE,
            },
        )
        label.text = text
    _svg_scale_bar(svg, figure)
    _svg_north_arrow(svg, figure)
    for text, x, y, size, bold, colour, rtl in _footer_lines(figure):
        node = ET.SubElement(
            svg,
            "text",
            {
                "x": _n(x),
                "y": _n(y),
                "font-size": _n(size),
                "fill": colour,
                "direction": "rtl" if rtl else "ltr",
                "style": BIDI_STYLE,
            },
        )
        if bold:
            node.set("font-weight", "bold")
        node.text = text
    return ET.tostring(svg, encoding="unicode", xml_declaration=True)


# --- layout helpers ---------------------------------------------------------------------------


@cache
def _font(
    size: float, bold: bool = False, arabic: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if arabic:
        return ImageFont.truetype(ARABIC_FONT_FILES[bold], round(size), layout_engine=LAYOUT)
    try:
        return ImageFont.truetype(FONT_FILES[bold], round(size), layout_engine=LAYOUT)
    except OSError:  # no DejaVu on this machine: Pillow's own font, same size
        return ImageFont.load_default(round(size))


#: libraqm shapes Arabic and orders mixed-direction text; without it letters come out unjoined
#: and in memory order, so the set-up installs it (Debian's libraqm0)
LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


def _font_for(
    text: str, size: float, bold: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu, or Noto Naskh Arabic when the text holds Arabic script."""
    return _font(size, bold, has_arabic(text))


def has_arabic(text: str) -> bool:
    return any(
        "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u08ff" or "\ufb50" <= ch <= "\ufefc"
        for ch in text
    )


def is_rtl(text: str) -> bool:
    """Whether the paragraph's first strong letter is right-to-left (Unicode's rule P2)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _direction(text: str, rtl: bool | None = None) -> str | None:
    """Pillow's direction argument for a paragraph (raqm only; BASIC takes none)."""
    if LAYOUT != ImageFont.Layout.RAQM:
        return None
    return "rtl" if (is_rtl(text) if rtl is None else rtl) else "ltr"


def _line_height(size: float) -> float:
    return 1.3 * size


def _wrap(text: str, font: Any, width: float) -> Iterator[str]:
    """Greedy word wrap by measured width; a word longer than a line is cut."""
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                yield line
            while font.getlength(word) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and font.getlength(word[:cut]) > width:
                    cut -= 1
                yield word[:cut]
                word = word[cut:]
            line = word
        if line:
            yield line


def _projected_bounds(
    geometry: BaseGeometry, to_crs: Transformer
) -> tuple[float, float, float, float]:
    coords = shapely.get_coordinates(geometry)
    xs, ys = to_crs.transform(coords[:, 0], coords[:, 1])
    return float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys))


def _ground_metres_per_pixel(
    bounds: tuple[float, float, float, float], crs: str, width: int
) -> float:
    """Geodesic length of the panel's middle row, per pixel (not the CRS's nominal metre)."""
    left, bottom, right, top = bounds
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    middle = (bottom + top) / 2
    (lon1, lon2), (lat1, lat2) = to_lonlat.transform([left, right], [middle, middle])
    _, _, distance = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(distance) / width


def _nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above `metres`."""
    power = 10 ** math.floor(math.log10(metres))
    return max(step * power for step in (1, 2, 5) if step * power <= metres)


def _north_angle(x: float, y: float, crs: str) -> float:
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    nx, ny = to_crs.transform(lon, lat + 0.001)
    return math.degrees(math.atan2(nx - x, ny - y))


def _scale_bar_text(metres: float, words: FigureWords = FigureWords()) -> str:
    """Digits then unit, left to right in any language (a measure, not a sentence)."""
    if metres >= 1000:
        return f"{metres / 1000:g} {words.kilometre}"
    return f"{metres:g} {words.metre}"


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _parts(shape: BaseGeometry) -> list[BaseGeometry]:
    return list(shapely.get_parts(shape)) if not shape.is_empty else []


def _polygons(shape: BaseGeometry) -> list[shapely.Polygon]:
    return [part for part in _parts(shape) if isinstance(part, shapely.Polygon)]


def _rings(shape: BaseGeometry) -> Iterator[tuple[list[tuple[float, float]], bool]]:
    for polygon in _polygons(shape):
        yield [tuple(c) for c in polygon.exterior.coords], False  # type: ignore[misc]
        for interior in polygon.interiors:
            yield [tuple(c) for c in interior.coords], True  # type: ignore[misc]


def _lines(shape: BaseGeometry) -> Iterator[list[tuple[float, float]]]:
    for part in _parts(shape):
        if isinstance(part, shapely.LineString):
            yield [tuple(c) for c in part.coords]  # type: ignore[misc]


def _label_positions(
    figure: FigureLayout, overlays: tuple[Overlay, ...]
) -> Iterator[tuple[str, float, float, str]]:
    """Each label above its shape's top-left corner (below it at the top edge), moved up a
    line at a time while it would overlap a label already placed."""
    size = LABEL_PT * figure.scale
    gap = figure.px(3)
    placed: list[tuple[float, float, float, float]] = []
    for overlay in overlays:
        if not overlay.label:
            continue
        left, top, _right, bottom = figure.to_pixels(overlay.geometry).bounds
        font = _font_for(overlay.label, size, True)
        label = _shortened(overlay.label, font, figure.width - 2 * gap)
        text_width = font.getlength(label)
        x = min(max(gap, left), max(gap, figure.width - text_width - gap))
        y = top - gap
        if y - size < 0:
            y = bottom + gap + size
        for _attempt in range(8):
            box = (x, y - size, x + text_width, y + 0.25 * size)
            if not any(_overlaps(box, other) for other in placed):
                break
            y -= _line_height(size)
        placed.append((x, y - size, x + text_width, y + 0.25 * size))
        yield label, x, y, overlay.colour


def _shortened(text: str, font: Any, width: float) -> str:
    """`text`, cut with an ellipsis where it would run off the figure (a caption, not a label,
    is the place for long text)."""
    if font.getlength(text) <= width:
        return text
    while len(text) > 1 and font.getlength(text + "\u2026") > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _footer_lines(
    figure: FigureLayout,
) -> Iterator[tuple[str, float, float, float, bool, str, bool]]:
    """Each caption and credit line: text, x, baseline y, size, bold, colour and whether it is
    set right-to-left (then x is its right end, at the right margin)."""
    margin = CAPTION_PT * figure.scale
    y = figure.panel_height + margin

    def start(rtl: bool) -> float:
        return figure.width - margin if rtl else margin

    size = CAPTION_PT * figure.scale
    for text in figure.caption_lines:
        y += _line_height(size)
        rtl = figure.caption_rtl
        yield text, start(rtl), y - 0.3 * size, size, True, "#111111", rtl
    y += 0.4 * margin
    size = CREDIT_PT * figure.scale
    rtls = figure.credit_rtl or (False,) * len(figure.credit_lines)
    for text, rtl in zip(figure.credit_lines, rtls, strict=True):
        y += _line_height(size)
        yield text, start(rtl), y - 0.3 * size, size, False, "#444444", rtl


@dataclass(frozen=True)
class _ScaleBar:
    """Bottom-left of the image panel: a white box, a black and a white half, the length."""

    box: tuple[float, float, float, float]
    black: tuple[float, float, float, float]
    white: tuple[float, float, float, float]
    text: str
    text_at: tuple[float, float]


def _scale_bar(figure: FigureLayout) -> _ScaleBar:
    margin, pad, thickness = figure.px(10), figure.px(3), figure.px(3)
    x, y, length = margin, figure.panel_height - margin - thickness, figure.scale_bar_px
    text = _scale_bar_text(figure.scale_bar_m, figure.words)
    text_width = _font_for(text, LABEL_PT * figure.scale, True).getlength(text)
    box_top = y - LABEL_PT * figure.scale - 2 * pad
    return _ScaleBar(
        box=(x - pad, box_top, x + max(length, text_width) + pad, y + thickness + pad),
        black=(x, y, x + length / 2, y + thickness),
        white=(x + length / 2, y, x + length, y + thickness),
        text=text,
        text_at=(x, y - pad),
    )


def _arrow_points(figure: FigureLayout) -> tuple[list[tuple[float, float]], tuple[float, float]]:
    """The north arrow's triangle and where its 'N' goes, top-right of the image panel."""
    size = figure.px(14)
    cx = figure.width - figure.px(10) - size / 2
    cy = figure.px(10) + size * 1.2
    angle = math.radians(figure.north_deg)

    def turn(dx: float, dy: float) -> tuple[float, float]:
        return (
            cx + dx * math.cos(angle) - dy * math.sin(angle),
            cy + dx * math.sin(angle) + dy * math.cos(angle),
        )

    triangle = [
        turn(0, -size / 2),
        turn(size / 3, size / 2),
        turn(0, size / 4),
        turn(-size / 3, size / 2),
    ]
    return triangle, turn(0, -size / 2 - figure.px(3))


def _draw_scale_bar(draw: ImageDraw.ImageDraw, figure: FigureLayout) -> None:
    bar = _scale_bar(figure)
    draw.rectangle(bar.box, fill="white")
    draw.rectangle(bar.black, fill="black")
    draw.rectangle(bar.white, fill="white", outline="black")
    draw.text(
        bar.text_at,
        bar.text,
        font=_font_for(bar.text, LABEL_PT * figure.scale, True),
        fill="black",
        anchor="ls",
        direction=_direction(bar.text, False),
    )


def _draw_north_arrow(draw: ImageDraw.ImageDraw, figure: FigureLayout) -> None:
    triangle, (nx, ny) = _arrow_points(figure)
    draw.polygon(triangle, fill="white", outline="black", width=figure.px(0.75))
    draw.text(
        (nx, ny),
        figure.words.north,
        font=_font_for(figure.words.north, LABEL_PT * figure.scale, True),
        fill="white",
        anchor="ms",
        stroke_width=figure.px(1),
        stroke_fill="black",
    )


def _svg_scale_bar(svg: ET.Element, figure: FigureLayout) -> None:
    bar = _scale_bar(figure)
    group = ET.SubElement(svg, "g", {"class": "scale-bar"})
    for (left, top, right, bottom), style in (
        (bar.box, {"fill": "white"}),
        (bar.black, {"fill": "black"}),
        (bar.white, {"fill": "white", "stroke": "black"}),
    ):
        ET.SubElement(
            group,
            "rect",
            {
                "x": _n(left),
                "y": _n(top),
                "width": _n(right - left),
                "height": _n(bottom - top),
                **style,
            },
        )
    label = ET.SubElement(
        group,
        "text",
        {
            "x": _n(bar.text_at[0]),
            "y": _n(bar.text_at[1]),
            "font-weight": "bold",
            "font-size": _n(LABEL_PT * figure.scale),
            "direction": "ltr",
        },
    )
    label.text = bar.text


def _svg_north_arrow(svg: ET.Element, figure: FigureLayout) -> None:
    triangle, (nx, ny) = _arrow_points(figure)
    group = ET.SubElement(svg, "g", {"class": "north-arrow"})
    outline = {"stroke": "black", "stroke-width": str(figure.px(0.75))}
    ET.SubElement(group, "path", {"d": _path(triangle, closed=True), "fill": "white", **outline})
    letter = ET.SubElement(
        group,
        "text",
        {
            "x": _n(nx),
            "y": _n(ny),
            "text-anchor": "middle",
            "font-weight": "bold",
            "font-size": _n(LABEL_PT * figure.scale),
            "fill": "white",
            "stroke": "black",
            "stroke-width": str(2 * figure.px(1)),
            "paint-order": "stroke",
        },
    )
    letter.text = figure.words.north


def _path(points: list[tuple[float, float]], closed: bool) -> str:
    head, *rest = points
    text = f"M{_n(head[0])} {_n(head[1])}" + "".join(f"L{_n(x)} {_n(y)}" for x, y in rest)
    return text + ("Z" if closed else "")


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _data_uri(crop: Crop) -> str:
    return "data:image/png;base64," + base64.b64encode(crop.png()).decode("ascii")
