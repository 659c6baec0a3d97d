"""The standalone folium map, parsed: nothing loaded from outside, Leaflet inline, text escaped."""

from __future__ import annotations

import base64
import dataclasses
import html.parser
import io
import json
import re
from typing import Any

import pytest
from PIL import Image

from annotations.errors import InvalidInput
from annotations.newsroom.evidence import Evidence
from annotations.newsroom.story_map import popup_html, story_map_html
from tests.story import HOSTILE, make_evidence, two_captures


class Page(html.parser.HTMLParser):
    """Every tag with its attributes, the text outside scripts and styles, and the scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None
        if tag == "script":
            self.scripts.append("")
        if tag == "style":
            self.styles.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        elif self._in is None:
            self.text.append(data)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    return make_evidence(two_captures(tmp_path_factory.mktemp("map")), hostile=True)


@pytest.fixture(scope="module")
def page(evidence: Evidence) -> Page:
    parsed = Page()
    parsed.feed(story_map_html(evidence))
    return parsed


def test_nothing_is_loaded_from_outside(page: Page, evidence: Evidence) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed"), (tag, attrs)
        assert not (tag == "script" and attrs.get("src")), attrs
        for name in ("src", "href", "srcset", "data", "action"):
            value = attrs.get(name) or ""
            if re.match(r"^\s*(https?:)?//", value):
                assert tag == "a" and value == evidence.report.url, (tag, attrs)


def test_leaflet_is_inlined_with_its_images(page: Page) -> None:
    assert any("Leaflet 1.9.4" in script and "L.map" not in script for script in page.scripts)
    [leaflet_css] = [style for style in page.styles if ".leaflet-control-layers-toggle" in style]
    assert "url(images/" not in leaflet_css and "url(data:image/png;base64," in leaflet_css
    assert "sourceMappingURL" not in "".join(page.scripts)


def story_data(html: str) -> dict[str, Any]:
    """The map's JSON data block, which its script reads."""
    [raw] = re.findall(r'<script type="application/json" id="story-data">(.*?)</script>', html,
                       flags=re.DOTALL)  # fmt: skip
    assert "<" not in raw, "markup in the data block is escaped as \\u003c"
    data: dict[str, Any] = json.loads(raw)
    return data


@pytest.fixture(scope="module")
def data(evidence: Evidence) -> dict[str, Any]:
    return story_data(story_map_html(evidence))


def test_every_capture_is_an_embedded_overlay_of_the_image(data: dict[str, Any]) -> None:
    overlays = [capture["image"]["url"] for capture in data["captures"]]
    assert len(overlays) == 2
    assert all(re.fullmatch(r"data:image/webp;base64,[A-Za-z0-9+/=]+", uri) for uri in overlays)
    for uri in overlays:
        image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert image.format == "WEBP" and min(image.size) > 100
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 1000, "real pixels, not a blank"


def test_a_coarsened_report_leaves_the_imagery_off_the_map(evidence: Evidence) -> None:
    """Placed at its true position, the picture would undo the coarsening."""
    coarse = dataclasses.replace(evidence, coarsening="rounded to 1000 m")
    html = story_map_html(coarse)
    assert "data:image/webp" not in html
    assert "Positions coarsened: rounded to 1000 m." in html
    assert "left off this map" in html
    captures = story_data(html)["captures"]
    assert [capture["image"] for capture in captures] == [None, None]
    shown = sum(len(capture["annotations"]) for capture in captures)
    assert shown == len(evidence.annotations)  # the annotations still are


