"""A figure for a report in Arabic: its own words in Arabic, an editor's caption, and Arabic
shaped and ordered by libraqm exactly as the shaping library lays the same string out alone."""

from __future__ import annotations

import dataclasses
import io
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

from annotations.newsroom.evidence import Evidence
from annotations.newsroom.figure import figure_png, figure_spec, figure_svg
from imagery.figure import ARABIC_FONT_FILES, _footer_lines, is_rtl, layout
from tests.story import make_evidence, two_captures

SVG = "{http://www.w3.org/2000/svg}"
#: Arabic with a Latin model name, digits and parentheses: the clauses' order is the test
MIXED = "رصدت الصور طائرتين من طراز An-124 (رقم 2) في قاعدة حميميم"
TITLE = "وضع القوات الروسية في سوريا"


@pytest.fixture(scope="module")
def arabic(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    evidence = make_evidence(two_captures(tmp_path_factory.mktemp("figure-ar")))
    report = dataclasses.replace(evidence.report, language="ar", title=TITLE)
    return dataclasses.replace(evidence, report=report)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=int)


def plain(text: str | None) -> str:
    return (text or "").replace("\u2068", "").replace("\u2069", "")


def test_the_libraries_shape_with_raqm() -> None:
    assert features.check("raqm"), "libraqm is missing: install Debian's libraqm0 (make setup)"


def test_an_editors_arabic_caption_is_drawn_as_raqm_lays_it_out(arabic: Evidence) -> None:
    spec = figure_spec(arabic, width_px=1600, dpi=150, caption=MIXED)
    figure = layout(spec)
    assert figure.caption_lines == (MIXED,) and figure.caption_rtl
    drawn = pixels(
        Image.open(io.BytesIO(figure_png(arabic, width_px=1600, dpi=150, caption=MIXED)))
    )
    [(text, x, y, size, _bold, _colour, rtl)] = [
        line for line in _footer_lines(figure) if line[0] == MIXED
    ]
    assert rtl and x > figure.width / 2, "a right-to-left caption ends at the right margin"
    rows = slice(round(y - 1.3 * size), round(y + 0.5 * size))

    def alone(engine: ImageFont.Layout) -> np.ndarray:
        """The string drawn by itself on white, where the figure draws it."""
        font = ImageFont.truetype(ARABIC_FONT_FILES[True], round(size), layout_engine=engine)
        canvas = Image.new("RGB", (figure.width, figure.height), "white")
        direction = "rtl" if engine == ImageFont.Layout.RAQM else None
        ImageDraw.Draw(canvas).text(
            (x, y), text, font=font, fill="#111111", anchor="rs", direction=direction
        )
        return pixels(canvas)[rows]

    reference = alone(ImageFont.Layout.RAQM)
    assert (reference < 128).sum() > 2000, "the reference holds the drawn caption"
    assert np.abs(drawn[rows] - reference).max() == 0, "the same glyphs at the same places"
    # the comparison can fail: unshaped letters in memory order are another picture
    unshaped = alone(ImageFont.Layout.BASIC)
    assert np.abs(drawn[rows] - unshaped).mean() > 5


def test_the_figures_own_words_are_in_the_reports_language(arabic: Evidence) -> None:
    spec = figure_spec(arabic, width_px=1200)
    # each value is a bidi isolate, so a date keeps its order among Arabic words
    assert "بتاريخ \u20682024-12-13 08:21 UTC\u2069" in spec.caption
    caption, credit = plain(spec.caption), plain(spec.credit[0])
    assert spec.words.north == "ش" and spec.words.metre == "م"
    assert caption.endswith(f"دليل على «{TITLE}».")
    assert spec.caption_rtl and spec.credit_rtl, "set right-to-left, though it opens with '2 x'"
    assert layout(spec).caption_rtl
    assert is_rtl(MIXED) and not is_rtl(f"An-124 {TITLE}"), "else the first strong letter decides"
    assert " في Hmeimim" in caption and "بتاريخ 2024-12-13" in caption
    assert credit.startswith("التُقطت 2024-12-13") and "الصورة: Demo Provider" in credit
    english = dataclasses.replace(arabic, report=dataclasses.replace(arabic.report, language="en"))
    assert figure_spec(english, width_px=1200).words.north == "N"
    assert "Evidence for" in figure_spec(english, width_px=1200).caption


def test_svg_text_carries_its_direction(arabic: Evidence) -> None:
    root = ET.fromstring(figure_svg(arabic, width_px=1200, caption=MIXED))  # noqa: S314
    assert "Noto Naskh Arabic" in root.get("font-family", "")
    texts = {node.text: node for node in root.iter(f"{SVG}text")}
    caption = texts[MIXED]
    assert caption.get("direction") == "rtl" and caption.get("style") == "unicode-bidi: plaintext"
    assert float(caption.get("x", 0)) > 1000, "anchored at the right margin"
    [credit] = [node for text, node in texts.items() if plain(text).startswith("التُقطت")]
    assert credit.get("direction") == "rtl"
    [bar] = [node for text, node in texts.items() if text and text.endswith((" م", " كم"))]
    assert bar.get("direction") == "ltr", "a measure reads left to right"
    assert "ش" in texts
    for node in root.iter(f"{SVG}text"):
        if node.text not in ("ش", bar.text):
            assert node.get("style") == "unicode-bidi: plaintext", node.text
