"""A placement's error, read in one place whatever the record's method and shape, and the size
ranking that widens its tolerance by it: an An-124 measured on a capture placed with a 3 m
RMSE, off by about that, still ranks An-124 first; without the widening it ranked C-5 first."""

from __future__ import annotations

import json
import math

import pytest
import shapely

from annotations.labels.identify import identify
from annotations.labels.taxonomy import load_taxonomy
from annotations.measure import box_polygon, measure, with_placement_error
from imagery.georef.placement import (
    metres,
    placement_error_m,
    placement_note,
    placement_points,
    placement_text,
)

#: as ingest stores them (Georeferencing.to_tags: every value a string)
POLYNOMIAL = {
    "method": "gcp-polynomial",
    "text": "GCP polynomial 2, RMS 0.85 m (10 points)",
    "rms_m": "0.85",
    "points": "10",
    "order": "2",
}
SPLINE = {
    "method": "gcp-tps",
    "text": "GCP thin plate spline, exact at its 54 points (RMS 0 m)",
    "rms_m": "0.0",
    "points": "54",
    "order": "0",
}
#: as the georeferencer keeps a press image's placement: numbers and lists
PRESS = {
    "method": "affine",
    "text": "affine, 4 control points",
    "rmse_m": 3.2,
    "residuals_m": [2.9, 3.5, 3.1, 3.3],
    "gcps": [[10, 20, 35.4, 35.4], [300, 20, 35.41, 35.4], [10, 200, 35.4, 35.39], [5, 5, 1, 1]],
}
#: as the georeferencer stores a press picture's placement (imagery.press.fit)
GEOREFERENCED = {
    "method": "georeferenced",
    "text": "placed by 4 control points (affine), RMSE 2.5 m",
    "rms_m": "2.5",
    "points": "4",
    "order": "1",
}
GEOREFERENCED_TPS = {**GEOREFERENCED, "rms_m": "0.0", "points": "12", "order": "0"}
RPC = {"method": "rpc", "text": "RPC, constant height 0 m", "height_m": "0.0"}
NORTH_UP = {"method": "geotransform", "text": "north-up geotransform"}
ROTATED = {"method": "rotated", "text": "rotated geotransform, warped north-up"}


def test_the_error_and_the_count_are_read_whatever_the_method() -> None:
    assert placement_error_m(POLYNOMIAL) == 0.85 and placement_points(POLYNOMIAL) == 10
    assert placement_error_m(PRESS) == 3.2 and placement_points(PRESS) == 4
    assert placement_error_m(GEOREFERENCED) == 2.5 and placement_points(GEOREFERENCED) == 4
    # the residuals alone give the count; stored as tags, a list is its JSON text
    assert placement_points({"method": "tps", "rmse_m": "1.5", "residuals_m": "[1, 2, 1.5]"}) == 3
    assert placement_points({**PRESS, "gcps": "12"}) == 12
    # exact by construction, or no residuals to measure: nothing to add
    for record in (NORTH_UP, ROTATED, RPC, SPLINE, GEOREFERENCED_TPS, {}, None):
        assert placement_error_m(record) is None, record
    # a method that says an exact fit but still carries a figure is not read as one
    assert placement_error_m({**NORTH_UP, "rms_m": "4"}) is None
    for bad in ("nan", "inf", "-1", "", "three", True, None):
        assert placement_error_m({"method": "gcp-polynomial", "rms_m": bad}) is None, bad


def test_one_wording_for_every_output() -> None:
    assert placement_text(POLYNOMIAL) == "placed by 10 control points, RMSE 0.85 m"
    assert placement_text(PRESS) == "placed by 4 control points, RMSE 3.2 m"
    assert placement_text({"method": "affine", "rmse_m": "12.44"}) == (
        "placed by control points, RMSE 12 m"
    )
    # no RMSE: the record's own words
    assert placement_text(RPC) == "RPC, constant height 0 m"
    assert placement_text(GEOREFERENCED) == "placed by 4 control points, RMSE 2.5 m"
    # a spline's zero is no error figure: said so, not "RMSE 0 m"
    assert placement_text(SPLINE) == (
        "placed by 54 control points, a thin plate spline exact at each (no RMSE)"
    )
    assert placement_text(GEOREFERENCED_TPS) == (
        "placed by 12 control points, a thin plate spline exact at each (no RMSE)"
    )
    assert placement_text(NORTH_UP) == "north-up geotransform"
    assert placement_text(None) is None
    # what a reader is told beside a credit: nothing for a plain north-up capture
    assert placement_note("north-up geotransform") is None and placement_note(None) is None
    assert placement_note("placed by 4 control points, RMSE 3.2 m") == (
        "placed by 4 control points, RMSE 3.2 m"
    )
    assert placement_note("RPC, constant height 0 m") == "placed by RPC, constant height 0 m"
    assert [metres(v) for v in (0.0, 0.851, 3.0, 3.24, 12.44, 140.0)] == [
        "0", "0.85", "3", "3.2", "12", "140",
    ]  # fmt: skip


