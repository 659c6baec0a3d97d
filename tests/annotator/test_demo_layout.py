"""The demo scene's data files: what they hold, and the mistakes their loader refuses."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from annotator.demo import scene
from annotator.demo.layout import (
    LAYOUT,
    LAYOUT_FILE,
    PLANFORMS_FILE,
    LayoutError,
    Material,
    load_layout,
)

ROOT = Path(__file__).resolve().parents[2]


def edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of one data file with ``old`` (found exactly once) replaced by ``new``."""
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def refusal(tmp_path: Path, source: Path, old: str, new: str) -> str:
    copy = edited(tmp_path, source, old, new)
    paths = (copy, PLANFORMS_FILE) if source == LAYOUT_FILE else (LAYOUT_FILE, copy)
    with pytest.raises(LayoutError) as caught:
        load_layout(*paths)
    return str(caught.value)


def test_the_scene_is_drawn_from_the_data() -> None:
    assert scene.DEMO_CAPTURES == ("2024-12-10", "2024-12-13")
    assert scene.runway_reference() == (35.94861, 35.40083)
    sizes = {kind: (p.length, p.span) for kind, p in LAYOUT.aircraft.items()}
    assert sizes == {"an-124": (68.96, 73.3), "il-76": (46.6, 50.5), "fighter": (22.0, 14.7)}
    assert [(p.stand, p.nose_open) for p in LAYOUT.captures[1].parked[:3]] == [
        ("heavy-1", True),
        ("heavy-2", True),
        ("il-1", False),
    ]
    assert [s.name for s in LAYOUT.stands if s.kind == "fighter"] == [
        "ftr-1",
        "ftr-2",
        "ftr-3",
        "ftr-4",
        "ftr-5",
    ]
    assert LAYOUT.palette[Material.RUNWAY].colour == (136.0, 135.0, 130.0)
    raised = {m for m, paint in LAYOUT.palette.items() if paint.raised}
    assert Material.BODY in raised and Material.RUNWAY not in raised
    assert LAYOUT.airfield.buildings[5].height == 26  # the control tower


def test_demo_aircraft_follow_the_parking_list() -> None:
    for capture in LAYOUT.captures:
        kinds = [a.kind for a in scene.demo_aircraft(capture.date)]
        stands = {s.name: s.kind for s in LAYOUT.stands}
        assert kinds == [stands[p.stand] for p in capture.parked]
    with pytest.raises(ValueError, match="no demo capture on 2024-12-11"):
        scene.demo_aircraft("2024-12-11")


def test_the_unchanged_files_load_equal() -> None:
    assert load_layout(LAYOUT_FILE, PLANFORMS_FILE) == LAYOUT


