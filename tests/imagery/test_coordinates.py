"""Reading coordinates as analysts type them, and writing a point in each notation."""

from __future__ import annotations

import math

import pytest

from imagery.coordinates import CoordinateError, Point, dms, formats, mgrs_reference, parse

HMEIMIM = Point(lat=35.401111111111106, lon=35.94833333333333)  # 35°24'04"N 35°56'54"E


def near(a: Point, b: Point, degrees: float = 1e-6) -> bool:
    return abs(a.lat - b.lat) < degrees and abs(a.lon - b.lon) < degrees


@pytest.mark.parametrize(
    "text",
    [
        "35°24'04\"N 35°56'54\"E",
        "35°24'04\"N, 35°56'54\"E",
        "35°56'54\"E 35°24'04\"N",  # letters say which is which
        "N35°24'04\" E35°56'54\"",
        "N 35 24 04, E 35 56 54",
        "35 24 04 N 35 56 54 E",
        "35 24 04 35 56 54",
        "35d24'04\"n 35d56'54\"e",
        "35\u00ba24\u203204\u2033N 35\u00ba56\u203254\u2033E",  # ordinal, prime, double prime
        "35°24\u201904\u201dN 35°56\u201954\u201dE",  # curly quotes
        "35°24'04''N 35°56'54''E",  # two single quotes for seconds
        "35°24.0667'N 35°56.9'E",
        "35.4011111, 35.9483333",
        "35.4011111 35.9483333",
        "35.4011111N 35.9483333E",
        "35.4011111°, 35.9483333°",
    ],
)
def test_one_place_written_many_ways(text: str) -> None:
    assert near(parse(text), HMEIMIM, 2e-5)


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("33°55'12\"S 18°25'12\"E", -33.92, 18.42),
        ("S33°55'12\" E18°25'12\"", -33.92, 18.42),
        ("-33.92, 18.42", -33.92, 18.42),
        ("40°42'46\"N 74°00'22\"W", 40.712778, -74.006111),
        ("40.712778, -74.006111", 40.712778, -74.006111),
        ("-34°36'12\" -58°22'54\"", -34.603333, -58.381667),
        ("0, 0", 0.0, 0.0),
        ("90 N 180 W", 90.0, -180.0),
    ],
)
def test_hemispheres_and_signs(text: str, lat: float, lon: float) -> None:
    assert near(parse(text), Point(lat=lat, lon=lon), 1e-5)


@pytest.mark.parametrize(
    "point",
    [
        HMEIMIM,
        Point(lat=-33.92, lon=18.42),
        Point(lat=40.712778, lon=-74.006111),
        Point(lat=64.1466, lon=-21.9426),
        Point(lat=-0.5, lon=179.5),
        Point(lat=59.9, lon=5.5),  # zone 32V, Norway's exception
        Point(lat=-89.5, lon=10.0),  # UPS near the south pole
    ],
)
def test_mgrs_round_trip_to_a_metre(point: Point) -> None:
    reference = mgrs_reference(point)
    assert reference is not None
    back = parse(reference)
    metres_per_degree = 111_320
    assert abs(back.lat - point.lat) * metres_per_degree < 1.5
    assert (
        abs(back.lon - point.lon) * metres_per_degree * max(0.01, math.cos(math.radians(point.lat)))
        < 1.5
    )
    assert mgrs_reference(back) == reference


def test_mgrs_spellings() -> None:
    assert mgrs_reference(HMEIMIM) == "36S YE 67759 21519"
    for text in [
        "36S YE 67759 21519",
        "36SYE6775921519",
        "36sye 67759 21519",
        " 36S YE6775921519 ",
    ]:
        assert near(parse(text), HMEIMIM, 2e-5)
    coarse = parse("36S YE 677 215")  # 100 m: the square's corner
    assert abs(coarse.lat - HMEIMIM.lat) < 0.002 and abs(coarse.lon - HMEIMIM.lon) < 0.002


@pytest.mark.parametrize(
    "point",
    [HMEIMIM, Point(lat=-33.92, lon=18.42), Point(lat=40.712778, lon=-74.006111), Point(0.0, -0.0)],
)
def test_dms_round_trip_to_a_tenth_of_a_second(point: Point) -> None:
    back = parse(dms(point))
    assert near(back, point, 0.05 / 3600)


def test_formats_write_all_three() -> None:
    assert formats(HMEIMIM) == {
        "decimal": "35.401111, 35.948333",
        "dms": "35°24'04.0\"N 35°56'54.0\"E",
        "mgrs": "36S YE 67759 21519",
    }
    assert dms(Point(lat=-0.99999999, lon=-179.999999)) == "1°00'00.0\"S 180°00'00.0\"W"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "nothing typed"),
        ("   ", "nothing typed"),
        ("hello", "has no place in a coordinate"),
        ("35.4", "cannot read '35.4' as a latitude and a longitude"),
        ("95, 10", "latitude must be between -90 and 90, not 95"),
        ("10, 190", "longitude must be between -180 and 180, not 190"),
        ("35°61'N 35°E", "minutes must be under 60"),
        ("35°24'75\"N 35°E", "seconds must be under 60"),
        ("35N 36N", "both coordinates are north/south"),
        ("35E 36W", "both coordinates are east/west"),
        ("-35N 35E", "both a minus sign and a hemisphere letter"),
        ("35.5 24 N 35 E", "only the last of its numbers may have decimals"),
        ("35,4, 35,9", "one comma between latitude and longitude"),
        ("36S ZZ 12345 67890", "not a valid MGRS reference"),
        ("36S YE 123", "is not an MGRS reference"),
        ("35 N, 35", "give a hemisphere letter to both coordinates, or to neither"),
        ("1 2 3 4 5 6 7 8", "cannot read"),
        ("<script>alert(1)</script>", "has no place in a coordinate"),
        ("9" * 200, "too long for a coordinate"),
    ],
)
def test_bad_input_says_what_is_wrong_in_one_line(text: str, says: str) -> None:
    with pytest.raises(CoordinateError) as caught:
        parse(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message and len(message) < 240
