"""The review queue's image chips: GET /annotations/<id>/chip.png cut from the real COG around
the object, cached by ETag, and each queue row linking to the workspace on that annotation."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from PIL import Image as PILImage

from annotator.pages.review import CHIP_PX, chip_bounds, outline
from tests.conftest import token_for
from tests.newsroom import catalogued


def bearer(app: Flask, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user)}"}


@pytest.fixture
def box_in_review(app: Flask, make_geotiff: Callable[..., Path]) -> dict[str, Any]:
    """A bright 20 x 20 m square on a dark image, boxed by the analyst and sent to review."""
    data = np.full((3, 300, 400), 20, dtype=np.uint8)
    data[:, 130:170, 180:220] = 240  # 40 x 40 pixels of 0.5 m in the middle
    image = catalogued(app, make_geotiff("depot.tif", data))
    west, south, east, north = image.bbox
    lon = [west + (east - west) * f for f in (180 / 400, 220 / 400)]
    lat = [north - (north - south) * f for f in (170 / 300, 130 / 300)]
    ring = [
        [lon[0], lat[0]],
        [lon[1], lat[0]],
        [lon[1], lat[1]],
        [lon[0], lat[1]],
        [lon[0], lat[0]],
    ]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"label": "vehicle.truck", "image_id": image.id, "shape": "polygon"},
    }
    client = app.test_client()
    made = client.post("/api/v1/annotations", json=feature, headers=bearer(app, "analyst"))
    assert made.status_code == 201, made.get_json()
    moved = client.post(
        f"/api/v1/annotations/{made.get_json()['id']}/status",
        json={"status": "in_review"},
        headers={**bearer(app, "analyst"), "If-Match": made.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.get_json()
    return moved.get_json()


def test_the_chip_shows_the_object_in_the_middle(app: Flask, box_in_review: dict[str, Any]) -> None:
    client = app.test_client()
    url = f"/annotations/{box_in_review['id']}/chip.png"
    answer = client.get(url, headers=bearer(app, "viewer"))
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(answer.data)).convert("RGBA"))
    assert pixels.shape == (CHIP_PX, CHIP_PX, 4)
    middle = pixels[CHIP_PX // 2 - 4 : CHIP_PX // 2 + 4, CHIP_PX // 2 - 4 : CHIP_PX // 2 + 4, :3]
    corner = pixels[:8, :8, :3]
    assert middle.mean() > corner.mean() + 100, "the bright object is not in the chip's middle"
    # the same annotation at the same version: the browser's copy stands
    again = client.get(
        url, headers={**bearer(app, "viewer"), "If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304
    # a new version of it is a new chip
    changed = client.patch(
        f"/api/v1/annotations/{box_in_review['id']}",
        json={"type": "Feature", "properties": {"notes": "checked"}},
        headers={**bearer(app, "editor"), "If-Match": f'"{box_in_review["id"]}-v2"'},
    )
    assert changed.status_code == 200, changed.get_json()
    fresh = client.get(
        url, headers={**bearer(app, "viewer"), "If-None-Match": answer.headers["ETag"]}
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] != answer.headers["ETag"]


def test_chips_need_sign_in_and_a_known_annotation(
    app: Flask, box_in_review: dict[str, Any]
) -> None:
    client = app.test_client()
    anonymous = client.get(f"/annotations/{box_in_review['id']}/chip.png")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    unknown = client.get("/annotations/0123abcd/chip.png", headers=bearer(app, "viewer"))
    assert unknown.status_code == 404


def test_each_queue_row_has_its_chip_outline_and_workspace_link(
    app: Flask, box_in_review: dict[str, Any]
) -> None:
    annotation_id = box_in_review["id"]
    image_id = box_in_review["properties"]["image_id"]
    html = app.test_client().get("/review", headers=bearer(app, "analyst")).get_data(as_text=True)
    assert f'src="/annotations/{annotation_id}/chip.png"' in html
    assert f'href="/images/{image_id}?annotation={annotation_id}"' in html
    assert 'data-count="1"' in html and "1 in review" in html
    assert "<polygon points=" in html


def test_the_outline_sits_where_the_chip_puts_the_object() -> None:
    bbox = [35.0, 35.0, 35.0004, 35.0003]  # about 36 x 33 m
    left, bottom, right, top = chip_bounds(bbox)
    assert right - left == pytest.approx(top - bottom)  # square
    ring = [[35.0, 35.0], [35.0004, 35.0], [35.0004, 35.0003], [35.0, 35.0003], [35.0, 35.0]]
    drawn = outline({"type": "Polygon", "coordinates": [ring]}, bbox)
    assert drawn is not None and drawn["kind"] == "polygon"
    xs, ys = zip(*(map(float, p.split(",")) for p in drawn["points"].split()), strict=True)
    assert min(xs) > 0 and max(xs) < CHIP_PX and min(ys) > 0 and max(ys) < CHIP_PX
    assert (min(xs) + max(xs)) / 2 == pytest.approx(CHIP_PX / 2, abs=0.2)
    assert (min(ys) + max(ys)) / 2 == pytest.approx(CHIP_PX / 2, abs=0.2)
    # the longer side fills the chip's share; a point gets at least the minimum ground
    assert max(xs) - min(xs) == pytest.approx(CHIP_PX * 0.6, abs=0.5)
    point = outline({"type": "Point", "coordinates": [35.0, 35.0]}, [35.0, 35.0, 35.0, 35.0])
    assert point == {"kind": "point", "points": f"{CHIP_PX / 2:.1f},{CHIP_PX / 2:.1f}"}
