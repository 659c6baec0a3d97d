"""GET /api/v1/images/coordinates: the workspace's Go to box and its MGRS cursor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

Header = Callable[[str], dict[str, str]]
URL = "/api/v1/images/coordinates"


def test_reads_what_is_typed_and_writes_every_notation(app: Flask, auth_header: Header) -> None:
    client = app.test_client()
    for text in ["35°24'04\"N 35°56'54\"E", "36S YE 67759 21519", "35.401111, 35.948333"]:
        response = client.get(URL, query_string={"q": text}, headers=auth_header("viewer"))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert abs(body["lat"] - 35.401111) < 2e-5 and abs(body["lon"] - 35.948333) < 2e-5
        assert body["dms"] == "35°24'04.0\"N 35°56'54.0\"E"
        assert body["mgrs"] == "36S YE 67759 21519"
        assert body["decimal"].startswith("35.4011")


def test_a_point_in_every_notation(app: Flask, auth_header: Header) -> None:
    response = app.test_client().get(
        URL, query_string={"lat": "-33.92", "lon": "18.42"}, headers=auth_header("analyst")
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "lat": -33.92,
        "lon": 18.42,
        "decimal": "-33.920000, 18.420000",
        "dms": "33°55'12.0\"S 18°25'12.0\"E",
        "mgrs": "34H BH 61488 43716",
    }


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"q": "35°61'N 35°E"}, "minutes must be under 60"),
        ({"q": "36S ZZ 12345 67890"}, "not a valid MGRS reference"),
        ({"q": "<b>hi</b>"}, "has no place in a coordinate"),
        ({"q": "1" * 101}, "q"),
        ({}, "send q (a coordinate as typed), or lat and lon"),
        ({"lat": "35"}, "send q"),
        ({"lat": "95", "lon": "0"}, "lat"),
        ({"lat": "x", "lon": "0"}, "lat"),
        ({"lat": "nan", "lon": "0"}, "lat"),
    ],
)
def test_bad_input_is_a_422_in_one_line(
    app: Flask, auth_header: Header, query: dict[str, str], says: str
) -> None:
    response = app.test_client().get(URL, query_string=query, headers=auth_header("viewer"))
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid"
    assert says in body["message"]
    assert "\n" not in body["message"]


def test_signed_out_is_refused(app: Flask) -> None:
    response = app.test_client().get(URL, query_string={"q": "35, 35"})
    assert response.status_code == 401
