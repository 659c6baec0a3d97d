"""Downloads are named for what they hold (site, label, report, dates), and no user text in
a name (a site filter, a report title) reaches the header or the file system as anything but
letters, digits, '.', '_' and '-'."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask

from annotations.exchange.filenames import disposition, export_name, publication_name
from annotations.search import Filters
from tests.newsroom import Newsroom, newsroom

CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
SAFE = re.compile(r'(attachment|inline); filename="[A-Za-z0-9._-]+"(; filename\*=UTF-8\'\'\S+)?')


@pytest.fixture
def room(app: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    return newsroom(app, make_geotiff(), CAPTURED)


def offered(response: object) -> str:
    """The file name a browser would save: filename* when given, else filename."""
    header = response.headers["Content-Disposition"]  # type: ignore[attr-defined]
    assert SAFE.fullmatch(header), header
    if "filename*=" in header:
        return unquote(header.split("filename*=UTF-8''", 1)[1])
    return header.split('filename="', 1)[1].rstrip('"')


def test_an_export_says_its_site_label_status_and_day(room: Newsroom) -> None:
    room.annotation("approved")
    today = datetime.now(UTC).date().isoformat()
    answer = room.call(
        "GET",
        "/api/v1/exports?format=gpkg&site=hmeimim-apron&label=aircraft&status=approved"
        "&datetime=2024-12-01T00:00:00Z/..",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    name = offered(answer)
    assert name == f"annotations-hmeimim-apron-aircraft-approved-from-2024-12-01-{today}.gpkg"
    # the search's own GeoJSON download is named the same way
    geojson = room.call("GET", "/api/v1/annotations?site=hmeimim-apron&download=1")
    assert offered(geojson) == f"annotations-hmeimim-apron-{today}.geojson"


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc/passwd",
        'a"; filename="evil.exe',
        "x\u202egpj.exe",
        "{{ 7*7 }}",
        "=cmd|' /C calc'!A0",
    ],
)
def test_a_hostile_filter_cannot_shape_the_name(room: Newsroom, hostile: str) -> None:
    name = export_name(Filters(site=hostile), ".csv", datetime(2026, 12, 6, tzinfo=UTC).date())
    assert re.fullmatch(r"annotations-[\w.-]*2026-12-06\.csv", name), name
    assert "/" not in name and '"' not in name and "\u202e" not in name and ".." not in name
    assert SAFE.fullmatch(disposition(name)), disposition(name)


def test_a_published_reports_outputs_say_its_title_and_publication(room: Newsroom) -> None:
    base, publication = room.published(title='An-124s at "Hmeimim": the airlift / {{ 7*7 }}')
    day = publication["published_at"][:10]
    stem = f"an-124s-at-hmeimim-the-airlift-7-7-v1-{day}"
    assert offered(room.call("GET", f"{base}/map.html?download=1")) == f"{stem}-map.html"
    assert offered(room.call("GET", f"{base}/bundle.zip")) == f"{stem}-evidence.zip"
    figure = room.call("GET", f"{base}/figure.png?width=320")
    assert figure.headers["Content-Disposition"].startswith("inline; ")  # shown, not saved
    assert offered(figure) == f"{stem}-figure.png"


def test_an_arabic_title_is_sent_in_utf8_with_an_ascii_fallback() -> None:
    when = datetime(2024, 12, 14, tzinfo=UTC)
    name = publication_name("طائرات أنتونوف في حميميم", 2, when, "map.html")
    assert name == "طائرات-أنتونوف-في-حميميم-v2-2024-12-14-map.html"
    header = disposition(name)
    assert SAFE.fullmatch(header), header
    assert 'filename="v2-2024-12-14-map.html"' in header
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == name