def test_popups_hold_escaped_text_only(
    page: Page, data: dict[str, Any], evidence: Evidence
) -> None:
    scripts = "".join(page.scripts)
    assert "<script>alert" not in scripts and "<img src=x" not in scripts
    popups = [a["popup"] for capture in data["captures"] for a in capture["annotations"]]
    assert len(popups) == len(evidence.annotations)
    first = Page()
    first.feed(next(popup for popup in popups if "Supports" in popup and "Ruslan&lt;" in popup))
    assert {tag for tag, _ in first.tags} <= {"div", "strong", "em", "span"}
    text = " ".join("".join(first.text).split())
    assert f"Antonov An-124 Ruslan{HOSTILE}" in text
    assert f"Supports \u201ctwo Antonov AN-124 aircraft{HOSTILE} at the Hmeimim base\u201d" in text
    assert "Captured: 2024-12-13 08:21 UTC" in text and "Confidence: confirmed" in text


def test_legend_title_and_credits_are_text(page: Page) -> None:
    text = " ".join("".join(page.text).split())
    assert f"The situation of the Russian forces in Syria{HOSTILE}" in text
    assert f"Antonov An-124 Ruslan{HOSTILE}" in text
    assert (
        "Captured 2024-12-13 08:21 UTC \u00b7 Image: Demo Provider \u00b7 Licence: CC BY 4.0"
        in text
    )
    assert "2024-12-10 08:21 UTC" in text
    tags = {tag for tag, _ in page.tags}
    assert "img" not in tags
    # Leaflet, folium's settings and map, the story's script, and the data block
    assert sum(1 for tag, _ in page.tags if tag == "script") == len(page.scripts) == 5


def test_layer_names_and_attribution_are_escaped_for_leaflet(evidence: Evidence) -> None:
    """Leaflet sets layer names and attribution with innerHTML: they must arrive escaped."""
    image = dataclasses.replace(evidence.images[0], provider=f"Sat{HOSTILE}")
    marked = dataclasses.replace(evidence, images=(image, *evidence.images[1:]))
    captures = story_data(story_map_html(marked))["captures"]
    attributions = [capture["image"]["attribution"] for capture in captures]
    names = [capture["name"] for capture in captures]
    names += [capture["image"]["name"] for capture in captures]
    assert len(attributions) == 2 and len(names) == 4
    for raw in attributions + names:
        value = Page()
        value.feed(raw)
        assert value.tags == [], raw
    assert any(HOSTILE in "".join(_text(raw)) for raw in attributions)
    assert any(HOSTILE in "".join(_text(raw)) for raw in names)


def test_popup_names_the_report_when_no_claim(evidence: Evidence) -> None:
    text = popup_html(evidence, evidence.annotations[2])
    assert "Context for" in text and "the report as a whole" in text


def test_a_report_url_that_is_not_http_is_not_linked(evidence: Evidence) -> None:
    report = dataclasses.replace(evidence.report, url="javascript:alert(1)")
    marked = dataclasses.replace(evidence, report=report)
    parsed = Page()
    parsed.feed(story_map_html(marked))
    assert not any("javascript" in (attrs.get("href") or "") for _, attrs in parsed.tags)


def test_no_annotations_is_refused(evidence: Evidence) -> None:
    empty = dataclasses.replace(evidence, annotations=())
    with pytest.raises(InvalidInput):
        story_map_html(empty)


def _text(markup: str) -> list[str]:
    parsed = Page()
    parsed.feed(markup)
    return parsed.text


def scripts_of(text: str) -> list[str]:
    parsed = Page()
    parsed.feed(text)
    return parsed.scripts


def test_points_are_circle_markers_not_icons_to_fetch(evidence: Evidence) -> None:
    point = {"type": "Point", "coordinates": [36.1957, 35.3973]}
    first = evidence.annotations[0]
    marked = dataclasses.replace(
        evidence,
        annotations=(dataclasses.replace(first, feature={**first.feature, "geometry": point}),),
    )
    html = story_map_html(marked)
    [ours] = [s for s in scripts_of(html) if "story-data" in s]
    assert "L.circleMarker(" in ours and "L.marker(" not in ours
    [shown] = story_data(html)["captures"][0]["annotations"]
    assert shown["feature"]["geometry"] == point
