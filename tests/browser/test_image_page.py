"""The image page in a real browser: tiles from the app itself, scale bar, cursor lon/lat."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.browser.conftest import open_signed_in

AERIAL = "201404_13SED190110_201404_0x1500m_CL_1.tif"


def test_image_page_shows_tiles_scale_and_cursor(
    app: Flask, live_server: str, browser: Any, shared_data: Path
) -> None:
    image = import_images(
        services.database(app), app.config["IMAGES_DIR"],
        [Upload(shared_data / AERIAL, AERIAL)],
        Provenance(provider="USGS HRO", attribution="<b>USGS</b> orthophoto"),
        max_pixels=10**9,
    )[0].image  # fmt: skip
    west, south, east, north = image.min_lon, image.min_lat, image.max_lon, image.max_lat
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    open_signed_in(page, live_server, f"/images/{image.id}", "viewer")
    page.wait_for_selector("body[data-tiles-loaded='yes']", state="attached", timeout=15000)
    tiles = page.eval_on_selector_all(
        ".leaflet-tile-pane img.leaflet-tile-loaded",
        "els => els.map(e => [e.src, e.naturalWidth])",
    )
    assert tiles and all(src.startswith(f"{live_server}/tiles/{image.id}/") for src, _ in tiles)
    assert all(width == 256 for _, width in tiles)
    scale = page.inner_text(".leaflet-control-scale-line")
    assert re.fullmatch(r"\d+ (m|cm|km)", scale.strip()), scale
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    text = page.inner_text("#cursor")
    lat, lon = (float(v) for v in re.findall(r"-?\d+\.\d+", text))
    assert south - 0.001 < lat < north + 0.001 and west - 0.001 < lon < east + 0.001
    info = page.inner_text(".infobar")
    assert "USGS HRO" in info and "GSD 0.15 m" in info and "capture date unknown" in info
    assert "<b>USGS</b> orthophoto" in info, "user text is shown as text, not HTML"
    page.screenshot(path=str(Path(app.config["DATA_DIR"]) / "image-page.png"))
    assert outside == [], f"requests left the app's origin: {outside}"
    page.close()
