"""The interactive map of a published report: one standalone HTML file made with folium.

Everything it needs is inside it: Leaflet's script and stylesheet (the vendored copy, its
images as data: URIs), each capture as a Web Mercator image overlay (a WebP data: URI cut
around the annotations), the annotations as GeoJSON. It makes no request at all, so it works
offline, from a file, and in a CMS iframe.

No user-written text (labels, quotes, notes, titles, providers) ever reaches folium. folium
and branca render each element's output a second time as a Jinja template, so text handed to
them would run as template source (`{{ 7*7 }}` would print 49, and longer payloads run code).
folium draws only the empty map, with placeholders; the page's text goes in afterwards, in one
pass that never re-reads what it put in, as data:
- a JSON block (`<script type="application/json">`) that STORY_SCRIPT reads to add the
  overlays, outlines, popups and the layer list;
- the panel (title, legend, credits), rendered by our own template as printed values.
Leaflet sets popups, layer names and attribution with innerHTML, so those strings are
HTML-escaped here first.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import escape
from shapely.geometry import shape
from shapely.ops import unary_union

from annotations.errors import InvalidInput
from annotations.newsroom.credits import (
    capture_date,
    evidence_notes,
    image_credit,
    label_colour,
    placement,
)
from annotations.newsroom.evidence import Evidence, EvidenceAnnotation, EvidenceImage
from annotations.newsroom.figure import credit_lines, merged_away
from annotations.newsroom.figure_words import figure_language, right_to_left, word
from imagery.crop import map_crop
from imagery.figure import FONTS_DIR
from imagery.georef.placement import metres

LEAFLET_DIR = Path(__file__).resolve().parents[2] / "annotator" / "static" / "vendor" / "leaflet"
#: Imagery shown around the annotations, on each side: this share of their extent, at least
#: MIN_CONTEXT_M metres.
CONTEXT_SHARE = 1.0
MIN_CONTEXT_M = 150.0
METRES_PER_DEGREE = 111_320.0
STANCES = frozenset({"supports", "contradicts", "context"})
CONFIDENCES = frozenset({"confirmed", "probable", "possible"})
#: Leaflet's own words (its controls' titles, the scale bar's units) that STORY_SCRIPT puts in
#: the report's language when it is not English
CONTROL_WORDS: tuple[str, ...] = ("zoom_in", "zoom_out", "layers", "close", "leaflet")
CONTROL_WORDS += ("metre", "kilometre", "foot", "mile")
SAFE_URL = re.compile(r"^https?://[^\s\"'<>`]+$", re.IGNORECASE)
#: Placeholders that folium renders as they are and `_fill` replaces afterwards.
TITLE_MARK = "annotator-story-title-0f3c"
HEAD_MARK = "<!-- annotator-story-head-0f3c -->"
BODY_MARK = "<!-- annotator-story-body-0f3c -->"
MAP_NAME = re.compile(r"^map_[0-9a-f]+$")
#: the fontsource subset for Arabic script (vendored beside the figure's fonts, with its licence)
ARABIC_WOFF2 = FONTS_DIR / "noto-naskh-arabic-arabic-400-normal.woff2"
ARABIC_RANGE = (
    "U+0600-06FF, U+0750-077F, U+0870-088E, U+0890-0891, U+0897-08E1, U+08E3-08FF, "
    "U+200C-200E, U+2010-2011, U+204F, U+2E41, U+FB50-FDFF, U+FE70-FE74, U+FE76-FEFC"
)

_templates = Environment(autoescape=True)
POPUP = _templates.from_string(
    """<div class="evidence-popup"{% if rtl %} dir="rtl" lang="{{ language }}"{% endif
 %}><strong dir="auto">{{ a.label_name }}</strong>
