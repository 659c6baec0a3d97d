"""In a real browser, on the demo (issue 15, item 6): the site page's Export menu offers
GeoParquet beside CSV and FlatGeobuf; each downloaded file goes back through the import page
and every annotation in it is recognised (nothing new); a CSV of points by longitude and
latitude imports; a CSV without geometry columns is refused, naming what was looked for."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import pytest
from flask import Flask
from shapely.geometry import shape

from tests.browser.conftest import open_signed_in
from tests.browser.screens import download, screenshot_on_failure, watch_console, watch_origin
from tests.conftest import token_for

VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def app(demo_app: Flask) -> Flask:
    return demo_app


def api(app: Flask, path: str) -> Any:
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    return app.test_client().get(path, headers=headers).get_json()


def check(page: Any, live_server: str, upload: Any) -> None:
    page.goto(f"{live_server}/import?site=hmeimim")
    page.set_input_files("input[name=file]", upload)
    page.click("button[value=check]")


def test_export_csv_flatgeobuf_geoparquet_and_import_them_back(
    app: Flask, live_server: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    problems = watch_console(page)
    outside = watch_origin(page, live_server)
    with screenshot_on_failure(page, "table-formats"):
        open_signed_in(page, live_server, "/sites/hmeimim", "analyst")
        offered = page.eval_on_selector_all(
            "form.export select[name=format] option", "options => options.map(o => o.value)"
        )
        assert {"csv", "fgb", "geoparquet"} <= set(offered)
        files = {fmt: download(page, fmt, tmp_path) for fmt in ("geoparquet", "csv", "fgb")}
        assert [files[f].suffix for f in ("geoparquet", "csv", "fgb")] == [
            ".parquet",
            ".csv",
            ".fgb",
        ]
        frame = gpd.read_parquet(files["geoparquet"])
        total = len(frame)
        assert total > 0 and frame.crs.to_string() == "OGC:CRS84"
        geo = json.loads(pq.ParquetFile(files["geoparquet"]).schema_arrow.metadata[b"geo"])
        assert geo["version"] == "1.1.0" and "covering" in geo["columns"]["geometry"]
        assert len(pyogrio.read_dataframe(files["fgb"])) == total
        assert next(csv.reader(io.StringIO(files["csv"].read_text())))[0] == "WKT"

        for fmt, upload in files.items():
            check(page, live_server, str(upload))
            page.wait_for_selector(".import-result h2:has-text('Checked: 0 would be made')")
            assert page.inner_text("td.already") == str(total), fmt
            assert f" · {fmt} · {total} features" in page.inner_text(".import-result p"), fmt
            if fmt == "geoparquet":
                page.screenshot(path=str(SCREENSHOTS / "import-geoparquet.png"), full_page=True)

        # a CSV of the analyst's own: a truck by longitude and latitude, semicolons
        image = max(api(app, "/api/v1/images")["images"], key=lambda i: i["captured_at"])
        middle = shape(image["footprint"]).centroid
        points = f"Longitude;Latitude;label\n{middle.x};{middle.y};vehicle.truck\n".encode()
        upload = {"name": "trucks.csv", "mimeType": "text/csv", "buffer": points}
        check(page, live_server, upload)
        page.select_option("select[name=image]", image["id"])
        page.click("button[value=import]")
        page.wait_for_selector(".import-result h2:has-text('Imported: 1 made')")
        assert " · csv · 1 features" in page.inner_text(".import-result p")
    assert problems == [] and outside == []

    # a CSV without geometry columns: refused (422), naming the columns looked for
    with screenshot_on_failure(page, "table-formats-refused"):
        table = {"name": "sites.csv", "mimeType": "text/csv", "buffer": b"name,label\nx,y\n"}
        check(page, live_server, table)
        page.wait_for_selector(".import-result.problem")
        message = page.inner_text(".import-result.problem .message")
        assert message.startswith("sites.csv has no geometry columns: looked for a WKT column")
        assert "its columns are: name, label" in message
        page.screenshot(path=str(SCREENSHOTS / "import-csv-no-geometry.png"), full_page=True)
    # the refusal's own answer is the only one over 399 (the browser may log it too)
    refusal = f"422 {live_server}/import"
    assert refusal in problems, problems
    assert [p for p in problems if p != refusal and "status of 422" not in p] == []
    assert outside == []
    page.close()
