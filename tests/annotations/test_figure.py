"""The annotated figure, PNG and SVG, drawn from a real COG written by imagery.ingest."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas
import numpy as np
import pytest
from PIL import Image, ImageDraw
from pyproj import Proj
from shapely.geometry import mapping, shape

from annotations.errors import InvalidInput, NotFound
from annotations.newsroom.evidence import Evidence
from annotations.newsroom.figure import figure_png, figure_spec, figure_svg
from imagery.errors import BadFigureRequest
from imagery.figure import layout, render_png
from imagery.ingest import ingest
from tests.story import HOSTILE, annotation, evidence_image, make_evidence, two_captures

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    return make_evidence(two_captures(tmp_path_factory.mktemp("figure")), hostile=True)


def test_png_has_the_asked_size_and_dpi(evidence: Evidence) -> None:
    png = figure_png(evidence, width_px=1200, height_px=900, dpi=150)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 900)
    assert [round(v) for v in image.info["dpi"]] == [150, 150]


def test_default_height_follows_the_crop(evidence: Evidence) -> None:
    spec = figure_spec(evidence, width_px=1000)
    figure = layout(spec)
    image = Image.open(io.BytesIO(render_png(spec)))
    assert image.size == (1000, figure.height) and figure.height > figure.panel_height


def test_outlines_change_the_pixels_inside_each_annotation_and_nothing_far_away(
    evidence: Evidence,
) -> None:
    spec = figure_spec(evidence, width_px=1200, dpi=150)
    figure = layout(spec)
    drawn = np.asarray(Image.open(io.BytesIO(render_png(spec))).convert("RGB"), dtype=int)
    bare_spec = dataclasses.replace(spec, overlays=())
    bare = np.asarray(Image.open(io.BytesIO(render_png(bare_spec))).convert("RGB"), dtype=int)
    assert drawn.shape == bare.shape
    difference = np.abs(drawn - bare).sum(axis=2)
    everything = np.zeros(difference.shape, dtype=bool)
    for overlay in spec.overlays:
        outline = figure.to_pixels(overlay.geometry)
        mask = Image.new("1", (figure.width, figure.height))
        ImageDraw.Draw(mask).polygon(list(outline.exterior.coords), fill=1)
        inside = np.asarray(mask, dtype=bool)
        assert inside.sum() > 1000, "the annotation covers a fair part of the figure"
        assert (difference[inside] > 0).mean() > 0.95, "fill and outline mark the whole shape"
        everything |= inside
    # below the annotations and left of the scale bar's right end nothing is drawn
    rows = slice(figure.panel_height // 2 + 200, figure.panel_height - 80)
    assert not everything[rows].any()
    assert (difference[rows] == 0).all()


def test_scale_bar_and_north_arrow_are_true(evidence: Evidence) -> None:
    spec = figure_spec(evidence, annotation_ids=["a2"], width_px=1600)
    figure = layout(spec)
    metres_per_pixel = figure.scale_bar_m / figure.scale_bar_px
    box = figure.to_pixels(spec.overlays[0].geometry)
    left, _, right, _ = box.bounds
    assert (right - left) * metres_per_pixel == pytest.approx(69.0, rel=0.01)
    assert str(figure.scale_bar_m)[0] in "125"
    centre = spec.focus.centroid
    convergence = Proj(figure.crs).get_factors(centre.x, centre.y).meridian_convergence
    assert figure.crs == "EPSG:32636"
    assert figure.north_deg == pytest.approx(-convergence, abs=0.05)


def test_svg_shows_markup_as_text(evidence: Evidence) -> None:
    svg = figure_svg(evidence, width_px=1200)
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= {"svg", "rect", "image", "g", "title", "path", "circle", "text"}, tags
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    caption = " ".join(t for t in texts if t.startswith("Two An-124s") or "onerror" in t)
    assert f"Two An-124s{HOSTILE}" in caption
    [label] = [t for t in texts if t.startswith("Antonov An-124 Ruslan<script>")]
    assert f"Antonov An-124 Ruslan{HOSTILE}".startswith(label.removesuffix("\u2026")), label
    [title] = [t.text for t in root.iter(f"{SVG}title") if "<script>" in (t.text or "")]
    assert title == f"Antonov An-124 Ruslan{HOSTILE}"
    assert any("Demo Provider" in t and "CC BY 4.0" in t and "2024-12-13" in t for t in texts)
    assert "<script" not in svg and "<img" not in svg
    [image] = root.iter(f"{SVG}image")
    assert image.get("href", "").startswith("data:image/png;base64,")


def test_default_figure_uses_the_capture_with_most_annotations(evidence: Evidence) -> None:
    spec = figure_spec(evidence)
    assert spec.cog_path == evidence.images[0].cog_path and len(spec.overlays) == 2


def test_chosen_annotations_on_another_capture(evidence: Evidence) -> None:
    spec = figure_spec(evidence, annotation_ids=["a3"])
    assert spec.cog_path == evidence.images[1].cog_path
    assert any("2024-12-10" in line for line in spec.credit)


def test_bad_choices_and_sizes_are_refused(evidence: Evidence) -> None:
    with pytest.raises(NotFound, match="nope"):
        figure_spec(evidence, annotation_ids=["a1", "nope"])
    with pytest.raises(InvalidInput, match="one capture"):
        figure_spec(evidence, annotation_ids=["a1", "a3"])
    with pytest.raises(InvalidInput, match="at least one"):
        figure_spec(evidence, annotation_ids=[])
    for kwargs in ({"width_px": 50}, {"height_px": 100_000}, {"dpi": 5}, {"height_px": 210}):
        with pytest.raises(BadFigureRequest):
            figure_png(evidence, **kwargs)  # type: ignore[arg-type]


def test_a_missing_cog_is_one_clear_error(evidence: Evidence, tmp_path: Path) -> None:
    gone = dataclasses.replace(evidence.images[0], cog_path=tmp_path / "gone.tif")
    broken = dataclasses.replace(evidence, images=(gone, *evidence.images[1:]))
    from imagery.errors import ImageryError

    with pytest.raises(ImageryError, match=r"gone\.tif"):
        figure_png(broken, width_px=400)


def test_coarsened_and_synthetic_evidence_say_so(evidence: Evidence) -> None:
    synthetic = dataclasses.replace(evidence.images[0], synthetic=True)
    marked = dataclasses.replace(
        evidence, images=(synthetic, *evidence.images[1:]), coarsening="rounded to 500 m"
    )
    credit = " ".join(figure_spec(marked).credit)
    assert "rounded to 500 m" in credit and "Synthetic" in credit


def test_the_shape_drawn_is_the_published_geometry(evidence: Evidence) -> None:
    spec = figure_spec(evidence, annotation_ids=["a1"])
    assert spec.overlays[0].geometry.equals(shape(evidence.annotations[0].feature["geometry"]))


def test_points_and_lines_are_drawn_too(evidence: Evidence) -> None:
    """A convoy drawn as a line and a vehicle as a point: outlined, and their pixels change."""
    box = shape(evidence.annotations[1].feature["geometry"])
    line = {"type": "LineString", "coordinates": [list(c) for c in box.exterior.coords[:3]]}
    point = {"type": "Point", "coordinates": list(box.centroid.coords[0])}
    shapes = [
        dataclasses.replace(a, id=f"{a.id}-{kind}", feature={**a.feature, "geometry": geometry})
        for a, kind, geometry in ((evidence.annotations[1], "line", line),
                                  (evidence.annotations[1], "point", point))
    ]  # fmt: skip
    marked = dataclasses.replace(evidence, annotations=(*evidence.annotations, *shapes))
    spec = figure_spec(marked, annotation_ids=["a2-line", "a2-point"], width_px=800)
    figure = layout(spec)
    drawn = np.asarray(Image.open(io.BytesIO(render_png(spec))).convert("RGB"), dtype=int)
    bare_spec = dataclasses.replace(spec, overlays=())
    bare = np.asarray(Image.open(io.BytesIO(render_png(bare_spec))).convert("RGB"), dtype=int)
    for overlay in spec.overlays:
        x, y = figure.to_pixels(overlay.geometry).representative_point().coords[0]
        near = (slice(round(y) - 3, round(y) + 4), slice(round(x) - 3, round(x) + 4))
        assert np.abs(drawn[near] - bare[near]).sum() > 0, overlay.label
    svg = ET.fromstring(figure_svg(marked, annotation_ids=["a2-line", "a2-point"], width_px=800))  # noqa: S314
    assert len(list(svg.iter(f"{SVG}circle"))) == 1
    assert any(p.get("fill") == "none" for p in svg.iter(f"{SVG}path"))


def test_real_16_bit_capture_with_its_real_building_outlines(
    shared_data: Path, tmp_path: Path
) -> None:
    """SpaceNet's 0.5 m panchromatic uint16 Atlanta scene and three of its building polygons
    (UTM, reprojected here): the stored stretch is used and the outlines land on the image."""
    facts = ingest(shared_data / "sample_geotiff.tif", tmp_path / "store")
    buildings = geopandas.read_file(shared_data / "geotiff_labels.geojson").to_crs("EPSG:4326")
    image = evidence_image(facts, provider="SpaceNet / CosmiQ Works", licence="CC BY-SA 4.0")
    chosen = [
        annotation(f"b{i}", image, dict(mapping(geometry)), label_name="Building", colour="#f97316")
        for i, geometry in enumerate(buildings.geometry.iloc[:3])
    ]
    evidence = dataclasses.replace(
        make_evidence([facts]), images=(image,), annotations=tuple(chosen)
    )
    spec = figure_spec(evidence, width_px=900, dpi=150)
    figure = layout(spec)
    assert figure.crs == "EPSG:32616"
    drawn = np.asarray(Image.open(io.BytesIO(render_png(spec))).convert("RGB"), dtype=int)
    bare_spec = dataclasses.replace(spec, overlays=())
    bare = np.asarray(Image.open(io.BytesIO(render_png(bare_spec))).convert("RGB"), dtype=int)
    panel = bare[: figure.panel_height]
    assert panel.std() > 10, "the stretched image, not a flat grey"
    for overlay in spec.overlays:
        mask = Image.new("1", (figure.width, figure.height))
        ImageDraw.Draw(mask).polygon(
            list(figure.to_pixels(overlay.geometry).exterior.coords), fill=1
        )
        inside = np.asarray(mask, dtype=bool)
        assert (np.abs(drawn - bare).sum(axis=2)[inside] > 0).mean() > 0.95