<div>{{ confidence }}</div>
<div>{{ captured }}{% if image.provider %} &middot; <span dir="auto">{{ image.provider
 }}</span>{% endif %}</div>
{% if placed %}<div class="evidence-placement">{{ placed }}</div>{% endif %}
{% for stance, quote, note in links %}<div class="evidence-claim"><em>{{ stance }}</em>
{% if quote %}{{ opening }}<span class="evidence-quote" dir="auto"{% if lang %} lang="{{ lang }}"{%
 endif %}>{{ quote }}</span>{{ closing }}{% else %}{{ whole }}{% endif %}
{% if note %}<span class="evidence-note">(<span dir="auto">{{ note }}</span>)</span>{% endif
 %}</div>{% endfor %}
</div>"""
)
PANEL = _templates.from_string(
    """<div class="story-panel"{% if rtl %} dir="rtl" lang="{{ language }}"{% endif %}>
<div class="story-title" dir="auto">{% if url %}<a href="{{ url }}" target="_blank"
 rel="noopener">{{ title }}</a>{% else %}{{ title }}{% endif %}</div>
<details class="story-details" open><summary>{{ legend_words }}</summary>
<ul class="story-legend">{% for name, colour in legend %}<li><span class="story-swatch"
 style="border-color: {{ colour }}; background: {{ colour }}40"></span><span dir="auto">{{ name
 }}</span></li>{% endfor %}
</ul>
{% for line in credits %}<div class="story-credit">{{ line }}</div>{% endfor %}
</details>
</div>"""
)
STYLE = """<style>
.story-panel { position: absolute; left: 10px; top: 84px; z-index: 1000; max-width: 22rem;
  background: rgba(255, 255, 255, 0.92); padding: 6px 9px; border-radius: 4px;
  font: 12px/1.4 "Noto Naskh Arabic", system-ui, sans-serif;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.35); }
.story-title { font-weight: 600; margin-bottom: 3px; }
.story-legend { list-style: none; margin: 0 0 4px; padding: 0; }
.story-swatch { display: inline-block; width: 12px; height: 12px; border: 2px solid;
  margin-right: 6px; vertical-align: -2px; }
