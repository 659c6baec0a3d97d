"""An editor's own caption on a publication's figure (GET .../figure.png?caption=...): drawn in
its own direction, cached apart from the written one, and refused when too long."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from flask import Flask

from annotations.newsroom.figure import CAPTION_MAX
from tests.newsroom import newsroom

SVG = "{http://www.w3.org/2000/svg}"
CAPTION = "رصدت الصور طائرة An-124 (رقم 2) <b>في</b> قاعدة حميميم"


def test_an_editors_caption_replaces_the_written_one(
    app: Flask, make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    base, _publication = room.published(language="ar", title="وضع القوات الروسية في سوريا")
    written = room.call("GET", f"{base}/figure.svg?width=400", "viewer")
    assert written.status_code == 200, written.get_json()
    texts = [t.text or "" for t in ET.fromstring(written.data).iter(f"{SVG}text")]  # noqa: S314
    assert any("دليل على" in text for text in texts), "the written caption is in Arabic"

    viewer = room.call(
        "GET", f"{base}/figure.svg", "viewer", query_string={"width": "400", "caption": CAPTION}
    )
    assert viewer.status_code == 403 and viewer.get_json()["error"] == "forbidden"
    own = room.call(
        "GET", f"{base}/figure.svg", "editor", query_string={"width": "400", "caption": CAPTION}
    )
    assert own.status_code == 200 and own.headers["X-Cache"] == "miss"
    root = ET.fromstring(own.data)  # noqa: S314 (our own output)
    [caption] = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("رصدت")]
    assert caption.text == CAPTION and caption.get("direction") == "rtl"
    assert b"<b>" not in own.data, "markup in a caption is text"
    again = room.call(
        "GET", f"{base}/figure.svg", "editor", query_string={"width": "400", "caption": CAPTION}
    )
    assert again.headers["X-Cache"] == "hit" and again.data == own.data
    png = room.call(
        "GET", f"{base}/figure.png", "editor", query_string={"width": "400", "caption": CAPTION}
    )
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")

    too_long = room.call(
        "GET", f"{base}/figure.png", "editor", query_string={"caption": "x" * (CAPTION_MAX + 1)}
    )
    assert 400 <= too_long.status_code < 500 and too_long.get_json()["error"]
