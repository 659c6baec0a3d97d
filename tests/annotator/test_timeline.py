"""A site's timeline: captures by date, counts per label from one grouped query, the page."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from shapely.geometry import box, mapping
from sqlalchemy import event

from annotations.catalogue.images import Provenance
from annotations.timeline import COUNTED_STATUSES, site_timeline
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import token_for

Header = Callable[[str], dict[str, str]]
TIMES = " \u00d7 "  # the multiplication sign, as in "2 x An-124"


def bearer(app: Flask, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


def captures(app: Flask, make_geotiff: Callable[..., Path], days: list[int]) -> list[Any]:
    """Small real GeoTIFFs of one place, one per day of December 2024, in a site 'depot'."""
    database = services.database(app)
    images = []
    for day in days:
        data = np.full((3, 300, 400), day, dtype=np.uint8)
        path = make_geotiff(f"depot-{day}.tif", data=data)
        images += [
            r.image
            for r in import_images(
                database,
                app.config["IMAGES_DIR"],
                [Upload(path, path.name)],
                Provenance(),
                captured=datetime(2024, 12, day, 9, tzinfo=UTC),
                max_pixels=10**9,
            )
        ]
    west, south, east, north = images[0].bbox
    client = app.test_client()
    area = mapping(box(west, south, east, north))
    made = client.post(
        "/api/v1/sites", json={"name": "Depot", "area": area}, headers=bearer(app, "analyst")
    )
    assert made.status_code == 201, made.get_json()
    return images


def annotate(
    app: Flask, image: Any, label: str, count: int = 1, status: str | None = None
) -> dict[str, Any]:
    west, south, east, north = image.bbox
    lon, lat = (west + east) / 2, (south + north) / 2
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"label": label, "image_id": image.id, "count": count},
    }
    client = app.test_client()
    response = client.post("/api/v1/annotations", json=feature, headers=bearer(app, "analyst"))
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    if status in ("in_review", "approved", "rejected"):
        etag = response.headers["ETag"]
        moved = client.post(
            f"/api/v1/annotations/{body['id']}/status",
            json={"status": "in_review"},
            headers={**bearer(app, "analyst"), "If-Match": etag},
        )
        assert moved.status_code == 200
        if status != "in_review":
            moved = client.post(
                f"/api/v1/annotations/{body['id']}/status",
                json={"status": status, "comment": "checked"},
                headers={**bearer(app, "editor"), "If-Match": moved.headers["ETag"]},
            )
            assert moved.status_code == 200, moved.get_json()
    return body


def test_counts_per_label_and_date_from_one_query(
    app_on_each_backend: Flask, make_geotiff: Callable[..., Path]
) -> None:
    app = app_on_each_backend
    first, second, third = captures(app, make_geotiff, [10, 13, 11])
    annotate(app, first, "vehicle.convoy", count=40)
    annotate(app, first, "vehicle.truck", count=2, status="approved")
    annotate(app, second, "vehicle.truck", status="in_review")
    annotate(app, second, "vehicle.truck", count=3)
    annotate(app, second, "vehicle.tank", status="rejected")
    gone = annotate(app, second, "vehicle.tank")
    client = app.test_client()
    etag = f'"{gone["id"]}-v1"'
    deleted = client.delete(
        f"/api/v1/annotations/{gone['id']}", headers={**bearer(app, "analyst"), "If-Match": etag}
    )
    assert deleted.status_code == 200

    response = client.get("/api/v1/sites/depot/timeline", headers=bearer(app, "viewer"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["statuses"] == list(COUNTED_STATUSES)
    assert [c["image_id"] for c in body["captures"]] == [first.id, third.id, second.id], "by date"
    by_image = {c["image_id"]: c for c in body["captures"]}
    assert [(c["label"], c["annotations"], c["objects"]) for c in by_image[first.id]["counts"]] == [
        ("vehicle.convoy", 1, 40),
        ("vehicle.truck", 1, 2),
    ]
    assert by_image[first.id]["objects"] == 42
    assert by_image[first.id]["counts"][0]["label_name"] == "Convoy"
    assert by_image[third.id]["counts"] == []
    # rejected and deleted annotations are not counted
    assert [
        (c["label"], c["annotations"], c["objects"]) for c in by_image[second.id]["counts"]
    ] == [("vehicle.truck", 2, 4)]
    rejected = client.get(
        "/api/v1/sites/depot/timeline?status=rejected", headers=bearer(app, "viewer")
    ).get_json()
    assert [c["objects"] for c in rejected["captures"]] == [0, 0, 1]

    # the same number of statements whatever the number of captures: no per-image queries
    database = services.database(app)

    def statements() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(database.engine, "before_cursor_execute", listener)
        try:
            with database.read() as session:
                site_timeline(session, "depot")
        finally:
            event.remove(database.engine, "before_cursor_execute", listener)
        return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    before = statements()
    captures_more = [14, 15, 16, 17]
    for day in captures_more:
        data = np.full((3, 300, 400), day, dtype=np.uint8)
        path = make_geotiff(f"more-{day}.tif", data=data)
        image = import_images(
            database,
            app.config["IMAGES_DIR"],
            [Upload(path, path.name)],
            Provenance(),
            captured=datetime(2024, 12, day, tzinfo=UTC),
            max_pixels=10**9,
        )[0].image
        annotate(app, image, "vehicle.truck")
    assert statements() == before <= 3


def test_timeline_counts_match_the_annotations_api_on_the_demo(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = bearer(demo_app, "viewer")
    body = client.get("/api/v1/sites/hmeimim/timeline", headers=headers).get_json()
    # the two scene captures, and the press picture stated 2024-12-13 (no time) between them
    dates = [c["captured_at"][:10] for c in body["captures"]]
    assert dates == ["2024-12-10", "2024-12-13", "2024-12-13"]
    for capture in body["captures"]:
        query = f"image={capture['image_id']}&status=draft,in_review,approved"
        listed = client.get(f"/api/v1/annotations?{query}", headers=headers).get_json()
        expected: Counter[str] = Counter()
        for feature in listed["features"]:
            expected[feature["properties"]["label"]] += feature["properties"]["count"]
        assert {c["label"]: c["objects"] for c in capture["counts"]} == dict(expected)
    later = {c["label"]: c["objects"] for c in body["captures"][2]["counts"]}
    assert later["aircraft.transport.an-124"] == 2
    assert "aircraft.transport.an-124" not in {c["label"] for c in body["captures"][0]["counts"]}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/sites/nowhere/timeline", 404, "not_found"),
        ("/api/v1/sites/hmeimim/timeline?status=approved,bogus", 422, "invalid"),
        ("/api/v1/sites/hmeimim/timeline?status=,", 422, "invalid"),
    ],
)
def test_timeline_bad_input(demo_app: Flask, path: str, status: int, code: str) -> None:
    response = demo_app.test_client().get(path, headers=bearer(demo_app, "viewer"))
    assert response.status_code == status
    assert response.get_json()["error"] == code


def test_timeline_needs_sign_in(demo_app: Flask) -> None:
    assert demo_app.test_client().get("/api/v1/sites/hmeimim/timeline").status_code == 401
    page = demo_app.test_client().get("/sites/hmeimim")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_site_page_lists_captures_with_counts_chart_and_compare_form(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = bearer(demo_app, "viewer")
    home = client.get("/", headers=headers).get_data(as_text=True)
    assert 'href="/sites/hmeimim"' in home
    response = client.get("/sites/hmeimim", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    timeline = client.get("/api/v1/sites/hmeimim/timeline", headers=headers).get_json()
    first, press, second = timeline["captures"]  # the press picture of 2024-12-13 between
    for capture in (first, press, second):
        assert f"/images/{capture['image_id']}/thumbnail.png" in html
    # each capture's block carries its own counts
    blocks = re.findall(r'<li class="capture" data-image-id="(\w+)">(.*?)</li>', html, re.S)
    texts = {image_id: re.sub(r"<[^>]+>|\s+", " ", block) for image_id, block in blocks}
    assert f"2{TIMES}Antonov An-124 Ruslan" in texts[second["image_id"]]
    assert "An-124" not in texts[first["image_id"]]
    assert f"3{TIMES}Ilyushin Il-76" in texts[first["image_id"]]
    assert "draft, in review, approved" in html
    # the chart: one line per label, one point per dated capture, inline SVG, no script
    counted = first["counts"] + press["counts"] + second["counts"]
    assert html.count("<polyline") == len({c["label"] for c in counted})
    assert html.count('class="marker"') == 3 * html.count("<polyline")
    assert "<script" not in html.split("<main", 1)[1]
    assert 'action="/compare"' in html and 'name="left"' in html and 'name="right"' in html


def test_site_page_unknown_site_is_a_404_page(demo_app: Flask) -> None:
    response = demo_app.test_client().get("/sites/nowhere", headers=bearer(demo_app, "viewer"))
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_site_name_is_escaped(app: Flask) -> None:
    client = app.test_client()
    site = {"name": "<b>Base</b>", "slug": "base", "lon": 1, "lat": 1}
    made = client.post("/api/v1/sites", json=site, headers=bearer(app, "analyst"))
    assert made.status_code == 201
    html = client.get("/sites/base", headers=bearer(app, "viewer")).get_data(as_text=True)
    assert "&lt;b&gt;Base&lt;/b&gt;" in html and "<b>Base</b>" not in html
    assert "No imagery of this site yet." in html


def test_chart_scales_time_and_counts_and_spaces_its_date_labels() -> None:
    from annotations.catalogue.images import Image
    from annotations.catalogue.sites import Site
    from annotations.timeline import Capture, LabelCount, Timeline
    from annotator.pages.chart import MIN_TICK_GAP, timeline_chart

    days = [1, 2, 3, 10, 30]
    captures = tuple(
        Capture(
            Image(id=f"{day:032x}", captured_at=datetime(2024, 12, day, tzinfo=UTC)),
            (LabelCount("vehicle.truck", 1, day), LabelCount("vehicle.tank", 1, 1)),
        )
        for day in days
    )
    undated = Capture(Image(id="f" * 32, captured_at=None), (LabelCount("vehicle.tank", 1, 99),))
    timeline = Timeline(Site(slug="s", name="S"), COUNTED_STATUSES, (*captures, undated))
    chart = timeline_chart(timeline, {"vehicle.truck": "Truck"}, {"vehicle.truck": "#123456"})
    tank, truck = chart.series  # the most counted label first (99 tanks undated)
    assert (truck.name, truck.colour, tank.name) == ("Truck", "#123456", "vehicle.tank")
    assert [p.value for p in truck.points] == days, "the undated capture is left out"
    xs = [p.x for p in truck.points]
    assert xs[0] == chart.left and xs[-1] == chart.right
    # proportional to time: 1 -> 10 is 9 of the 29 days
    assert abs((xs[3] - xs[0]) / (xs[-1] - xs[0]) - 9 / 29) < 1e-9
    assert truck.points[-1].y < truck.points[0].y, "more objects, higher up"
    assert chart.y_ticks[0].text == "0" and int(chart.y_ticks[-1].text) >= 30
    gaps = [b.at - a.at for a, b in zip(chart.x_ticks, chart.x_ticks[1:], strict=False)]
    assert gaps and min(gaps) >= MIN_TICK_GAP
    assert chart.x_ticks[0].text == "2024-12-01" and len(chart.x_ticks) < len(days)
    assert (chart.x_ticks[0].anchor, chart.x_ticks[-1].anchor) == ("start", "end")
