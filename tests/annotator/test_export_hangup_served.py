"""A client that hangs up stops its export on the real `annotator serve` (gunicorn processes
running waitress channels, see annotator/serving.py), and the export's files go."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

from tests.annotations.test_ml_export import lonlat
from tests.annotator.test_slow_clients import annotator_serve, run_cli
from tests.conftest import write_geotiff

PASSWORD = "hang-up-password"
CHIPS = 64 * 64  # a 2048 px square image in 32 px chips


def wait_for(condition: Callable[[], bool], log: Path, what: str) -> None:
    """Until `condition` holds; a guard of 5 minutes only keeps a broken run from hanging."""
    guard = time.monotonic() + 300
    while not condition():
        assert time.monotonic() < guard, f"{what}; the server's log:\n{log.read_text()[-3000:]}"
        time.sleep(0.01)


def test_a_hang_up_stops_the_export_on_annotator_serve(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    data = tmp_path / "instance"
    env["ANNOTATOR_DATA_DIR"] = str(data)
    run_cli(env, "init")
    pixels = np.random.default_rng(5).integers(1, 255, (3, 2048, 2048), dtype=np.uint8)
    image = write_geotiff(tmp_path / "big.tif", pixels)
    imported = run_cli(env, "images", "import", str(image), "--json", "--provider", "Test")
    image_id = json.loads(imported)[0]["id"]
    tokens = {}
    for name, role in (("drawer", "analyst"), ("watcher", "viewer")):
        run_cli(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
        tokens[name] = run_cli(env, "tokens", "create", name).strip().splitlines()[-1].strip()
    log = tmp_path / "serve.log"
    with annotator_serve(env, log) as (process, port):
        ring = [lonlat(c, r) for c, r in ((100, 100), (140, 100), (140, 120), (100, 120))]
        feature = {"type": "Feature", "geometry": mapping(shapely.Polygon(ring)),
                   "properties": {"label": "structure.hangar", "shape": "box",
                                  "image_id": image_id}}  # fmt: skip
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/api/v1/annotations", json.dumps(feature), {
            "Content-Type": "application/json", "Authorization": f"Bearer {tokens['drawer']}",
        })  # fmt: skip
        assert connection.getresponse().status == 201
        connection.close()

        tmp = data / "tmp"
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            f"GET /api/v1/exports?format=yolo&chip_size=32&overlap=0&empty_chips=1"
            f"&image={image_id} HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {tokens['watcher']}\r\n\r\n".encode()
        )
        wait_for(lambda: len(list(tmp.rglob("*.png"))) >= 5, log, "no chips were written")
        client.close()
        wait_for(lambda: "stopped, cancelled" in log.read_text(), log, "the export went on")
        wait_for(lambda: not list(tmp.rglob("export-*")), log, "the export's folder stayed")
        [chips] = re.findall(r"stopped, cancelled: (\d+) chips", log.read_text())
        assert 5 <= int(chips) < CHIPS
        assert process.poll() is None  # the worker lives on
