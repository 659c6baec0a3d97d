"""The site chart: look-alike taxonomy colours moved apart (CIE76 in Lab), and series drawn on
top of one another spread apart, each with its own dash and marker."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

from flask import Flask

from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site
from annotations.labels.taxonomy import load_taxonomy
from annotations.timeline import COUNTED_STATUSES, Capture, LabelCount, Timeline
from annotator.pages.chart import timeline_chart
from annotator.pages.chart_colours import (
    MIN_DELTA_E,
    delta_e,
    distinct_colours,
    hex_to_lab,
    lab_to_hex,
)
from tests.conftest import token_for


def test_lab_and_cie76_match_published_values() -> None:
    # sRGB red is L*a*b* (53.24, 80.09, 67.20) under D65 (Bruce Lindbloom's calculator)
    lightness, a, b = hex_to_lab("#ff0000")
    assert (round(lightness, 2), round(a, 2), round(b, 2)) == (53.24, 80.09, 67.20)
    assert hex_to_lab("#ffffff")[0] > 99.99 and abs(hex_to_lab("#808080")[1]) < 0.01
    assert round(delta_e("#000000", "#ffffff"), 1) == 100.0
    for colour in ("#123456", "#06b6d4", "#22d3ee", "#ffffff", "#000000"):
        assert lab_to_hex(hex_to_lab(colour)) == colour
    assert lab_to_hex((50.0, 150.0, 0.0)) is None  # no screen shows it


def test_look_alike_taxonomy_colours_are_moved_apart_and_the_first_keeps_its_own() -> None:
    taxonomy = {label.id: label.colour for label in load_taxonomy()}
    an124, an26 = "aircraft.transport.an-124", "aircraft.transport.an-26"
    assert delta_e(taxonomy[an124], taxonomy[an26]) < 15  # the shipped colours look alike
    chosen = distinct_colours([an124, an26], taxonomy)
    assert chosen[an124] == taxonomy[an124]
    assert chosen[an26] != taxonomy[an26]
    assert delta_e(chosen[an124], chosen[an26]) >= MIN_DELTA_E
    # the eight most alike labels of the taxonomy, drawn together: every pair told apart
    pairs = sorted(
        itertools.combinations(taxonomy, 2), key=lambda p: delta_e(taxonomy[p[0]], taxonomy[p[1]])
    )
    crowded = list(dict.fromkeys(label for pair in pairs[:6] for label in pair))[:8]
    colours = distinct_colours(crowded, taxonomy)
    gaps = [delta_e(colours[a], colours[b]) for a, b in itertools.combinations(crowded, 2)]
    assert min(gaps) >= MIN_DELTA_E, gaps


def test_colours_already_apart_are_kept() -> None:
    given = {"a": "#dc2626", "b": "#2563eb", "c": "#16a34a"}
    assert distinct_colours(["a", "b", "c"], given) == given
    assert distinct_colours(["x"], {}) == {"x": "#555555"}


def test_series_with_the_same_counts_are_spread_apart_with_own_dash_and_marker() -> None:
    captures = tuple(
        Capture(
            Image(id=f"{day:032x}", captured_at=datetime(2024, 12, day, tzinfo=UTC)),
            (LabelCount("a", 2, 2), LabelCount("b", 2, 2), LabelCount("c", 1, 1 if day < 3 else 2)),
        )
        for day in (1, 2, 3)
    )
    timeline = Timeline(Site(slug="s", name="S"), COUNTED_STATUSES, captures)
    chart = timeline_chart(timeline, {}, {"a": "#111111", "b": "#222222", "c": "#333333"})
    a, b, c = chart.series
    assert [p.value for p in a.points] == [p.value for p in b.points] == [2, 2, 2]
    for pa, pb in zip(a.points, b.points, strict=True):
        assert abs(pa.y - pb.y) >= 3, "two series with the same counts do not hide each other"
    assert c.points[0].y != a.points[0].y and c.points[0].y != b.points[0].y
    # on day 3 all three share the count 2: three distinct heights, centred on the true one
    last = sorted(s.points[2].y for s in chart.series)
    assert len(set(last)) == 3 and abs(last[1] - (last[0] + last[2]) / 2) < 1e-9
    assert len({s.dash for s in chart.series}) == 3
    assert len({s.marker for s in chart.series}) == 3


def test_the_site_page_draws_look_alike_labels_in_distinct_colours(demo_app: Flask) -> None:
    headers = {"Authorization": f"Bearer {token_for(demo_app, 'viewer')}"}
    html = demo_app.test_client().get("/sites/hmeimim", headers=headers).get_data(as_text=True)
    drawn = re.findall(r'<g class="series" data-label="([^"]+)" data-colour="(#[0-9a-f]{6})"', html)
    assert len(drawn) >= 2
    colours = [colour for _, colour in drawn]
    for first, second in itertools.combinations(colours, 2):
        assert delta_e(first, second) >= MIN_DELTA_E
    # the capture list's swatches use the chart's colours
    for label, colour in drawn:
        assert f'data-label="{label}"><span class="swatch" style="background: {colour}"' in html