def test_measurements_carry_the_error_in_the_stored_text() -> None:
    shape = box_polygon(35.9, 35.4, 69, 73, 30)
    text = json.dumps(measure(shape).to_dict())
    added = json.loads(with_placement_error(text, 3.2))
    assert added == {**json.loads(text), "placement_error_m": 3.2}
    assert with_placement_error(text, None) == text
    assert json.loads(with_placement_error("{}", 1.5)) == {"placement_error_m": 1.5}


def ranked(length: float, width: float, error: float | None) -> list[str]:
    taxonomy = load_taxonomy()
    found = taxonomy.rank_by_size(length, width, 0.5, placement_error_m=error)
    return [label.id.rsplit(".", 1)[-1] for label, _ in found]


@pytest.mark.parametrize(
    ("length", "width"),
    [(76.3, 70.96), (76.05, 71.21), (76.3, 71.46)],  # the An-124's 73.3 x 68.96, off by <= 3 m
)
def test_the_ranking_widens_its_tolerance_by_the_rmse(length: float, width: float) -> None:
    # without the widening, the C-5 (75.31 x 67.89) fits these sides better...
    assert ranked(length, width, None)[0] == "c-5"
    # ...but on a capture placed with a 3 m RMSE they are an An-124's, off by less than it
    assert ranked(length, width, 3.0)[0] == "an-124"


def test_an_an124_off_by_the_rmse_fits_and_ranks_first_unless_nearer_a_c5() -> None:
    """69 x 73 m measured off by the RMSE (3 m) in twelve directions: the An-124 always fits
    (its score is 0) and ranks first, except where the error carries the sides nearer the
    C-5's own figures: then both fit, the nearer first, which is all a 3 m placement can tell."""
    taxonomy = load_taxonomy()
    for step in range(12):
        angle = math.radians(30 * step)
        length, width = 73.3 + 3 * math.cos(angle), 68.96 + 3 * math.sin(angle)
        found = taxonomy.rank_by_size(length, width, 0.5, placement_error_m=3.0)
        scores = {label.id.rsplit(".", 1)[-1]: score for label, score in found}
        assert scores["an-124"] == 0.0, (length, width)
        an124 = math.dist((length, width), (73.3, 68.96))
        c5 = math.dist((length, width), (75.31, 67.89))
        first = found[0][0].id.rsplit(".", 1)[-1]
        assert first == ("an-124" if an124 <= c5 else "c-5"), (length, width, first)
        assert first == "an-124" or scores["c-5"] == 0.0


def test_identify_reports_the_error_and_widens_the_tolerance() -> None:
    taxonomy = load_taxonomy()
    box = box_polygon(35.9, 35.4, 76.3, 70.96, 30)
    plain = identify(box, 0.5, taxonomy).to_dict()
    placed = identify(box, 0.5, taxonomy, placement_error_m=3.0).to_dict()
    assert plain["placement_error_m"] is None and "placement_error_m" not in plain["measurements"]
    assert placed["placement_error_m"] == 3.0 and placed["measurements"]["placement_error_m"] == 3
    assert plain["tolerance_m"] == 1.0 and placed["tolerance_m"] == 4.0
    assert plain["candidates"][0]["label"] == "aircraft.transport.c-5"
    assert placed["candidates"][0]["label"] == "aircraft.transport.an-124"
    assert placed["candidates"][0]["fits"] and placed["candidates"][1]["fits"]
    # a point has no size to rank, but its position carries the error all the same
    point = identify(shapely.Point(35.9, 35.4), 0.5, taxonomy, placement_error_m=3.0).to_dict()
    assert point["measurements"] == {"placement_error_m": 3.0} and point["candidates"] == []
