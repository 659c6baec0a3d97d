"""Import by URL (issue 12 item 7) against a local HTTP server started here (no internet):
the CLI copies http(s):// and s3:// files through GDAL's virtual file systems; over the API
only admins may, and a plain user's request fetches nothing. Bad addresses, a 404 and a
page that is not an image are one line (CLI) or a 4xx (API), and leave nothing behind.

And what georeferencing and vendor metadata reach the catalogue, the API and STAC."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner
from flask import Flask
from rasterio.io import MemoryFile
from rasterio.shutil import copy

from annotations.catalogue.images import get_image
from annotations.exchange.stac import image_item
from annotator import services
from annotator.cli import main
from imagery.remote.copy import RemoteCopyError, fetch, gdal_path
from tests.jobs import ENDED, consuming, wait_for_job, wait_until
from tests.servers import http_server

TRANSFORM = Affine.translation(500000, 4000000) * Affine.scale(2, -2)
IMD = """BEGIN_GROUP = IMAGE_1
\tsatId = "WV03";
\tfirstLineTime = 2016-01-29T07:43:57.447349Z;
\tmeanSunAz = 152.6;
\tmeanSunEl = 39.0;
\tmeanOffNadirViewAngle = 14.4;
END_GROUP = IMAGE_1
END;
"""


def write(path: Path, driver: str = "GTiff", seed: int = 0, **options: str) -> Path:
    data = np.random.default_rng(seed).integers(1, 255, (1, 48, 48), dtype="uint8")
    with MemoryFile() as memory:
        with memory.open(
            driver="GTiff",
            width=48,
            height=48,
            count=1,
            dtype="uint8",
            crs="EPSG:32633",
            transform=TRANSFORM,
        ) as dataset:
            dataset.write(data)
        with memory.open() as dataset:
            copy(dataset, path, driver=driver, **options)
    return path


#: /endless.tif: this many bytes promised, sent slowly after the first CHUNK (a copy to cancel)
ENDLESS = 64 << 20


@dataclass
class Server:
    url: str
    requests: list[str]
    #: set when the client of /endless.tif hung up (the copy's process was killed)
    dropped: threading.Event


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served")
    write(folder / "scene.tif", seed=1)
    write(folder / "other.tif", seed=2)
    (folder / "bucket").mkdir()
    write(folder / "bucket" / "key.tif", seed=3)
    (folder / "page.tif").write_text("<!doctype html><html><body>Not an image</body></html>")
    seen: list[str] = []

    class Files(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            seen.append(self.path)

        def do_HEAD(self) -> None:
            if self.path != "/endless.tif":
                return super().do_HEAD()
            self._endless_headers()

        def do_GET(self) -> None:
            if self.path != "/endless.tif":
                return super().do_GET()
            self._endless_headers()
            sent = 0
            try:
                self.wfile.write(b"\0" * (5 << 20))  # a first progress line at once
                sent = 5 << 20
                while sent < ENDLESS:  # then about 5 MB a second: a copy that takes a while
                    self.wfile.write(b"\0" * (256 << 10))
                    self.wfile.flush()
                    sent += 256 << 10
                    time.sleep(0.05)
            except OSError:
                dropped.set()

        def _endless_headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/tiff")
            self.send_header("Content-Length", str(ENDLESS))
            self.end_headers()

    dropped = threading.Event()
    with http_server(Files) as url:
        yield Server(url, seen, dropped)


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., tuple[int, str, str]]:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str, extra: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), env=env | (extra or {}))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    run_init = invoke("init")
    assert run_init[0] == 0, run_init
    return invoke


def leftovers(data: Path) -> list[Path]:
    """What an import left in the store and temporary folders (the store's lock aside)."""
    found = []
    for folder in (data / "images", data / "tmp"):
        if folder.exists():
            found += [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    return found


def test_cli_imports_a_url_and_an_s3_key(
    run: Callable[..., tuple[int, str, str]], server: Server, tmp_path: Path
) -> None:
    code, out, err = run("images", "import", f"{server.url}/scene.tif", "--json")
    assert code == 0, err
    imported = json.loads(out)
    assert imported[0]["created"] and imported[0]["original_filename"] == "scene.tif"
    assert "/scene.tif" in server.requests
    # s3://bucket/key with the deployment's credentials, here an S3 endpoint of our own
    s3 = {
        "AWS_S3_ENDPOINT": server.url.removeprefix("http://"),
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
    }
    code, out, err = run("images", "import", "s3://bucket/key.tif", "--json", extra=s3)
    assert code == 0, err
    assert json.loads(out)[0]["original_filename"] == "key.tif"
    assert any(r.startswith("/bucket/key.tif") for r in server.requests)
    data = tmp_path / "data"
    assert [p.parent.name for p in leftovers(data)] == ["images", "images"]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("/missing.tif", "cannot read"),
        ("/page.tif", "not a TIFF, JPEG 2000 or NITF"),
        ("ftp://127.0.0.1/scene.tif", "not an http://, https:// or s3:// address"),
        ("http://127.0.0.1:9/scene.tif", "cannot read"),
        ("s3://bucket", "names a bucket but no file"),
    ],
    ids=["404", "not-an-image", "ftp", "refused", "bucket-only"],
)
def test_cli_refuses_a_bad_url_in_one_line_and_keeps_nothing(
    run: Callable[..., tuple[int, str, str]],
    server: Server,
    tmp_path: Path,
    address: str,
    message: str,
) -> None:
    url = server.url + address if address.startswith("/") else address
    # with a good file first: all or nothing
    code, out, err = run("images", "import", f"{server.url}/other.tif", url)
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert leftovers(tmp_path / "data") == []
    code, out, _ = run("images", "list", "--json")
    assert json.loads(out) == []


