"""`annotator import` and `annotator export --format geoparquet` with the table formats, run as
a user would: a lon/lat CSV imports, its GeoParquet export imports back as nothing new, and
a CSV without geometry columns or a Parquet file without `geo` metadata fails with one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.annotator import test_cli

Run = Callable[..., tuple[int, str, str]]
run = test_cli.run  # the shared CLI runner fixture
LON, LAT = -84.4790, 33.6380  # inside the Atlanta image


@pytest.fixture
def ready(run: Run, shared_data: Path) -> Run:
    run("init")
    code, _, err = run("images", "import", str(shared_data / "sample_geotiff.tif"))
    assert code == 0, err
    password = "a long enough password\n"
    code, _, err = run(
        "users", "add", "ana", "--role", "analyst", "--password-stdin", stdin=password
    )
    assert code == 0, err
    return run


def test_csv_in_geoparquet_out_and_back(ready: Run, tmp_path: Path) -> None:
    points = tmp_path / "trucks.csv"
    points.write_text(
        f"lng\tlat\tlabel\n{LON}\t{LAT}\tvehicle.truck\n{LON + 1e-4}\t{LAT}\tvehicle.truck\n"
    )
    code, out, err = ready("import", str(points), "--user", "ana", "--json")
    assert code == 0, err
    assert json.loads(out)["created"] == 2
    target = tmp_path / "out.parquet"
    code, out, err = ready("export", "--format", "geoparquet", "-o", str(target))
    assert code == 0, err
    frame = gpd.read_parquet(target)
    assert list(frame["label"]) == ["vehicle.truck", "vehicle.truck"]
    code, out, err = ready("import", str(target), "--user", "ana")
    assert code == 0, err
    assert "created 0, already imported 2" in out


def test_tables_without_geometry_fail_with_one_line(ready: Run, tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text("name;label\nhangar;structure\n")
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"label": ["structure"], "wkb": [b"\x01"]}), plain)
    cases = [
        (table, "table.csv has no geometry columns: looked for a WKT column named wkt"),
        (plain, "plain.parquet is a Parquet file without GeoParquet's `geo` metadata"),
    ]
    for path, message in cases:
        code, out, err = ready("import", str(path), "--dry-run")
        assert code == 1 and out == "", (path, out)
        assert err.count("\n") == 1 and message in err, err
