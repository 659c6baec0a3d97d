"""Imports never make the server fetch a URL named in the file (issue 10, item 2).

Every format the import reads gets hostile members pointing at a loopback web server that
records each request: GeoJSON `crs` links and URL names (on the file, a feature, a
geometry), JSON-FG `coordRefSys`, KML styles, schemas, icons, overlays and models, a
Shapefile's .prj, a GeoPackage's CRS definitions, a STAC item and its labels. Dry runs and
real imports, through the library, the API, the import page and the CLI in a process of its
own: the server records nothing. Two layers are tested apart: the refusal of such members
before GDAL sees them, and GDAL and PROJ held offline in the app's processes (unless
ANNOTATOR_ALLOW_NETWORK says otherwise).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import rasterio
from flask import Flask
from rasterio.errors import RasterioError
from shapely.geometry import box

import imagery.gdal
from annotations.errors import AnnotationError
from annotations.exchange.safety import UnsafeFile
from tests.annotations.test_imports import add_image, count, feature, import_path, square
from tests.conftest import login, token_for
from tests.servers import Quiet, http_server

ROOT = Path(__file__).resolve().parents[2]
INSIDE = (-84.4790, 33.6380)  # inside the Atlanta test image


class Recorder(Quiet):
    hits: list[str] = []

    def _record(self) -> None:
        Recorder.hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        # a valid answer to whatever is asked: a CRS, a style, a schema
        self.wfile.write(b'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257]]]')

    do_GET = do_HEAD = do_POST = _record


@pytest.fixture
def listener() -> Iterator[str]:
    """A real web server on a free loopback port that records every request made to it."""
    Recorder.hits = []
    with http_server(Recorder) as url:
        yield url


def _collection(url: str, **extra: object) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": [feature(square(*INSIDE))], **extra}


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, raw in entries.items():
            zipped.writestr(name, raw)
    return path


def _kml(url: str, inner: str) -> str:
    return (
        "<?xml version='1.0'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document>"
        f"{inner}<Placemark><name>a</name><ExtendedData><Data name='label'><value>structure"
        f"</value></Data></ExtendedData><Point><coordinates>{INSIDE[0]},{INSIDE[1]}"
        "</coordinates></Point></Placemark></Document></kml>"
    )


def _shapefile(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    frame = gpd.GeoDataFrame({"label": ["structure"]}, geometry=[box(*INSIDE, INSIDE[0] + 1e-4,
                             INSIDE[1] + 1e-4)], crs="EPSG:4326")  # fmt: skip
    frame.to_file(folder / "layer.shp")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _geopackage(path: Path, definition: str) -> Path:
    frame = gpd.GeoDataFrame({"label": ["structure"]}, geometry=[box(*INSIDE, INSIDE[0] + 1e-4,
                             INSIDE[1] + 1e-4)], crs="EPSG:4326")  # fmt: skip
    frame.to_file(path, layer="annotations", driver="GPKG")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE gpkg_spatial_ref_sys SET definition = ? WHERE srs_id = 4326", (definition,)
        )
    return path


def hostile_files(url: str, folder: Path) -> dict[str, tuple[Path, bool]]:
    """name -> (file, whether the import refuses it before GDAL reads it)."""
    folder.mkdir(exist_ok=True)
    files: dict[str, tuple[Path, bool]] = {}

    def json_file(name: str, data: object, refused: bool = True) -> None:
        path = folder / name
        path.write_text(json.dumps(data))
        files[name] = (path, refused)

    link = {"type": "link", "properties": {"href": f"{url}/crs-link", "type": "ogcwkt"}}
    json_file("crs-link.geojson", _collection(url, crs=link))
    json_file("crs-name-url.geojson", _collection(
        url, crs={"type": "name", "properties": {"name": f"{url}/crs-name"}}))  # fmt: skip
    json_file("crs-grid-url.geojson", _collection(url, crs={"type": "name", "properties": {
        "name": f"+proj=longlat +datum=WGS84 +nadgrids={url}/grid.tif +type=crs"}}))  # fmt: skip
    json_file("feature-crs-link.geojson", feature(square(*INSIDE)) | {"crs": link})
    one = feature(square(*INSIDE))
    one["geometry"]["crs"] = link
    json_file("geometry-crs-link.geojson", {"type": "FeatureCollection", "features": [one]})
    json_file("jsonfg.geojson", _collection(
        url, conformsTo=["[ogc-json-fg-1-0.2:core]"], coordRefSys=f"{url}/jsonfg"))  # fmt: skip
    for name, inner, refused in (
        ("style.kml", f"<Style id='s'/><StyleMap id='m'><Pair><key>normal</key><styleUrl>"
                      f"{url}/styles.kml#s</styleUrl></Pair></StyleMap>", True),
        ("schema.kml", f"<Placemark><ExtendedData><SchemaData schemaUrl='{url}/s.kml#x'>"
                       "<SimpleData name='a'>1</SimpleData></SchemaData></ExtendedData>"
                       f"<Point><coordinates>{INSIDE[0]},{INSIDE[1]}</coordinates></Point>"
                       "</Placemark>", True),
        ("update.kml", f"<NetworkLinkControl><Update><targetHref>{url}/t.kml</targetHref>"
                       "</Update></NetworkLinkControl>", True),
        # links that are plain data in KML: read, and still never fetched
        ("icons.kml", f"<Style id='s'><IconStyle><Icon><href>{url}/icon.png</href></Icon>"
                      "</IconStyle></Style><GroundOverlay><Icon><href>"
                      f"{url}/overlay.png</href></Icon><LatLonBox><north>33.64</north><south>"
                      "33.63</south><east>-84.47</east><west>-84.48</west></LatLonBox>"
                      f"</GroundOverlay><Placemark><Model><Link><href>{url}/model.dae</href>"
                      "</Link><Location><longitude>-84.479</longitude><latitude>33.638"
                      "</latitude></Location></Model></Placemark>", False),
    ):  # fmt: skip
        path = folder / name
        path.write_text(_kml(url, inner))
        files[name] = (path, refused)
        files[f"{name}.kmz"] = (_zip(folder / f"{name}.kmz", {"doc.kml": path.read_bytes()}),
                                refused)  # fmt: skip
    shapefile = _shapefile(folder / "shapefile")
    for name, prj in (
        ("prj-url.zip", f"{url}/prj"),
        ("prj-grid.zip", 'GEOGCS["x",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
         'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],EXTENSION["PROJ4",'
         f'"+proj=longlat +datum=WGS84 +nadgrids={url}/grid.gsb"]]'),
    ):  # fmt: skip
        files[name] = (_zip(folder / name, shapefile | {"layer.prj": prj.encode()}), True)
    files["srs-url.gpkg"] = (_geopackage(folder / "srs-url.gpkg", f"{url}/gpkg-srs"), True)
    grid = f"+proj=longlat +datum=WGS84 +nadgrids={url}/g.tif"
    files["srs-grid.gpkg"] = (_geopackage(folder / "srs-grid.gpkg", grid), True)
    # STAC: a label item whose labels carry a crs link, and one whose labels are a URL
    labels = json.dumps(_collection(url, crs=link)).encode()
    item = {"type": "Feature", "stac_version": "1.0.0", "id": "item", "geometry": None,
            "properties": {"label:properties": ["label"]},
            "assets": {"labels": {"href": "./labels.geojson"}},
            "links": [{"rel": "source", "href": f"{url}/source-item.json"}]}  # fmt: skip
    files["stac-labels-link.zip"] = (_zip(folder / "stac-labels-link.zip", {
        "item.json": json.dumps(item).encode(), "labels.geojson": labels}), True)  # fmt: skip
    remote = item | {"assets": {"labels": {"href": f"{url}/labels.geojson"}}}
    files["stac-remote.zip"] = (_zip(folder / "stac-remote.zip", {
        "item.json": json.dumps(remote).encode()}), True)  # fmt: skip
    return files


@pytest.fixture
def atlanta_app(app_on_each_backend: Flask, shared_data: Path) -> Flask:
    add_image(app_on_each_backend, shared_data / "sample_geotiff.tif")
    return app_on_each_backend


def test_no_import_format_makes_the_server_fetch_a_url(
    atlanta_app: Flask, tmp_path: Path, listener: str
) -> None:
    files = hostile_files(listener, tmp_path / "hostile")
    checked = {}
    for name, (path, refused) in files.items():
        for dry_run in (True, False):
            try:
                report = import_path(atlanta_app, path, dry_run=dry_run, origin=False)
            except AnnotationError as exc:
                if refused:
                    assert isinstance(exc, UnsafeFile), (name, exc.message)
                    assert "\n" not in exc.message
                else:  # the overlay and the model are features without a label
                    assert not dry_run and "cannot be imported" in exc.message, exc.message
            else:
                assert not refused, (name, report)
                checked[name] = report["would_create"]
            assert Recorder.hits == [], f"{name} (dry run: {dry_run}) fetched {Recorder.hits}"
    assert checked == {"icons.kml": 1, "icons.kml.kmz": 1}, "read, its placemark found"
    assert count(atlanta_app) == 0


def test_api_and_import_page_fetch_nothing_either(
    app: Flask, shared_data: Path, tmp_path: Path, listener: str
) -> None:
    add_image(app, shared_data / "sample_geotiff.tif")
    files = hostile_files(listener, tmp_path / "hostile")
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    page = app.test_client()
    csrf = login(page, "analyst")
    for name, (path, refused) in files.items():
        for dry_run in ("1", "0"):
            data = {"file": (io.BytesIO(path.read_bytes()), name), "dry_run": dry_run}
            response = app.test_client().post("/api/v1/imports", data=data, headers=headers,
                                              content_type="multipart/form-data")  # fmt: skip
            if refused:
                assert response.status_code == 422, (name, response.get_json())
                assert response.get_json()["error"] == "unsafe_file", name
            else:
                assert response.status_code == (200 if dry_run == "1" else 422), name
            form = {"file": (io.BytesIO(path.read_bytes()), name), "csrf_token": csrf,
                    "action": "check" if dry_run == "1" else "import"}  # fmt: skip
            shown = page.post("/import", data=form, content_type="multipart/form-data")
            assert shown.status_code < 500, name
            assert Recorder.hits == [], f"{name} fetched {Recorder.hits}"


def test_gdal_and_proj_themselves_are_offline_in_the_app(
    app: Flask, tmp_path: Path, listener: str
) -> None:
    """The second layer alone: GDAL handed a hostile file, or a remote path, directly."""
    link = tmp_path / "link.geojson"
    crs = {"type": "link", "properties": {"href": f"{listener}/direct", "type": "ogcwkt"}}
    link.write_text(json.dumps(_collection(listener, crs=crs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.raw.read(link)
    assert f"{listener}/direct" in imagery.gdal.refused_urls, "GDAL asked, and was refused"
    for remote in (f"/vsicurl/{listener}/scene.tif", f"{listener}/scene.tif",
                   "/vsis3/bucket/scene.tif"):  # fmt: skip
        with pytest.raises(RasterioError):
            rasterio.open(remote)
        with pytest.raises(pyogrio.errors.DataSourceError):
            pyogrio.read_info(remote.replace(".tif", ".geojson"))
    assert not pyproj.network.is_network_enabled()
    assert os.environ["PROJ_NETWORK"] == "OFF"
    with contextlib.suppress(pyproj.exceptions.ProjError):
        pyproj.Transformer.from_crs(
            f"+proj=longlat +datum=WGS84 +nadgrids={listener}/grid.tif +type=crs",
            "EPSG:4326", always_xy=True,
        ).transform(1, 2)  # fmt: skip
    assert Recorder.hits == []


READ_LINKED_CRS = """
import sys, warnings
from annotator import create_app
create_app({"DATA_DIR": sys.argv[2]})
import pyogrio.raw
warnings.simplefilter("ignore")
print(pyogrio.raw.read(sys.argv[1])[0]["crs"])
"""


def test_a_fresh_app_process_is_offline_unless_the_deployment_allows_network(
    tmp_path: Path, listener: str
) -> None:
    """A process of its own (as a gunicorn worker or the CLI is): offline from create_app
    on; ANNOTATOR_ALLOW_NETWORK=1 lets GDAL fetch, which shows the listener would see it."""
    link = tmp_path / "link.geojson"
    crs = {"type": "link", "properties": {"href": f"{listener}/fresh", "type": "ogcwkt"}}
    link.write_text(json.dumps(_collection(listener, crs=crs)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANNOTATOR_", "PROJ_"))}
    for allow, expected in (("0", []), ("1", ["GET /fresh"])):
        Recorder.hits = []
        done = subprocess.run(
            [sys.executable, "-c", READ_LINKED_CRS, str(link), str(tmp_path / f"data{allow}")],
            env=env | {"ANNOTATOR_ALLOW_NETWORK": allow}, cwd=ROOT, capture_output=True,
            text=True, timeout=300, check=True,
        )  # fmt: skip
        assert sorted(set(Recorder.hits)) == expected, (allow, done.stdout, done.stderr)


CLI = "import sys; from annotator.cli import main; sys.argv[0] = 'annotator'; main()"


def test_the_cli_in_a_process_of_its_own_fetches_nothing(tmp_path: Path, listener: str) -> None:
    files = hostile_files(listener, tmp_path / "hostile")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANNOTATOR_", "PROJ_"))}
    env["ANNOTATOR_DATA_DIR"] = str(tmp_path / "data")

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", CLI, *args], env=env, cwd=ROOT,
                              input=stdin, capture_output=True, text=True, timeout=300)  # fmt: skip

    assert cli("init").returncode == 0
    added = cli("users", "add", "ana", "--role", "analyst", "--password-stdin",
                stdin="a long enough password\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    # a process each costs seconds: a few formats, dry runs and real imports
    for name, extra in (("crs-link.geojson", ["--dry-run"]), ("srs-url.gpkg", ["--user", "ana"]),
                        ("prj-grid.zip", ["--dry-run"]), ("icons.kml", ["--dry-run"])):  # fmt: skip
        path, refused = files[name]
        done = cli("import", str(path), *extra)
        if refused:
            assert done.returncode == 1, (name, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
            assert "URL" in lines[0] or "link" in lines[0], lines[0]
        else:  # read (its placemark lies on no image: there is none here)
            assert done.returncode == 0, (name, done.stderr)
        assert Recorder.hits == [], f"{name} {extra} fetched {Recorder.hits}"


def test_image_uploads_fetch_nothing(
    app: Flask, tmp_path: Path, listener: str, make_geotiff: Callable[..., Path]
) -> None:
    """GeoTIFF ingest: URLs in the tags, a VRT (under a .tif name) that names a remote
    file; nothing is fetched, whatever is accepted or refused."""
    tags = {"SOURCE": f"{listener}/tag", "TIFFTAG_IMAGEDESCRIPTION": f"{listener}/d"}
    tagged = make_geotiff("tagged.tif", tags=tags)
    vrt = tmp_path / "remote.tif"
    vrt.write_text(
        "<VRTDataset rasterXSize='10' rasterYSize='10'><VRTRasterBand dataType='Byte' band='1'>"
        f"<SimpleSource><SourceFilename>/vsicurl/{listener}/x.tif</SourceFilename>"
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    for path, status in ((tagged, 201), (vrt, 415)):
        response = app.test_client().post(
            "/api/v1/images?wait=1", headers=headers, content_type="multipart/form-data",
            data={"file": (io.BytesIO(path.read_bytes()), path.name)},
        )  # fmt: skip
        assert response.status_code == status, response.get_json()
    assert Recorder.hits == []