.story-credit { color: #333; font-size: 11px; }
.evidence-popup { font: 13px/1.4 "Noto Naskh Arabic", system-ui, sans-serif; max-width: 26rem; }
.evidence-claim { margin-top: 4px; }
.evidence-note { color: #555; display: block; }
.story-details > summary { cursor: pointer; color: #333; font-size: 11px; }
.story-details[open] > summary { margin-bottom: 3px; }
.leaflet-control-attribution { font-size: 11px; }
/* the credits wrap upwards rather than run over the scale bar (bottom left) */
.leaflet-bottom.leaflet-right .leaflet-control-attribution {
  max-width: calc(100vw - 150px); white-space: normal; }
</style>"""


STORY_SCRIPT = """(function () {
  var map = %(map)s;
  var data = JSON.parse(document.getElementById("story-data").textContent);
  var overlays = {};
  data.captures.forEach(function (capture) {
    var image = capture.image;
    if (image) {
      overlays[image.name] = L.imageOverlay(image.url, image.bounds, {
        attribution: image.attribution, alt: image.alt, interactive: false
      }).addTo(map);
    }
    var group = L.featureGroup();
    capture.annotations.forEach(function (a) {
      var style = {color: a.colour, weight: 2, fillColor: a.colour, fillOpacity: 0.15};
      L.geoJSON(a.feature, {
        style: function () { return style; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {radius: 6, color: a.colour, fill: true});
        }
      }).bindPopup(a.popup, {maxWidth: 420}).addTo(group);
    });
    overlays[capture.name] = group.addTo(map);
  });
  // in a small frame (an 800 x 500 embed) the legend and the layer list start folded
  var small = window.innerWidth < %(wide)d || window.innerHeight < %(tall)d;
  var details = document.querySelector(".story-details");
  if (details && small) { details.open = false; }
  L.control.layers(null, overlays, {collapsed: small}).addTo(map);
  var words = data.words;  // a report not in English: Leaflet's own words in its language
  if (!words) { return; }
  var container = map.getContainer();
  // the layer list and the credits read in the report's direction (the map itself does not)
  [".leaflet-control-layers", ".leaflet-control-attribution"].forEach(function (selector) {
    var node = container.querySelector(selector);
    if (node && data.rtl) { node.dir = "rtl"; }
  });
  [[".leaflet-control-zoom-in", words.zoom_in], [".leaflet-control-zoom-out", words.zoom_out],
   [".leaflet-control-layers-toggle", words.layers]].forEach(function (pair) {
    var node = container.querySelector(pair[0]);
    if (node) { node.title = pair[1]; node.setAttribute("aria-label", pair[1]); }
  });
  map.on("popupopen", function (event) {
    var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) { close.title = words.close; close.setAttribute("aria-label", words.close); }
  });
  var control = map.attributionControl;
  if (control && control.options.prefix) {
    control.setPrefix(String(control.options.prefix).replace(/title="[^"]*"/, function () {
      return 'title="' + words.leaflet.replace(/[&"<>]/g, "") + '"';
    }));
  }
  var units = {m: words.metre, km: words.kilometre, ft: words.foot, mi: words.mile};
  var scaled = L.Control.Scale.prototype._updateScale;
  L.Control.Scale.prototype._updateScale = function (scale, text, ratio) {
    var parts = String(text).split(" ");
    var words = parts[0] + " " + (units[parts[1]] || parts[1] || "");
    // the figure first, then its unit, as Arabic reads (a right-to-left isolate)
    scaled.call(this, scale, data.rtl ? "\u2067" + words + "\u2069" : words, ratio);
  };
  map.fire("move");
})();"""
#: a map frame narrower or lower than this (CSS pixels) starts with its legend folded
UNFOLDED_MIN = (1000, 700)


def story_map_html(evidence: Evidence) -> str:
    if not evidence.annotations:
        raise InvalidInput("the report's evidence has no annotations to put on a map")
    import folium  # when first used: with pandas under it, it costs a second to import

    story = folium.Map(tiles=None, control_scale=True, max_zoom=22, zoom_start=16)
    story.default_js, story.default_css = [], []  # no CDN: Leaflet is inlined below
    page = story.get_root()
    assert isinstance(page, folium.Figure)
    page.title = TITLE_MARK
    page.header.add_child(folium.Element(HEAD_MARK), name="story_head")
    page.html.add_child(folium.Element(BODY_MARK), name="story_body")
    west, south, east, north = _bounds(evidence.annotations)
    story.fit_bounds([[south, west], [north, east]], padding=(30, 30))
    skeleton: str = page.render()
    name = story.get_name()
    if not MAP_NAME.match(name) or skeleton.count(BODY_MARK) != 1:
        raise RuntimeError("folium's page no longer has the shape this module fills in")
    language = figure_language(evidence.report.language)
    data: dict[str, Any] = {
        "captures": [_capture(evidence, image, shown) for image, shown in _by_image(evidence)]
    }
    if language != "en":  # Leaflet's own words in the report's language
        data["words"] = {key: word(language, key) for key in CONTROL_WORDS}
        data["rtl"] = right_to_left(language)
    body = (
        _panel(evidence)
        + '\n<script type="application/json" id="story-data">'
        + str(htmlsafe_json_dumps(data))
        + "</script>"
    )
    html = _fill(
        skeleton,
        {
            TITLE_MARK: str(escape(evidence.report.title)),
            HEAD_MARK: _leaflet_inline() + "\n" + STYLE + "\n" + arabic_font_face(),
            BODY_MARK: body,
        },
    )
    head, end, tail = html.rpartition("</html>")
    script = STORY_SCRIPT % {"map": name, "wide": UNFOLDED_MIN[0], "tall": UNFOLDED_MIN[1]}
    return f"{head}<script>\n{script}\n</script>\n{end}{tail}"


def _fill(skeleton: str, values: dict[str, str]) -> str:
    """Each placeholder replaced by its value in one pass: nothing put in is read again, so
    text that looks like a placeholder (or like template syntax) stays as it is."""
    pattern = re.compile("|".join(re.escape(mark) for mark in values))
    return pattern.sub(lambda match: values[match.group(0)], skeleton)


def story_map_csp(html: str) -> str:
    """A Content-Security-Policy under which this map runs and nothing else does: its own
    inline scripts by hash, inline styles, data: images, no connection anywhere. For a page
    that serves the map (an embed), in place of the app's 'self'-only policy."""
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in dict.fromkeys(scripts)
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )


