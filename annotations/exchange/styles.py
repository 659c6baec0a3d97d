"""Layer styles in the label colours, for the GIS clients that read them: a QGIS style (QML)
for the `layer_styles` table of a GeoPackage and a `.qml` beside a Shapefile, and the same
as an OGC SLD (read by QGIS, GeoServer and others) in the table's `styleSLD`.

Each is a categorised style on the `label` field: one category per label of the taxonomy,
in its colour (polygons filled at 40 %). Built with ElementTree, so a label's id or name is
an attribute value or text, escaped, never markup; characters XML 1.0 cannot hold are
replaced, as in the KML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Literal

from annotations.labels.taxonomy import Taxonomy

Kind = Literal["marker", "line", "fill"]
#: a layer family -> QGIS's symbol type
SYMBOLS: dict[str, Kind] = {"points": "marker", "lines": "line", "polygons": "fill"}
QGIS_VERSION = "3.22.16-Białowieża"
FILL_ALPHA = 102  # 40 % of 255, as the KML
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"
SE = "http://www.opengis.net/se"


def clean(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b); anything else is white."""
    text = colour.lstrip("#").lower()
    if not re.fullmatch("[0-9a-f]{6}", text):
        text = "ffffff"
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def _labels(taxonomy: Taxonomy) -> list[tuple[str, str, tuple[int, int, int]]]:
    return [(clean(label.id), clean(label.name), rgb(label.colour)) for label in taxonomy]


def _options(layer: ET.Element, values: dict[str, str]) -> None:
    """QGIS 3 reads the `Option` map; older ones the `prop` elements: both, as QGIS writes."""
    options = ET.SubElement(layer, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in values.items():
        ET.SubElement(layer, "prop", k=key, v=value)


def _symbol(parent: ET.Element, name: str, kind: Kind, colour: tuple[int, int, int]) -> None:
    solid = "{},{},{},255".format(*colour)
    symbol = ET.SubElement(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    fill = "{},{},{},{}".format(*colour, FILL_ALPHA)
    kinds = {
        "marker": (
            "SimpleMarker",
            {
                "name": "circle",
                "color": solid,
                "size": "3",
                "outline_color": "35,35,35,255",
                "outline_width": "0.4",
            },
        ),
        "line": (
            "SimpleLine",
            {
                "line_color": solid,
                "line_width": "0.8",
                "line_style": "solid",
                "capstyle": "round",
                "joinstyle": "round",
            },
        ),
        "fill": (
            "SimpleFill",
            {
                "color": fill,
                "style": "solid",
                "outline_color": solid,
                "outline_style": "solid",
                "outline_width": "0.6",
            },
        ),
    }
    name_, values = kinds[kind]
    layer = ET.SubElement(
        symbol, "layer", {"class": name_, "enabled": "1", "locked": "0", "pass": "0"}
    )
    _options(layer, values)


def qml(taxonomy: Taxonomy, kind: Kind, field: str = "label") -> str:
    """A QGIS style: categories on `field`, one per label, in its colour."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="categorizedSymbol",
        attr=field,
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
        referencescale="-1",
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for number, (label_id, name, colour) in enumerate(_labels(taxonomy)):
        ET.SubElement(
            categories,
            "category",
            render="true",
            symbol=str(number),
            value=label_id,
            label=name,
            type="string",
        )
        _symbol(symbols, str(number), kind, colour)
    source = ET.SubElement(renderer, "source-symbol")
    _symbol(source, "0", kind, (128, 128, 128))
    ET.SubElement(root, "layerGeometryType").text = {"marker": "0", "line": "1", "fill": "2"}[kind]
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def sld(taxonomy: Taxonomy, kind: Kind, layer: str, field: str = "label") -> str:
    """The same style as an SLD 1.1 (Symbology Encoding): a rule per label."""
    ET.register_namespace("", SLD)
    ET.register_namespace("ogc", OGC)
    ET.register_namespace("se", SE)
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{SE}}}Name").text = clean(layer)
    user = ET.SubElement(named, f"{{{SLD}}}UserStyle")
    ET.SubElement(user, f"{{{SE}}}Name").text = "label colours"
    style = ET.SubElement(user, f"{{{SE}}}FeatureTypeStyle")
    for label_id, name, colour in _labels(taxonomy):
        rule = ET.SubElement(style, f"{{{SE}}}Rule")
        ET.SubElement(rule, f"{{{SE}}}Name").text = label_id
        description = ET.SubElement(rule, f"{{{SE}}}Description")
        ET.SubElement(description, f"{{{SE}}}Title").text = name
        condition = ET.SubElement(
            ET.SubElement(rule, f"{{{OGC}}}Filter"), f"{{{OGC}}}PropertyIsEqualTo"
        )
        ET.SubElement(condition, f"{{{OGC}}}PropertyName").text = clean(field)
        ET.SubElement(condition, f"{{{OGC}}}Literal").text = label_id
        _sld_symbolizer(rule, kind, "#{:02x}{:02x}{:02x}".format(*colour))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _parameters(parent: ET.Element, tag: str, values: Iterable[tuple[str, str]]) -> None:
    holder = ET.SubElement(parent, f"{{{SE}}}{tag}")
    for name, value in values:
        ET.SubElement(holder, f"{{{SE}}}SvgParameter", name=name).text = value


def _sld_symbolizer(rule: ET.Element, kind: Kind, colour: str) -> None:
    if kind == "marker":
        symbolizer = ET.SubElement(rule, f"{{{SE}}}PointSymbolizer")
        graphic = ET.SubElement(symbolizer, f"{{{SE}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{SE}}}Mark")
        ET.SubElement(mark, f"{{{SE}}}WellKnownName").text = "circle"
        _parameters(mark, "Fill", [("fill", colour)])
        _parameters(mark, "Stroke", [("stroke", "#232323"), ("stroke-width", "1")])
        ET.SubElement(graphic, f"{{{SE}}}Size").text = "11"
    elif kind == "line":
        symbolizer = ET.SubElement(rule, f"{{{SE}}}LineSymbolizer")
        _parameters(symbolizer, "Stroke", [("stroke", colour), ("stroke-width", "3")])
    else:
        symbolizer = ET.SubElement(rule, f"{{{SE}}}PolygonSymbolizer")
        _parameters(symbolizer, "Fill", [("fill", colour), ("fill-opacity", "0.4")])
        _parameters(symbolizer, "Stroke", [("stroke", colour), ("stroke-width", "2")])