def test_progress_is_reported_while_copying(server: Server, tmp_path: Path) -> None:
    steps: list[tuple[int, int | None]] = []
    target = fetch(
        f"{server.url}/scene.tif",
        tmp_path / "scene.tif",
        max_bytes=1 << 20,
        progress=lambda done, total: steps.append((done, total)),
    )
    size = target.stat().st_size
    assert steps and steps[-1] == (size, size)
    with pytest.raises(RemoteCopyError, match="over the limit of 100"):
        fetch(f"{server.url}/scene.tif", tmp_path / "big.tif", max_bytes=100)
    assert not (tmp_path / "big.tif").exists()
    assert gdal_path("s3://bucket/a/b.tif") == "/vsis3_streaming/bucket/a/b.tif"
    assert gdal_path("https://example.org/x.tif") == "/vsicurl_streaming/https://example.org/x.tif"


def test_api_imports_a_url_for_admins_only(
    app: Flask, auth_header: Callable[[str], dict[str, str]], server: Server
) -> None:
    client = app.test_client()
    before = len(server.requests)
    for user in ("viewer", "analyst", "editor"):
        response = client.post(
            "/api/v1/images", json={"url": f"{server.url}/scene.tif"}, headers=auth_header(user)
        )
        assert response.status_code == 403, (user, response.get_json())
        assert response.get_json()["error"] in ("forbidden", "Forbidden") or response.get_json()
    assert len(server.requests) == before  # nothing fetched for them
    admin = auth_header("admin")
    bad = client.post("/api/v1/images", json={"url": "file:///etc/passwd"}, headers=admin)
    assert bad.status_code == 422 and "not an http://" in bad.get_json()["message"]
    assert client.post("/api/v1/images", json={"link": "x"}, headers=admin).status_code == 400
    height = {"url": f"{server.url}/scene.tif", "height": "high"}
    assert client.post("/api/v1/images", json=height, headers=admin).status_code == 400
    # ?wait=1: copied and imported in the request, as before
    missing = client.post(
        "/api/v1/images?wait=1", json={"url": f"{server.url}/nothing.tif"}, headers=admin
    )
    assert missing.status_code == 422 and "cannot read" in missing.get_json()["message"]
    page = client.post(
        "/api/v1/images?wait=1", json={"url": f"{server.url}/page.tif"}, headers=admin
    )
    assert page.status_code == 415
    made = client.post(
        "/api/v1/images?wait=1",
        json={"url": f"{server.url}/scene.tif", "provider": "Ours"},
        headers=admin,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["original_filename"] == "scene.tif" and body["provider"] == "Ours"
    assert body["georeferencing"]["text"] == "north-up geotransform"
    tmp = Path(app.config["TMP_DIR"])
    assert not tmp.exists() or not any(p.is_file() for p in tmp.rglob("*"))


def test_api_imports_a_url_as_a_job_with_progress_and_errors_in_the_job(
    app: Flask, auth_header: Callable[[str], dict[str, str]], server: Server
) -> None:
    client = app.test_client()
    admin = auth_header("admin")
    url = f"{server.url}/other.tif"
    queued = client.post("/api/v1/images", json={"url": url, "sensor": "<b>S2</b>"}, headers=admin)
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    assert job["kind"] == "ingest" and job["status"] == "queued"
    assert queued.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    failing = {
        name: client.post("/api/v1/images", json={"url": f"{server.url}{path}"}, headers=admin)
        for name, path in (("missing", "/nothing.tif"), ("page", "/page.tif"))
    }
    assert all(r.status_code == 202 for r in failing.values())
    # viewers never see an admin's job
    hidden = client.get(f"/api/v1/jobs/{job['id']}", headers=auth_header("viewer"))
    assert hidden.status_code in (403, 404)
    with consuming(app):
        done = wait_for_job(client, admin, job["id"])
        ended = {k: wait_for_job(client, admin, r.get_json()["id"]) for k, r in failing.items()}
    assert done["status"] == "done", done
    assert done["progress"] == 1.0
    image = client.get(done["result"]["images"][0]["href"], headers=admin).get_json()
    assert image["original_filename"] == "other.tif" and image["sensor"] == "<b>S2</b>"
    assert ended["missing"]["status"] == "failed"
    assert "cannot read" in ended["missing"]["error"]
    assert ended["page"]["status"] == "failed"
    assert "not a TIFF, JPEG 2000 or NITF" in ended["page"]["error"]
    work = Path(app.config["DATA_DIR"]) / "jobs" / "work"
    assert not work.exists() or list(work.iterdir()) == []
    tmp = Path(app.config["TMP_DIR"])
    assert not tmp.exists() or not any(p.is_file() for p in tmp.rglob("*"))


def test_cancelling_an_import_by_url_kills_the_copy(
    app: Flask, auth_header: Callable[[str], dict[str, str]], server: Server
) -> None:
    client = app.test_client()
    admin = auth_header("admin")
    queued = client.post("/api/v1/images", json={"url": f"{server.url}/endless.tif"}, headers=admin)
    assert queued.status_code == 202, queued.get_json()
    job_id = queued.get_json()["id"]

    def read() -> dict[str, Any]:
        found: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=admin).get_json()
        return found

    with consuming(app):
        copying = wait_until(read, lambda job: job["progress"] > 0 or job["status"] in ENDED)
        assert copying["status"] == "running", copying
        assert copying["message"].startswith("copying endless.tif")
        assert 0 < copying["progress"] < 0.5  # the copy is the first half of the bar
        assert client.delete(f"/api/v1/jobs/{job_id}", headers=admin).status_code in (200, 202)
        ended = wait_for_job(client, admin, job_id)
    assert ended["status"] == "cancelled", ended
    # the copy's process was killed: the server saw its client hang up before the end
    assert server.dropped.wait(60)
    assert not (Path(app.config["DATA_DIR"]) / "jobs" / "work" / job_id).exists()