def arabic_font_face() -> str:
    """Noto Naskh Arabic (its Arabic letters only) inside the page as a data: URL, so a map
    opened from a file still asks for nothing; Latin text keeps the system font."""
    font = base64.b64encode(ARABIC_WOFF2.read_bytes()).decode("ascii")
    return (
        '<style>@font-face { font-family: "Noto Naskh Arabic"; font-style: normal; '
        f'font-weight: 400; src: url(data:font/woff2;base64,{font}) format("woff2"); '
        f"unicode-range: {ARABIC_RANGE}; }}</style>"
    )


def popup_html(evidence: Evidence, annotation: EvidenceAnnotation) -> str:
    """What a click on the annotation shows, in the report's language; every piece of user
    text escaped."""
    language = figure_language(evidence.report.language)
    image = evidence.image(annotation.image_id)
    links = []
    for link in annotation.links:
        quote = evidence.claim(link.claim_id).exact if link.claim_id is not None else None
        stance = word(language, link.stance) if link.stance in STANCES else link.stance
        links.append((stance, quote, link.note))
    confidence = annotation.confidence
    if confidence in CONFIDENCES:
        confidence = word(language, confidence)
    # a claim quotes the report: in its language (an Arabic quote is never set in italics)
    return POPUP.render(
        a=annotation,
        image=image,
        confidence=word(language, "confidence", confidence=confidence),
        captured=word(language, "captured_at", date=capture_date(image))
        if image.captured_at
        else _date(image, language),
        placed=_placed(image, language),
        links=links,
        lang=evidence.report.language,
        language=language,
        rtl=right_to_left(language),
        whole=word(language, "whole_report"),
        opening=word(language, "quote_open"),
        closing=word(language, "quote_close"),
    )


def _date(image: EvidenceImage, language: str) -> str:
    """The capture's date (2024-12-13 08:21 UTC, as every output writes it), or that it is
    not known, in the report's language."""
    return capture_date(image) if image.captured_at else word(language, "date_unknown")


def _placed(image: EvidenceImage, language: str) -> str | None:
    """How the capture was placed ("Placed by 6 control points, RMSE 3.2 m"), or None when
    it is a north-up capture."""
    placed = placement(image)
    if not placed:
        return None
    if language == "en":
        return placed[0].upper() + placed[1:]
    if image.placement_error_m is not None and image.placement_points:
        rmse = metres(image.placement_error_m)
        return word(language, "placed", count=image.placement_points, rmse=rmse)
    return word(language, "placed_by", how=placed.removeprefix("placed by "))


def _capture(
    evidence: Evidence, image: EvidenceImage, annotations: list[EvidenceAnnotation]
) -> dict[str, Any]:
    """One capture as data: its image around these annotations, and the annotations over it.

    When the report coarsens its coordinates the imagery is left out: placed at its true
    position, the picture would show every object exactly where coarsening hides it."""
    language = figure_language(evidence.report.language)
    return {
        "name": str(escape(word(language, "annotations_on", date=_date(image, language)))),
        "image": None if evidence.coarsening else _image(evidence, image, annotations),
        "annotations": [
            {
                "feature": {
                    "type": "Feature",
                    "id": annotation.id,
                    "geometry": annotation.feature["geometry"],
                    "properties": {},
                },
                "colour": label_colour(annotation),
                "popup": popup_html(evidence, annotation),
            }
            for annotation in annotations
        ],
    }


