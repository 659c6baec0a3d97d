"""`python -m benchmarks.georeference [--smoke]`: see the package's docstring."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from flask import Flask
from PIL import Image

from annotations.catalogue.users import Role, add_user, create_token
from annotations.schema import upgrade
from annotator import create_app, services
from benchmarks.common.options import Workplace, options, parser
from benchmarks.common.report import render, write_section
from benchmarks.common.servers import Client, app_server
from benchmarks.common.system import machine
from benchmarks.common.timing import log, percentile
from benchmarks.georeference import __doc__ as about
from imagery.ingest import ingest
from imagery.press.fit import ControlPoint, fit
from imagery.press.place import write_placed

#: (picture width, height, rounds, requests)
FULL = (4000, 3000, 3, 20)
SMOKE = (400, 300, 1, 3)
WARP_RATIO, PREVIEW_MS = 1.2, 300.0
METHODS = {"affine": ["-order", "1"], "tps": ["-tps"]}
#: picture pixel -> lon, lat: 0.4 m pixels near Hmeimim, turned by 17 degrees
TRUTH = (
    Affine.translation(35.945, 35.412)
    * Affine.scale(0.4 / 90_700, -0.4 / 110_950)
    * Affine.rotation(-17)
)


def picture(path: Path, width: int, height: int) -> Path:
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(1)
    bands = [
        128
        + 80 * np.sin(cols / 53.0 + k) * np.cos(rows / 41.0 - k)
        + rng.normal(0, 12, (height, width)).astype(np.float32)
        for k in (0.0, 1.1, 2.2)
    ]
    data = np.stack(bands, axis=2).clip(0, 255).astype(np.uint8)
    Image.fromarray(data).save(path, quality=88)
    return path


def points(width: int, height: int, moved: float = 0.0) -> list[ControlPoint]:
    """12 points on a 4 x 3 grid with 1 m of noise; the first moved by `moved` pixels."""
    rng = np.random.default_rng(7)
    found = []
    for n in range(12):
        col = (n % 4 + 0.5) / 4 * width
        row = (n // 4 + 0.5) / 3 * height
        lon, lat = TRUTH * (col, row)
        dx, dy = rng.normal(0, 1.0, 2)
        lon, lat = lon + dx / 90_700, lat + dy / 110_950
        if n == 0:
            col += moved
        found.append(ControlPoint(round(col, 2), round(row, 2), lon, lat))
    return found


def ours(source: Path, work: Path, method: str, width: int, height: int) -> float:
    started = time.perf_counter()
    placed = fit(points(width, height), method, width, height)
    target = work / f"placed-{method}.tif"
    write_placed(source, source.name, target, placed, {"method": method})
    store = work / f"store-{method}"
    facts = ingest(target, store, original_filename=source.name)
    seconds = time.perf_counter() - started
    facts.cog_path.unlink()
    target.unlink()
    return seconds


def peer(source: Path, work: Path, method: str, width: int, height: int) -> float:
    gcps = [
        arg
        for p in points(width, height)
        for arg in ("-gcp", str(p.col), str(p.row), str(p.lon), str(p.lat))
    ]
    vrt, out = work / f"peer-{method}.vrt", work / f"peer-{method}.tif"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        ["gdal_translate", "-q", "-of", "VRT", "-a_srs", "EPSG:4326", *gcps, str(source), str(vrt)],
        check=True,
    )
    subprocess.run(
        [
            "gdalwarp", "-q", *METHODS[method], "-t_srs", "EPSG:4326", "-r", "bilinear",
            "-dstalpha", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-wm", "256",
            "-of", "COG", "-co", "COMPRESS=ZSTD", "-co", "LEVEL=9", "-co", "BLOCKSIZE=256",
            "-co", "NUM_THREADS=ALL_CPUS", "-co", "BIGTIFF=IF_SAFER", str(vrt), str(out),
        ],
        check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    out.unlink()
    vrt.unlink()
    return seconds


def gdal_version() -> str:
    found = subprocess.run(["gdalwarp", "--version"], capture_output=True, text=True, check=False)
    return found.stdout.strip() or "gdalwarp not found"


def warp_part(source: Path, work: Path, width: int, height: int, rounds: int) -> list[Any]:
    results = []
    for method in METHODS:
        theirs = min(peer(source, work, method, width, height) for _ in range(rounds))
        mine = min(ours(source, work, method, width, height) for _ in range(rounds))
        log(f"{method}: app {mine:.2f} s, gdalwarp {theirs:.2f} s")
        results.append({"method": method, "ours_s": mine, "peer_s": theirs, "ratio": mine / theirs})
    return results


#: (method, path, body, headers) -> (status, body, milliseconds)
Caller = Callable[[str, str, bytes, dict[str, str]], tuple[int, bytes, float]]


def prepared(folder: Path) -> tuple[Flask, str]:
    """A fresh data folder with an analyst, made in this process; the app and a token."""
    shutil.rmtree(folder, ignore_errors=True)
    app = create_app({"DATA_DIR": str(folder)})
    database = services.database(app)
    upgrade(database)
    with database.write() as session:
        user = add_user(session, "bench", Role.analyst, None)
        token = create_token(session, user, "benchmark")
    return app, token


def editor_calls(call: Caller, source: Path, width: int, height: int, count: int) -> Any:
    """Send the picture as an upload, then ask the preview and the residuals as a point moves."""
    data = source.read_bytes()
    json_type = {"Content-Type": "application/json"}
    begin = json.dumps({"name": source.name, "size": len(data)}).encode()
    status, body, _ = call("POST", "/api/v1/uploads", begin, json_type)
    assert status == 201, body[:300]
    upload = json.loads(body)["id"]
    content = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    status, body, _ = call("PUT", f"/api/v1/uploads/{upload}", data, content)
    assert status == 200, body[:300]
    previews, residuals, sizes = [], [], []
    for n in range(count + 2):
        gcps = [p.to_list() for p in points(width, height, moved=n * 2.0)]
        asked = json.dumps({"upload": upload, "gcps": gcps, "method": "affine"}).encode()
        status, body, took = call("POST", "/api/v1/georeference/preview", asked, json_type)
        assert status == 200, body[:300]
        answer = json.loads(body)
        sizes.append(max(answer["width"], answer["height"]))
        previews.append(took)
        status, body, took = call("POST", "/api/v1/georeference/residuals", asked, json_type)
        assert status == 200, body[:300]
        residuals.append(took)
    # each of the 2 workers reads the picture at its first preview; the rest reuse it
    rest = previews[2:]
    return {
        "first_ms": max(previews[:2]),
        "p50_ms": statistics.median(rest),
        "p95_ms": percentile(rest, 95),
        "residuals_p50_ms": statistics.median(residuals),
        "residuals_p95_ms": percentile(residuals, 95),
        "count": len(rest),
        "longest_px": max(sizes),
    }


def http_part(work: Workplace, source: Path, size: tuple[int, int], count: int) -> Any:
    """Over HTTP to `annotator serve` (2 workers); a smoke run asks the app in this process
    (its figures mean nothing, and a server takes half a minute to start on a busy machine)."""
    app, token = prepared(work.out / "instance")
    headers = {"Authorization": f"Bearer {token}"}
    if work.options.smoke:
        client = app.test_client()

        def in_process(
            method: str, path: str, body: bytes, extra: dict[str, str]
        ) -> tuple[int, bytes, float]:
            started = time.perf_counter()
            reply = client.open(path, method=method, data=body, headers={**headers, **extra})
            return reply.status_code, reply.data, (time.perf_counter() - started) * 1000

        return {"over": "in process (smoke)"} | editor_calls(in_process, source, *size, count)
    server = app_server(
        "annotator", "annotator serve", work.out / "instance", work.logs, token=token, workers=2
    )
    server.start("georeference")
    connection = Client(server.port, server.headers)

    def over_http(
        method: str, path: str, body: bytes, extra: dict[str, str]
    ) -> tuple[int, bytes, float]:
        reply = connection.request(method, path, body, extra)
        return reply.status, reply.body, reply.ms

    try:
        return {"over": "HTTP, `annotator serve` with 2 workers"} | editor_calls(
            over_http, source, *size, count
        )
    finally:
        connection.close()
        server.stop()


def main(argv: list[str] | None = None) -> None:
    cli = parser((about or "").splitlines()[0])
    opts = options(cli.parse_args(argv), "georeference")
    work = Workplace(opts)
    width, height, rounds, count = SMOKE if opts.smoke else FULL
    sources = work.out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    source = picture(sources / "press.jpg", width, height)
    load_before = [round(v, 2) for v in os.getloadavg()]
    warps = warp_part(source, sources, width, height, rounds)
    preview = http_part(work, source, (width, height), count)
    report = render(
        "georeference.md.j2",
        width=width,
        height=height,
        rounds=rounds,
        warps=warps,
        preview=preview,
        warp_ratio=WARP_RATIO,
        preview_ms=PREVIEW_MS,
        gdal=gdal_version(),
        load=(load_before, [round(v, 2) for v in os.getloadavg()]),
        machine=machine(),
        rasterio_gdal=rasterio.__gdal_version__,
        smoke=opts.smoke,
    )
    write_section("georeference", report, opts.doc)
    log(f"wrote the georeference section of {opts.doc}")
    shutil.rmtree(sources, ignore_errors=True)


if __name__ == "__main__":
    main()
