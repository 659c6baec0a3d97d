"""GET /api/v1/exports and `annotator export`: formats, filters, refusals, roles."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas
import pyogrio
import pytest
from click.testing import CliRunner
from flask import Flask

from annotations.exchange import FORMATS
from annotator.cli import main
from tests.conftest import login
from tests.exchange_world import ARABIC, World, build_world
from tests.newsroom import newsroom

Header = Callable[[str], dict[str, str]]


@pytest.fixture
def world(app: Flask, make_geotiff: Callable[..., Path]) -> World:
    return build_world(app, make_geotiff)


#: the training-set formats are chips and labels, not GIS files (see test_ml_export.py)
GIS_FORMATS = [name for name in FORMATS if name not in ("coco", "yolo")]


@pytest.mark.parametrize("name", GIS_FORMATS)
def test_each_format_downloads(world: World, auth_header: Header, name: str,
                               tmp_path: Path) -> None:  # fmt: skip
    fmt = FORMATS[name]
    response = world.app.test_client().get(
        f"/api/v1/exports?format={name}&site=hmeimim", headers=auth_header("viewer")
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == fmt.media_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="annotations-hmeimim-')
    assert disposition.endswith(f'{fmt.extension}"')
    assert response.headers["X-Annotation-Count"] == "6"
    path = tmp_path / f"download{fmt.extension}"
    path.write_bytes(response.get_data())
    if name == "stac":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        assert "annotations/catalog.json" in names
        labels = [n for n in names if n.endswith("/labels.geojson")]
        total = sum(len(pyogrio.read_dataframe(f"/vsizip/{path}/{n}")) for n in labels)
    elif name == "shp":
        layers = pyogrio.list_layers(f"/vsizip/{path}")
        total = sum(len(pyogrio.read_dataframe(f"/vsizip/{path}", layer=lyr)) for lyr, _ in layers)
    elif name == "gpkg":  # a layer per geometry type, and layer_styles (no geometry)
        layers = [lyr for lyr, kind in pyogrio.list_layers(path) if kind is not None]
        assert layers == ["annotations_points", "annotations_lines", "annotations_polygons"]
        total = sum(len(pyogrio.read_dataframe(path, layer=lyr)) for lyr in layers)
    elif name == "csv":
        total = len(pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="WKT"))
    elif name == "geoparquet":  # GDAL here has no Parquet driver: geopandas reads it (pyarrow)
        total = len(geopandas.read_parquet(path))
    else:
        total = len(pyogrio.read_dataframe(path))
    assert total == 6
    # nothing is left in the data folder's temporary space
    assert list(Path(world.app.config["TMP_DIR"]).iterdir()) == []


def test_the_stac_download_points_its_images_at_the_cog_url(world: World, auth_header: Header,
                                                           tmp_path: Path) -> None:  # fmt: skip
    """Over HTTP the catalogue leaves the server: an image asset is the app's COG URL (no
    path on the server's disk), and that URL serves the COG, by ranges too."""
    client = world.app.test_client()
    response = client.get("/api/v1/exports?format=stac", headers=auth_header("viewer"))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(f"/{world.image_id}.json")]
        item = json.loads(archive.read(name))
        every = b"".join(archive.read(n) for n in archive.namelist())
    href = item["assets"]["image"]["href"]
    assert href == f"http://localhost/api/v1/images/{world.image_id}/cog"
    assert str(world.app.config["IMAGES_DIR"]).encode() not in every
    with client.get(href, headers=auth_header("viewer")) as cog:
        assert cog.status_code == 200 and cog.mimetype == "image/tiff"
        stored = Path(world.app.config["IMAGES_DIR"]).glob("*.tif")
        assert cog.get_data() in {p.read_bytes() for p in stored}
    with client.get(href, headers={**auth_header("viewer"), "Range": "bytes=0-3"}) as part:
        assert part.status_code == 206 and part.get_data() in (b"II*\x00", b"MM\x00*")
    assert client.get(href).status_code == 401
    missing = client.get("/api/v1/images/nope/cog", headers=auth_header("viewer"))
    assert missing.status_code == 404 and missing.is_json