def test_vendor_facts_reach_the_catalogue_api_and_stac(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    image = write(folder / "scene.ntf", "NITF", IDATIM="20160129074400", ISORCE="WV03")
    (folder / "scene.IMD").write_text(IMD)
    code, out, err = run("images", "import", str(image), "--provider", "Typed", "--json")
    assert code == 0, err
    listed = json.loads(out)[0]
    assert listed["georeferencing"] == {"method": "geotransform", "text": "north-up geotransform"}
    assert listed["acquisition"]["off_nadir_deg"] == "14.4"
    assert listed["acquisition"]["source"] == "imd, nitf-header"
    assert listed["provider"] == "Typed"  # what the user typed stays
    assert listed["sensor"] == "WV03"  # a blank is filled from the vendor's metadata
    assert listed["captured_at"] == "2016-01-29T07:43:57.447349Z"
    assert listed["captured_source"] == "imd"
    from annotator.app import create_app

    app = create_app({"DATA_DIR": str(tmp_path / "data")})
    with services.database(app).read() as session:
        stored = get_image(session, listed["id"])
        item = image_item(stored, Path(app.config["IMAGES_DIR"]) / stored.cog_name)
    properties = item.to_dict()["properties"]
    assert properties["annotator:georeferencing"] == "north-up geotransform"
    assert properties["annotator:off_nadir"] == 14.4
    assert properties["annotator:sun_elevation"] == 39.0
    assert properties["platform"] == "WV03"
    with rasterio.open(Path(app.config["IMAGES_DIR"]) / stored.cog_name) as cog:
        assert cog.crs.to_epsg() == 32633
    services.database(app).dispose()


def test_rpc_height_from_the_command_line_or_zero_saying_why_or_the_dem(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    from shapely.geometry import shape

    from tests.imagery.test_georef import nitf, rpc_footprint

    folder = tmp_path / "rpc"
    folder.mkdir()
    code, out, err = run("images", "import", str(nitf(folder, "a.ntf")), "--json")
    assert code == 0, err
    placed = json.loads(out)[0]["georeferencing"]
    assert placed["text"] == (
        "RPC, constant height 0 m (no height given, and sites keep no elevation)"
    )
    assert placed["height_m"] == "0.0"
    image = folder / "b.ntf"
    nitf(folder, "b.ntf")
    with image.open("ab") as handle:  # another file (another sha256), the same image
        handle.write(b"\0")
    code, out, err = run("images", "import", str(image), "--height", "600", "--json")
    assert code == 0, err
    imported = json.loads(out)[0]
    assert imported["georeferencing"]["text"] == "RPC, constant height 600 m"
    footprint = shape(imported["footprint"])
    expected = rpc_footprint(600)
    assert footprint.symmetric_difference(expected).area / expected.area < 0.03
    dem = folder / "dem.tif"
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=50,
        height=50,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine.translation(9.9, 45.1) * Affine.scale(0.004, -0.004),
    ) as out_dem:
        out_dem.write(np.full((1, 50, 50), 600, dtype="float32"))
    with image.open("ab") as handle:
        handle.write(b"\0")
    code, out, err = run(
        "images", "import", str(image), "--json", extra={"ANNOTATOR_DEM": str(dem)}
    )
    assert code == 0, err
    assert json.loads(out)[0]["georeferencing"]["text"] == "RPC, on the deployment's DEM"
