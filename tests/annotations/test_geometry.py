"""Annotation geometries: strict GeoJSON in, RFC 7946 out, geodesic measurements."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from shapely.geometry import mapping

from annotations.errors import InvalidInput, Malformed
from annotations.geometry import MAX_VERTICES, parse_geometry
from annotations.measure import box_polygon, measure

HMEIMIM = (35.9517, 35.4112)


def square(cw: bool = False) -> dict[str, Any]:
    ring = [
        [35.946, 35.407],
        [35.947, 35.407],
        [35.947, 35.408],
        [35.946, 35.408],
        [35.946, 35.407],
    ]
    return {"type": "Polygon", "coordinates": [ring[::-1] if cw else ring]}


def test_clockwise_ring_is_returned_counter_clockwise() -> None:
    geometry = parse_geometry(square(cw=True))
    assert isinstance(geometry, shapely.Polygon) and geometry.exterior.is_ccw
    assert parse_geometry(square()).equals(geometry)


def test_coordinates_rounded_to_seven_decimals() -> None:
    point = parse_geometry({"type": "Point", "coordinates": [35.123456789, 35.987654321]})
    assert mapping(point)["coordinates"] == pytest.approx((35.1234568, 35.9876543), abs=1e-12)


@pytest.mark.parametrize(
    ("geometry", "error", "words"),
    [
        ({"type": "Circle", "coordinates": [1, 2]}, Malformed, "not supported"),
        ({"type": "GeometryCollection", "geometries": []}, Malformed, "not supported"),
        ("POINT (1 2)", Malformed, "GeoJSON geometry object"),
        ({"type": "Point", "coordinates": [200, 35]}, InvalidInput, "longitude 200"),
        ({"type": "Point", "coordinates": [35, 95]}, InvalidInput, "latitude 95"),
        ({"type": "Point", "coordinates": [35]}, Malformed, "[lon, lat]"),
        ({"type": "Point", "coordinates": [True, 1]}, Malformed, "not a number"),
        ({"type": "Point", "coordinates": [float("nan"), 1]}, Malformed, "non-finite"),
        ({"type": "Point", "coordinates": ["35", 1]}, Malformed, "not a number"),
        ({"type": "LineString", "coordinates": [[1, 1]]}, InvalidInput, "at least 2"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            InvalidInput,
            "not closed",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
            InvalidInput,
            "at least 4",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            InvalidInput,
            "Self-intersection",
        ),
        ({"type": "Point", "coordinates": [1, 1], "crs": {"type": "name"}}, InvalidInput, "crs"),
        ({"type": "Polygon", "coordinates": "nope"}, Malformed, "array"),
    ],
)
def test_bad_geometries_say_what_and_where(geometry: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=None) as caught:
        parse_geometry(geometry)
    assert words in str(caught.value)


def test_where_names_the_position() -> None:
    ring = [[35.0, 35.0], [35.1, 35.0], [350.0, 35.1], [35.0, 35.0]]
    with pytest.raises(InvalidInput) as caught:
        parse_geometry({"type": "Polygon", "coordinates": [ring]})
    assert caught.value.details == {"where": "geometry.coordinates[0][2]"}


def test_too_many_vertices_is_refused_quickly() -> None:
    ring = [[35 + i * 1e-6, 35.0] for i in range(MAX_VERTICES + 5)]
    with pytest.raises(InvalidInput, match="more than 10,000 vertices"):
        parse_geometry({"type": "LineString", "coordinates": ring})


def test_an_124_box_measures_its_true_size() -> None:
    box = box_polygon(*HMEIMIM, length_m=68.96, width_m=73.3, heading_deg=262)
    result = measure(parse_geometry(mapping(box)))
    assert result.length_m == pytest.approx(73.3, abs=0.05)
    assert result.width_m == pytest.approx(68.96, abs=0.05)
    assert result.area_m2 == pytest.approx(68.96 * 73.3, rel=0.002)
    assert result.heading_deg is not None and result.heading_deg == pytest.approx(172, abs=0.5)


def test_line_and_point_measurements() -> None:
    route = parse_geometry({"type": "LineString", "coordinates": [[36.2, 33.4], [36.2, 33.5]]})
    # 0.1 degree of latitude at 33.45 N is about 11.09 km on the WGS 84 ellipsoid
    assert measure(route).length_m == pytest.approx(11_090, rel=0.002)
    assert measure(parse_geometry({"type": "Point", "coordinates": [1, 1]})).to_dict() == {}


def test_times_are_iso_8601_and_utc() -> None:
    from datetime import UTC, datetime

    from annotations.times import parse_interval, parse_time

    assert parse_time("2024-12-10T09:00:00+02:00") == datetime(2024, 12, 10, 7, tzinfo=UTC)
    assert parse_interval("2024-12-10/..") == (datetime(2024, 12, 10, tzinfo=UTC), None)
    with pytest.raises(InvalidInput, match="ISO 8601"):
        parse_time("13/12/2024")