def _image(
    evidence: Evidence, image: EvidenceImage, annotations: list[EvidenceAnnotation]
) -> dict[str, Any]:
    """The capture cut around these annotations (with some context), as an embedded overlay."""
    west, south, east, north = _bounds(annotations)
    shrink = max(math.cos(math.radians((south + north) / 2)), 0.01)  # a degree of longitude
    margin_lat = max(CONTEXT_SHARE * (north - south), MIN_CONTEXT_M / METRES_PER_DEGREE)
    margin_lon = max(CONTEXT_SHARE * (east - west), MIN_CONTEXT_M / METRES_PER_DEGREE / shrink)
    crop, (w, s, e, n) = map_crop(
        image.cog_path,
        (west - margin_lon, south - margin_lat, east + margin_lon, north + margin_lat),
        image.gsd_m,
    )
    language = figure_language(evidence.report.language)
    name = word(language, "image_on", date=_date(image, language))
    if image.provider:
        name += word(language, "list") + image.provider
    alt = word(language, "synthetic_alt", name=name) if image.synthetic else name
    return {
        "url": "data:image/webp;base64," + base64.b64encode(crop.webp()).decode("ascii"),
        "bounds": [[s, w], [n, e]],
        "name": str(escape(name)),  # Leaflet's layer list and attribution set innerHTML
        "attribution": str(escape(_credit(evidence, image, language))),
        "alt": alt,  # a DOM property
    }


def _credit(evidence: Evidence, image: EvidenceImage, language: str) -> str:
    """The capture's credit line, in the same words as the figure's."""
    return image_credit(image) if language == "en" else credit_lines(evidence, image, language)[0]


def _panel(evidence: Evidence) -> str:
    language = figure_language(evidence.report.language)
    legend: dict[str, str] = {}
    for annotation in evidence.annotations:
        colour = label_colour(annotation)
        legend.setdefault(annotation.label_name, colour)
    images = [image for image, _ in _by_image(evidence)]
    credits = [_credit(evidence, image, language) for image in images]
    if language == "en":
        credits += evidence_notes(evidence, images)
    else:
        if evidence.coarsening:
            credits.append(word(language, "coarsened", how=evidence.coarsening))
        if any(image.synthetic for image in images):
            credits.append(word(language, "synthetic"))
    published = evidence.published_at.strftime("%Y-%m-%d")
    if evidence.coarsening:
        credits.append(word(language, "left_off"))
    merged = len(evidence.annotations) - sum(len(shown) for _, shown in _by_image(evidence))
    if merged:
        one = merged == 1
        credits.append(word(language, "merged_one" if one else "merged_many", count=merged))
    credits.append(word(language, "published", date=published, name=evidence.published_by))
    url = (
        evidence.report.url if evidence.report.url and SAFE_URL.match(evidence.report.url) else None
    )
    return str(
        PANEL.render(
            title=evidence.report.title,
            url=url,
            legend=list(legend.items()),
            credits=credits,
            legend_words=word(language, "legend"),
            rtl=right_to_left(language),
            language=language,
        )
    )


def _by_image(evidence: Evidence) -> list[tuple[EvidenceImage, list[EvidenceAnnotation]]]:
    """Captures in time order (unknown dates last), each with its annotations (those marked
    the same object as another one on that capture left out: each object is drawn once)."""
    groups: dict[str, list[EvidenceAnnotation]] = {}
    folded = merged_away(evidence.annotations)
    for annotation in evidence.annotations:
        if annotation.id not in folded:
            groups.setdefault(annotation.image_id, []).append(annotation)
    images = [evidence.image(image_id) for image_id in groups]
    images.sort(key=lambda image: (image.captured_at is None, image.captured_at or 0, image.id))
    return [(image, groups[image.id]) for image in images]


def _bounds(annotations: Iterable[EvidenceAnnotation]) -> tuple[float, float, float, float]:
    shapes = unary_union([shape(a.feature["geometry"]) for a in annotations])
    west, south, east, north = shapes.bounds
    return float(west), float(south), float(east), float(north)


def _leaflet_inline(folder: Path = LEAFLET_DIR) -> str:
    """Leaflet's script and stylesheet as inline elements; the stylesheet's images as data:
    URIs; the source-map comment dropped (there is no map to fetch)."""
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    script = re.sub(r"//# sourceMappingURL=\S+\s*$", "", script)
    if "</script" in script.lower():
        raise ValueError("leaflet.js holds '</script' and cannot be inlined as it is")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (folder / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)
    return f"<style>{css}</style>\n<script>{script}</script>"