@pytest.mark.parametrize(
    ("source", "old", "new", "message"),
    [
        (
            LAYOUT_FILE,
            'kind = "il-76"\n\n[[stands]]\nname = "il-2"',
            'kind = "il-86"\n\n[[stands]]\nname = "il-2"',
            "stand il-1: no aircraft 'il-86' in planforms",
        ),
        (
            LAYOUT_FILE,
            '{ stand = "ftr-4" }',
            '{ stand = "ftr-9" }',
            "2024-12-10: no stand 'ftr-9'",
        ),
        (
            LAYOUT_FILE,
            '{ stand = "ftr-4" }',
            '{ stand = "ftr-3" }',
            "captures.0: Value error, 2024-12-10: a stand is parked on twice",
        ),
        (
            LAYOUT_FILE,
            'date = "2024-12-13"',
            'date = "2024-12-10"',
            "captures: each date comes once",
        ),
        (
            LAYOUT_FILE,
            'date = "2024-12-13"',
            'date = "13 Dec 2024"',
            "captures.1: Value error, date '13 Dec 2024' is not YYYY-MM-DD",
        ),
        (
            LAYOUT_FILE,
            'north_letter = "L"',
            'north_letter = "C"',
            "runway designators: no glyph for C",
        ),
        (
            LAYOUT_FILE,
            'roof = "roof_metal" },\n    { s0 = -20',
            'roof = "roof_tin" },\n    { s0 = -20',
            "airfield.buildings.0.roof: Value error, 'roof_tin' is not a material",
        ),
        (
            LAYOUT_FILE,
            "tank = { colour",
            "tanks = { colour",
            "palette.tanks.[key]: Value error, 'tanks' is not a material",
        ),
        (
            LAYOUT_FILE,
            "label_edge = { colour = [20, 20, 20], large = 0.0, grain = 0.0, raised = true }\n",
            "",
            "palette: missing ['label_edge'], not paintable []",
        ),
        (
            LAYOUT_FILE,
            "gravel = { colour = [182, 170, 150]",
            "gravel = { colour = [182, 270, 150]",
            "palette.gravel.colour.1: Input should be less than or equal to 255",
        ),
        (LAYOUT_FILE, "block_size = 512", "block_size = 500", "grid.block_size: Input should be"),
        (
            LAYOUT_FILE,
            "elevation = 29.2",
            "elevation = 29.2\nazimuth_deg = 1.0",
            "sun.azimuth_deg: Extra inputs are not permitted",
        ),
        (LAYOUT_FILE, "seed = 20241210", "seed = 20241210,", "layout.toml: "),
        (
            PLANFORMS_FILE,
            "[0.0, 23.3],",
            "[0.0, 23.0],",
            "aircraft.il-76: Value error, half_fuselage must run from the nose at (0, 23.3)",
        ),
        (
            PLANFORMS_FILE,
            "[2.4, -9.0],",
            "[2.4, 19.0],",
            "aircraft.il-76: Value error, half_fuselage must keep x >= 0 and go strictly",
        ),
        (
            PLANFORMS_FILE,
            "engines = [7.6, 13.3]",
            "engines = [7.6, 26.0]",
            "aircraft.il-76: Value error, engines must lie under the wing, within 25.25 m",
        ),
        (
            PLANFORMS_FILE,
            "nacelle = { length = 5.5, width = 1.9 }\n",
            "",
            "aircraft.il-76: Value error, engines and nacelle go together",
        ),
        (
            PLANFORMS_FILE,
            "span = 14.7",
            "span = -14.7",
            "aircraft.fighter.span: Input should be greater than 0",
        ),
        (
            PLANFORMS_FILE,
            'body = "fighter_body"',
            "body = 27",
            "aircraft.fighter.body: Value error, 27 is not a material",
        ),
        (
            PLANFORMS_FILE,
            "shadow_height = 3.0",
            "shadow_height = 3.0\n\n[aoi]\nhalf_width = 1.0",
            "planforms.toml: aoi given twice",
        ),
    ],
)
def test_a_mistake_in_the_data_is_refused(
    tmp_path: Path, source: Path, old: str, new: str, message: str
) -> None:
    assert message in refusal(tmp_path, source, old, new)


def test_every_problem_is_named(tmp_path: Path) -> None:
    copy = edited(tmp_path, PLANFORMS_FILE, "span = 73.3", "span = 0")
    text = copy.read_text(encoding="utf-8").replace("length = 46.6", 'length = "long"')
    copy.write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_layout(LAYOUT_FILE, copy)
    problems = str(caught.value).removeprefix("demo scene data: ").split("; ")
    assert [p.split(":")[0] for p in problems] == [
        "aircraft.an-124.span",
        "aircraft.il-76.length",
    ]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=re.escape("demo scene data nowhere.toml: ")):
        load_layout(tmp_path / "nowhere.toml", PLANFORMS_FILE)


def test_the_data_files_are_packaged() -> None:
    """Every data file of annotator/demo is matched by the package data of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"]["annotator"]
    package = ROOT / "annotator"
    data = sorted(p.relative_to(package).as_posix() for p in (package / "demo").glob("*.toml"))
    assert data == ["demo/layout.toml", "demo/planforms.toml"]
    for name in data:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
