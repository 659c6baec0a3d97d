"""Read-only keys against a real `annotator serve`: GDAL's WMTS driver (the gdal_translate a
QGIS install has) reads a capture's pixels through the WMTS capabilities, with the key in the
URL and with the key as the password of HTTP Basic (GDAL_HTTP_USERPWD); and not one line the
server logs (gunicorn's access lines, the app's lines) or its metrics hold the key."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from annotations.catalogue.users import READ_TILES, Role, add_user, create_token, get_user
from annotator import create_app, services
from tests.annotator.test_durability import CENTRE, Instance, Server, prepare, serving
from tests.conftest import PASSWORD, require

GDAL_TRANSLATE = shutil.which("gdal_translate")


@dataclass
class Served:
    server: Server
    instance: Instance
    key: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        with closing(http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)) as c:
            c.request("GET", path, headers=headers or {})
            response = c.getresponse()
            return response.status, response.read()

    def send(self, method: str, path: str) -> int:
        with closing(http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)) as c:
            c.request(method, path, body=b"{}", headers={"Content-Type": "application/json"})
            return c.getresponse().status


class Logged(Instance):
    """The data folder, served with the app's log at DEBUG (every line it can write)."""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "ANNOTATOR_LOG_LEVEL": "DEBUG"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("keys-served")
    instance = prepare(folder, shared_data)
    app = create_app({"DATA_DIR": str(instance.data_dir), "DATABASE_URL": instance.url})
    database = services.database(app)
    try:
        with database.write() as session:
            add_user(session, "desk", Role.viewer, PASSWORD)
            key = create_token(session, get_user(session, "desk"), "gis", READ_TILES)
    finally:
        database.dispose()
    with serving(Logged(**vars(instance)), "keys") as server:
        yield Served(server, instance, key)


def _translate(served: Served, source: str, out: Path, extra_env: dict[str, str]) -> Path:
    require(GDAL_TRANSLATE is not None, "GDAL's gdal_translate (Debian's gdal-bin) is absent")
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(*CENTRE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_"))}
    env.update({"GDAL_DEFAULT_WMS_CACHE_PATH": str(out.parent / "wms-cache"), **extra_env})
    done = subprocess.run(
        [
            str(GDAL_TRANSLATE),
            "-q",
            "-of",
            "GTiff",
            "-projwin",
            str(x - 100),
            str(y + 100),
            str(x + 100),
            str(y - 100),
            source,
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=out.parent,
    )
    assert done.returncode == 0, done.stderr
    return out


def _pixels(path: Path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        assert dataset.crs.to_epsg() == 3857
        return dataset.read()


def test_gdal_reads_a_capture_through_wmts_with_the_key_in_the_url(
    served: Served, tmp_path: Path
) -> None:
    url = f"{served.base}/wmts/1.0.0/WMTSCapabilities.xml?key={served.key}"
    pixels = _pixels(_translate(served, f"WMTS:{url}", tmp_path / "by-url.tif", {}))
    assert pixels.shape[0] == 4, "RGBA"
    assert (pixels[3] == 255).all(), "every pixel of the window is inside the capture"
    assert pixels[:3].std() > 5, "real imagery, not a blank tile"


def test_gdal_reads_with_the_key_as_the_basic_password(served: Served, tmp_path: Path) -> None:
    url = f"{served.base}/wmts/1.0.0/WMTSCapabilities.xml"
    by_basic = _translate(
        served,
        f"WMTS:{url}",
        tmp_path / "by-basic.tif",
        {"GDAL_HTTP_USERPWD": f"qgis:{served.key}"},
    )
    pixels = _pixels(by_basic)
    assert (pixels[3] == 255).all() and pixels[:3].std() > 5
    status, _ = served.get(url.removeprefix(served.base))
    assert status == 401, "and without the key, nothing"


def test_no_log_line_or_metric_holds_the_key(served: Served) -> None:
    key, image = served.key, served.instance.image_id
    assert served.get(f"/tiles/{image}/tilejson.json?key={key}")[0] == 200
    assert served.get(f"/tiles/{image}/99/0/0.png?key={key}")[0] == 400
    assert served.get(f"/sites/nowhere?key={key}", {"Referer": f"http://x/?key={key}"})[0] == 302
    assert served.get(f"/api/v1/images?key={key}")[0] == 401
    assert served.send("POST", f"/api/v1/sites?key={key}") == 403
    assert served.send("DELETE", f"/api/v1/images/{image}/cog?key={key}") == 403
    status, metrics = served.get("/metrics")
    assert status == 200 and key.encode() not in metrics
    log = served.server.log.read_text(errors="replace")
    assert "tilejson.json?key=[redacted]" in log, "gunicorn's access line, redacted"
    assert "GET /tiles/" in log and " 403 " in log, "the app's own access lines are there"
    assert key not in log and key[4:] not in log
