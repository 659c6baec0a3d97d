"""Exports over HTTP have a budget (chips, bytes, seconds), stop when their client leaves,
and leave nothing in the data folder's tmp/, however they end; a killed worker's leftovers
go when the app next starts."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from flask import Flask
from shapely.geometry import mapping

from annotations.annotation import Actor, create
from annotations.catalogue.users import Role
from annotations.feature import parse_feature
from annotator import create_app, scratch, services
from imagery.chips import ChipPlan, chip_grid
from tests.annotations.test_imports import add_image
from tests.annotations.test_ml_export import lonlat
from tests.conftest import token_for
from tests.servers import wsgi_server

Header = Callable[[str], dict[str, str]]


def scene(app: Flask, make_geotiff: Callable[..., Path], width: int, height: int) -> str:
    """An image of `width` x `height` random pixels with one box on it; its id."""
    data = np.random.default_rng(5).integers(1, 255, (3, height, width), dtype=np.uint8)
    image_id = add_image(app, make_geotiff("scene.tif", data=data))
    ring = [lonlat(c, r) for c, r in ((100, 100), (140, 100), (140, 120), (100, 120))]
    feature = {
        "type": "Feature",
        "geometry": mapping(shapely.Polygon(ring)),
        "properties": {"label": "structure.hangar", "shape": "box", "image_id": image_id},
    }
    with services.database(app).write() as session:
        create(session, parse_feature(feature, services.taxonomy(app)),
               Actor("analyst", Role.analyst))  # fmt: skip
    return image_id


def leftovers(app: Flask) -> list[Path]:
    return sorted(Path(app.config["TMP_DIR"]).rglob("*"))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def records(app: Flask) -> Iterator[Records]:
    handler = Records()
    app.logger.addHandler(handler)
    yield handler
    app.logger.removeHandler(handler)


def test_absurd_chip_counts_are_refused_up_front_with_the_count(
    app: Flask, make_geotiff: Callable[..., Path], auth_header: Header
) -> None:
    image_id = scene(app, make_geotiff, 400, 300)
    app.config["EXPORT_MAX_CHIPS"] = 100
    client = app.test_client()
    # 13 columns x 10 rows of 32 px chips, every one written with empty chips
    assert len(chip_grid(400, 300, 32, 0)) == 130
    for fmt in ("yolo", "coco"):
        response = client.get(
            f"/api/v1/exports?format={fmt}&chip_size=32&overlap=0&empty_chips=1&image={image_id}",
            headers=auth_header("viewer"),
        )
        assert response.status_code == 413, response.get_data(as_text=True)
        error = response.get_json()
        assert error["error"] == "too_many_chips"
        assert "130 chips" in error["message"] and "at most 100" in error["message"]
        assert error["details"] == {"chips": 130, "limit": 100, "chip_size": 32}
        assert leftovers(app) == []
    # without empty chips only the windows the box meets count: those are allowed
    response = client.get(
        f"/api/v1/exports?format=yolo&chip_size=32&overlap=0&image={image_id}",
        headers=auth_header("viewer"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    # the box (pixels 100-140 x 100-120) meets two 32 px windows: the most there can be
    app.config["EXPORT_MAX_CHIPS"] = 1
    response = client.get(
        f"/api/v1/exports?format=yolo&chip_size=32&overlap=0&image={image_id}",
        headers=auth_header("viewer"),
    )
    assert response.status_code == 413
    assert "would cut up to 2 chips of 32 px" in response.get_json()["message"]
    assert leftovers(app) == []


def test_a_chip_plan_counts_what_is_cut() -> None:
    every = ChipPlan.every(400, 300, 64, 16)
    assert list(every) == chip_grid(400, 300, 64, 16) and len(every) == len(list(every))
    touching = ChipPlan.touching(400, 300, 64, 16, [(100, 100, 140, 120), (130, 110, 150, 115)])
    windows = list(touching)
    assert len(touching) == len(windows) == len(set(windows))
    assert {w for w in every if w.box.intersection(shapely.box(100, 100, 140, 120)).area > 0} \
        <= set(windows) <= set(every)  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "value", "fmt", "code"),
    [
        ("EXPORT_MAX_MB", 0.01, "yolo", "export_bytes"),  # 10 KB: stopped after a few chips
        ("EXPORT_MAX_MB", 0.0001, "geojson", "export_bytes"),  # the GDAL file, measured
        ("EXPORT_MAX_SECONDS", 1e-9, "coco", "export_seconds"),
        ("EXPORT_MAX_SECONDS", 1e-9, "shp", "export_seconds"),
        ("EXPORT_MAX_SECONDS", 1e-9, "gpkg", "export_seconds"),  # through GDAL's Arrow stream
        ("EXPORT_MAX_SECONDS", 1e-9, "kml", "export_seconds"),
        ("EXPORT_MAX_SECONDS", 1e-9, "stac", "export_seconds"),
    ],
)
def test_a_budget_hit_ends_the_export_with_a_clear_error_and_an_empty_tmp(
    app: Flask, make_geotiff: Callable[..., Path], auth_header: Header, records: Records,
    setting: str, value: float, fmt: str, code: str,
) -> None:  # fmt: skip
    image_id = scene(app, make_geotiff, 400, 300)
    app.config[setting] = value
    response = app.test_client().get(
        f"/api/v1/exports?format={fmt}&chip_size=32&overlap=0&empty_chips=1&image={image_id}",
        headers=auth_header("viewer"),
    )
    assert response.status_code == 413, response.get_data(as_text=True)
    error = response.get_json()
    assert error["error"] == code
    assert error["message"].startswith("the export was stopped: it ")
    assert f"ANNOTATOR_{setting}" in error["message"]
    if fmt == "yolo":
        assert 0 < error["details"]["chips"] < 130
    assert leftovers(app) == []
    assert any("stopped" in message for message in records.messages)


def wait_for(condition: Callable[[], bool], records: Records) -> None:
    """Until `condition` holds; a guard of 5 minutes only keeps a broken run from hanging."""
    guard = time.monotonic() + 300
    while not condition():
        assert time.monotonic() < guard, f"gave up waiting; log: {records.messages}"
        time.sleep(0.01)


def _serve_werkzeug(app: Flask) -> tuple[int, Callable[[], None]]:
    server = wsgi_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(30)

    return server.server_port, stop


def _serve_waitress(app: Flask) -> tuple[int, Callable[[], None]]:
    from waitress import create_server  # type: ignore[import-untyped]

    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # its poll loop meets the closed listener
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        server.close()
        thread.join(30)

    return int(server.effective_port), stop


@pytest.mark.parametrize("serve", [_serve_werkzeug, _serve_waitress], ids=["werkzeug", "waitress"])
def test_a_client_that_leaves_stops_the_export_and_tmp_is_emptied(
    app: Flask, make_geotiff: Callable[..., Path], records: Records,
    serve: Callable[[Flask], tuple[int, Callable[[], None]]],
) -> None:  # fmt: skip
    """A real server and a raw socket: the client asks for 4,096 chips, waits until the
    first few are on disk, and hangs up. The export stops (its log says so, with how few
    chips it cut) and its folder is removed."""
    image_id = scene(app, make_geotiff, 2048, 2048)
    token = token_for(app, "viewer")
    port, stop = serve(app)
    tmp = Path(app.config["TMP_DIR"])
    try:
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            f"GET /api/v1/exports?format=yolo&chip_size=32&overlap=0&empty_chips=1"
            f"&image={image_id} HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        wait_for(lambda: len(list(tmp.rglob("*.png"))) >= 5, records)
        client.close()
        wait_for(lambda: any("cancelled" in m for m in records.messages), records)
    finally:
        stop()
    [message] = [m for m in records.messages if "stopped" in m]
    chips = int(message.split("cancelled: ")[1].split(" chips")[0])
    assert 5 <= chips < 64 * 64
    assert leftovers(app) == []


def test_leftovers_of_dead_processes_are_removed_at_start(tmp_path: Path) -> None:
    """A process killed with SIGKILL leaves its folder; the next app start removes it, but
    keeps a live process's folder and recent entries it cannot judge."""
    data = tmp_path / "instance"
    root = data / "tmp"
    holder = (
        "import sys; from pathlib import Path; from annotator import scratch\n"
        "folder = scratch.process_folder(Path(sys.argv[1]))\n"
        "(folder / 'chip.png').write_bytes(b'x' * 1000)\n"
        "print(folder, flush=True); sys.stdin.read()\n"
    )

    def start() -> tuple[subprocess.Popen[str], Path]:
        process = subprocess.Popen(
            [sys.executable, "-c", holder, str(root)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        assert process.stdout is not None
        return process, Path(process.stdout.readline().strip())

    killed, dead_folder = start()
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    alive, live_folder = start()
    old = root / "export-abandoned"
    old.mkdir()
    (old / "annotations.geojson").write_text("{}")
    two_days_ago = time.time() - 2 * 86400
    for path in (old / "annotations.geojson", old):
        os.utime(path, (two_days_ago, two_days_ago))
    recent = root / "upload-in-progress"
    recent.mkdir()
    try:
        assert dead_folder.is_dir() and (dead_folder / "chip.png").exists()
        app = create_app({"DATA_DIR": str(data), "SECRET_KEY": "test-secret", "TESTING": True})
        assert not dead_folder.exists()
        assert not dead_folder.with_name(dead_folder.name + ".lock").exists()
        assert not old.exists()
        assert live_folder.is_dir() and recent.is_dir()
        own = Path(app.config["TMP_DIR"])
        assert own.parent == root and own.is_dir() and own != live_folder
    finally:
        alive.communicate()
    # once the holder has ended, its folder is a leftover too
    assert live_folder in scratch.remove_leftovers(root, scratch.STALE_AFTER)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [own.name, own.name + ".lock", recent.name]
    )


def test_each_process_keeps_its_own_folder(tmp_path: Path) -> None:
    first = scratch.process_folder(tmp_path)
    assert scratch.process_folder(tmp_path) == first
    assert scratch.remove_leftovers(tmp_path, 0.0) == []  # its own, locked: kept
    assert first.is_dir()


def test_an_apps_folder_goes_with_the_last_app_of_the_process(tmp_path: Path) -> None:
    config = {"DATA_DIR": str(tmp_path / "instance"), "SECRET_KEY": "x", "TESTING": True}
    first, second = create_app(config), create_app(config)
    folder = Path(first.config["TMP_DIR"])
    assert Path(second.config["TMP_DIR"]) == folder  # one folder per process
    del first
    gc.collect()
    assert folder.is_dir()  # the second app still uses it
    del second
    gc.collect()
    assert not folder.exists() and not Path(f"{folder}.lock").exists()