def test_filters_narrow_the_download(world: World, auth_header: Header) -> None:
    client = world.app.test_client()
    response = client.get("/api/v1/exports?format=geojson&status=approved&label=aircraft",
                          headers=auth_header("viewer"))  # fmt: skip
    features = json.loads(response.get_data())["features"]
    assert [f["id"] for f in features] == [world.ids["an124"]]
    assert features[0]["properties"]["notes"] == ARABIC
    assert features[0]["properties"]["provider"] == "وكالة الصور الفضائية"


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("format=dxf", 422, "geojson, gpkg, shp"),
        ("", 422, "format"),
        ("format=gpkg&bbox=1,2,3", 422, "bbox"),
        ("format=gpkg&bbox=10,60,5,50", 422, "bbox"),
        ("format=gpkg&status=lost", 422, "status"),
        ("format=gpkg&datetime=yesterday", 422, "ISO 8601"),
        ("format=gpkg&label=aircraft.zeppelin", 422, "unknown label"),
    ],
)
def test_bad_requests_are_4xx_json(world: World, auth_header: Header, query: str, status: int,
                                   says: str) -> None:  # fmt: skip
    response = world.app.test_client().get(f"/api/v1/exports?{query}", headers=auth_header())
    assert response.status_code == status
    body = response.get_json()
    assert says in body["message"]
    if "dxf" in query:
        assert body["details"]["formats"] == list(FORMATS)


def test_too_many_for_http_is_413(tmp_path: Path, make_geotiff: Callable[..., Path],
                                  app: Flask, auth_header: Header) -> None:  # fmt: skip
    app.config["EXPORT_MAX_FEATURES"] = 5
    build_world(app, make_geotiff)
    response = app.test_client().get("/api/v1/exports?format=gpkg", headers=auth_header())
    assert response.status_code == 413
    assert "annotator export" in response.get_json()["message"]


def test_anonymous_is_refused(world: World) -> None:
    response = world.app.test_client().get("/api/v1/exports?format=geojson")
    assert response.status_code == 401


@pytest.mark.parametrize("page", ["/", "/sites/hmeimim"])
def test_site_pages_have_an_export_button(world: World, page: str) -> None:
    client = world.app.test_client()
    login(client, "viewer")
    html = client.get(page).get_data(as_text=True)
    assert 'action="/api/v1/exports"' in html
    assert 'name="site" value="hmeimim"' in html
    for name in FORMATS:
        assert f'<option value="{name}">' in html


def test_cli_exports_and_refuses_in_one_line(world: World, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("ANNOTATOR_DATA_DIR", str(world.app.config["DATA_DIR"]))
    runner = CliRunner()
    target = tmp_path / "hmeimim.kmz"
    result = runner.invoke(main, ["export", "--format", "kmz", "--site", "hmeimim",
                                  "-o", str(target), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["annotations"] == 6
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        assert archive.namelist() == ["doc.kml"]
    for args, says in [
        (["--format", "dxf"], "unknown export format 'dxf'; formats: geojson"),
        (["--format", "gpkg", "--bbox", "a,b"], "bbox must be four numbers"),
        (["--format", "gpkg", "--status", "lost"], "status must be among"),
        (["--format", "gpkg", "--label", "nothing.here"], "unknown label"),
        (["--format", "kmz"], "exists"),
    ]:
        out = tmp_path / ("hmeimim.kmz" if args == ["--format", "kmz"] else "x.gpkg")
        result = runner.invoke(main, ["export", *args, "-o", str(out)])
        assert result.exit_code != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (result.stderr, result.exception)
        assert not (tmp_path / "x.gpkg").exists()


def test_report_filter_and_linked_report_ids(app: Flask, make_geotiff: Callable[..., Path],
                                             tmp_path: Path) -> None:  # fmt: skip
    room = newsroom(app, make_geotiff())
    linked = room.annotation("approved")
    room.annotation("approved", offset_m=60)  # not linked
    report = room.report()
    made = room.link(annotation_id=linked["id"], report_id=report["id"])
    assert made.status_code == 201, made.get_json()

    def export(user: str, query: str) -> list[dict[str, object]]:
        response = room.call("GET", f"/api/v1/exports?format=geojson&{query}", user)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return [
            f["properties"] | {"id": f["id"]} for f in json.loads(response.get_data())["features"]
        ]

    only = export("analyst", f"report={report['id']}")
    assert [f["id"] for f in only] == [linked["id"]]
    assert only[0]["reports"] == str(report["id"])
    # a viewer sees links to published reports only; this one is a draft
    assert {f["reports"] for f in export("viewer", "")} == {""}
    html = room.call("GET", f"/reports/{report['id']}", "editor").get_data(as_text=True)
    assert f'name="report" value="{report["id"]}"' in html and 'action="/api/v1/exports"' in html
    event = room.call("POST", "/api/v1/events", "analyst", json={
        "site": "hmeimim-apron", "title": "Drawdown", "start": "2024-12-01T00:00:00Z",
        "end": "2024-12-31T00:00:00Z", "annotation_ids": [linked["id"]]})  # fmt: skip
    assert event.status_code == 201, event.get_json()
    event_id = event.get_json()["id"]
    assert [f["id"] for f in export("viewer", f"event={event_id}")] == [linked["id"]]
    html = room.call("GET", f"/events/{event_id}", "viewer").get_data(as_text=True)
    assert f'name="event" value="{event_id}"' in html
