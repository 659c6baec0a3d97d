"""Import benchmark: a 100,000-feature GeoPackage imported into SQLite and PostGIS.

`make bench-import` runs it (`python -m benchmarks.exchange_import`) with the app's venv;
`--smoke` imports 200 boxes on a 1000 px image, on PostGIS too when it is installed. It:

1. writes a synthetic 4000 x 4000, 0.5 m GeoTIFF in UTM 36N and a GeoPackage of 100,000
   small boxes on it (in UTM, so every one is reprojected), labelled from the taxonomy, into
   benchmarks/out/exchange-import/ (reused when present);
2. for each backend (SQLite; PostGIS in a throwaway cluster, tests/postgis.py), in a fresh
   child process and a fresh data folder: catalogues the image, then times a dry run, the
   real import (one transaction) and importing the same file again (nothing new), and reads
   the child's peak RSS (VmHWM);
3. times the floor in the same run: `ogr2ogr` writing the same file into a GeoPackage (a
   plain copy, the floor the targets name, and a copy reprojected to WGS 84, the same
   reprojection the import makes), and GDAL reading it into a GeoDataFrame (pyogrio);
4. writes the report into its section of docs/benchmarks.md.

Targets (issue 15): an import of 100,000 features at >= 20,000 features/s on each backend
and <= 3x the ogr2ogr copy; importing the same file again (nothing new) <= 2 s.

The machine may be shared with other work: CPU used by other processes during each
measurement is read from /proc/stat and reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.transform import from_origin

from annotations.annotation import Actor
from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role
from annotations.exchange.imports import ImportOptions, ImportRequest, import_file
from annotations.schema import upgrade
from annotator import create_app, services
from annotator.intake import Upload, import_images
from benchmarks.common.options import options, parser
from benchmarks.common.report import render, write_section
from benchmarks.common.servers import ROOT
from benchmarks.common.system import machine, status_kb
from benchmarks.common.timing import CpuMeter, log
from tests.postgis import ThrowawayCluster, missing

FEATURES = 100_000
SIZE = 4000
ORIGIN = (790000.0, 3922000.0)
LABELS = (
    "aircraft.transport.an-124",
    "aircraft.combat.su-24",
    "vehicle.truck",
    "structure.tent",
    "structure.hangar",
    "ship.cargo",
)
TARGET_PER_S = 20_000
#: an import takes at most this many times the ogr2ogr copy of the same file
TARGET_FLOOR_RATIO = 3.0
TARGET_AGAIN_S = 2.0


def prepare(out: Path, count: int, size: int) -> tuple[Path, Path]:
    """The GeoTIFF and the GeoPackage, made once from a fixed seed."""
    tiff = out / f"scene-{size}.tif" if size != SIZE else out / "scene.tif"
    gpkg = out / f"boxes-{count}.gpkg"
    if not tiff.exists():
        rng = np.random.default_rng(11)
        data = rng.integers(1, 255, (3, size, size), dtype=np.uint8)
        profile = {
            "driver": "GTiff",
            "count": 3,
            "height": size,
            "width": size,
            "dtype": "uint8",
            "crs": "EPSG:32636",
            "tiled": True,
            "transform": from_origin(*ORIGIN, 0.5, 0.5),
        }
        with rasterio.open(tiff, "w", **profile) as dataset:
            dataset.write(data)
    if not gpkg.exists():
        rng = np.random.default_rng(12)
        x = ORIGIN[0] + rng.uniform(20, size * 0.5 - 20, count)
        y = ORIGIN[1] - rng.uniform(20, size * 0.5 - 20, count)
        half = rng.uniform(2, 10, count)
        boxes = shapely.box(x - half, y - half, x + half, y + half)
        labels = [LABELS[i] for i in rng.integers(0, len(LABELS), count)]
        frame = gpd.GeoDataFrame(
            {"label": labels, "notes": [f"box {i}" for i in range(count)]},
            geometry=boxes,
            crs="EPSG:32636",
        )
        frame.to_file(gpkg, driver="GPKG", layer="boxes")
    return tiff, gpkg


def child(backend_url: str, data_dir: Path, tiff: Path, gpkg: Path) -> dict[str, Any]:
    """One backend, in its own process: catalogue the image, then time the imports."""
    app = create_app(
        {"DATA_DIR": str(data_dir), "DATABASE_URL": backend_url, "SECRET_KEY": "bench"}
    )
    database = services.database(app)
    upgrade(database)
    import_images(
        database,
        Path(app.config["IMAGES_DIR"]),
        [Upload(tiff, tiff.name)],
        Provenance(provider="synthetic"),
        max_pixels=10**9,
    )
    figures: dict[str, Any] = {}
    for step, dry_run in (("dry run", True), ("import", False), ("again", False)):
        request = ImportRequest(
            gpkg.name,
            ImportOptions(),
            dry_run,
            Actor("bench", Role.analyst),
            Path(app.config["TMP_DIR"]),
            2 * 1024**3,
        )
        meter = CpuMeter()
        started, cpu = time.perf_counter(), time.process_time()
        with gpkg.open("rb") as stream:
            report = import_file(database, services.taxonomy(app), stream, request)
        seconds = time.perf_counter() - started
        figures[step] = {
            "seconds": seconds,
            "cpu": time.process_time() - cpu,
            "other_cpu": meter.other_share(),
            "would_create": report["would_create"],
            "created": report["created"],
            "already": report["already_imported"],
        }
        log(f"{step}: {seconds:.1f} s, created {report['created']}")
    figures["peak_rss_kb"] = status_kb(os.getpid(), "VmHWM")
    database.dispose()
    return figures


def floor(gpkg: Path) -> float:
    started = time.perf_counter()
    frame = pyogrio.read_dataframe(gpkg)
    frame.to_crs("EPSG:4326")
    return time.perf_counter() - started


def ogr2ogr(gpkg: Path, out: Path, *options: str) -> float:
    """Seconds `ogr2ogr` takes to write `gpkg` into a new GeoPackage (with `options`)."""
    program = shutil.which("ogr2ogr")
    if program is None:
        raise SystemExit("ogr2ogr is not installed (make system-deps installs gdal-bin)")
    copy = out / "floor-copy.gpkg"
    copy.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [program, "-q", "-f", "GPKG", *options, str(copy), str(gpkg)],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    copy.unlink()
    return seconds


def main(argv: list[str] | None = None) -> None:
    cli = parser((__doc__ or "").split("\n")[0])
    cli.add_argument("--count", type=int, help=f"features (default {FEATURES:,}; smoke 200)")
    cli.add_argument("--child", nargs=2, metavar=("URL", "DATA_DIR"), help=argparse.SUPPRESS)
    cli.add_argument("--no-postgis", action="store_true")
    args = cli.parse_args(argv)
    opts = options(args, "exchange-import")
    count = args.count or (200 if opts.smoke else FEATURES)
    tiff, gpkg = prepare(opts.out, count, 1000 if opts.smoke else SIZE)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), tiff, gpkg)))
        return
    started = time.time()
    results: dict[str, dict[str, Any]] = {}
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    cluster = None
    postgis_missing = None if args.no_postgis else missing()
    if not args.no_postgis and postgis_missing is None:
        log("starting a throwaway PostgreSQL + PostGIS cluster")
        cluster = ThrowawayCluster().start()
        backends.append(("PostGIS", cluster.url))
    elif postgis_missing:
        log(f"PostGIS left out: {postgis_missing}")
    try:
        for name, url in backends:
            data_dir = opts.out / f"instance-{name.lower()}-{int(time.time())}"
            backend_url = url or f"sqlite:///{data_dir}/annotator.db"
            log(f"{name}: importing {count:,} features")
            run = subprocess.run(
                [
                    *(sys.executable, "-m", "benchmarks.exchange_import"),
                    *("--out", str(opts.out), "--doc", str(opts.doc)),
                    *(["--smoke"] if opts.smoke else []),
                    *("--count", str(count), "--child", backend_url, str(data_dir)),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results[name] = json.loads(run.stdout.strip().splitlines()[-1])
            shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        if cluster is not None:
            cluster.stop()
    read_s = floor(gpkg)
    floors = {
        "copy": ogr2ogr(gpkg, opts.out),
        "reprojected": ogr2ogr(gpkg, opts.out, "-t_srs", "EPSG:4326"),
    }
    report = report_of(results, read_s, floors, count, time.time() - started, postgis_missing)
    print(report)
    if count == FEATURES or opts.smoke:
        write_section("exchange-import", report, opts.doc)


def report_of(
    results: dict[str, dict[str, Any]],
    read_s: float,
    floors: dict[str, float],
    count: int,
    took_s: float,
    postgis_missing: str | None,
) -> str:
    rows = []
    for name, figures in results.items():
        steps = {k: f for k, f in figures.items() if k != "peak_rss_kb"}
        rows.append(
            {
                "name": name,
                "dry": figures["dry run"]["seconds"],
                "seconds": figures["import"]["seconds"],
                "rate": figures["import"]["created"] / figures["import"]["seconds"],
                "cpu": figures["import"]["cpu"],
                "ratio": figures["import"]["seconds"] / floors["copy"],
                "again": figures["again"]["seconds"],
                "again_cpu": figures["again"]["cpu"],
                "already": figures["again"]["already"],
                "peak_mb": figures["peak_rss_kb"] / 1024,
                "other": max(f["other_cpu"] for f in steps.values()),
            }
        )
    busiest = max((row["other"] for row in rows), default=0.0)
    return render(
        "exchange_import.md.j2",
        count=count,
        stamp=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        took_min=took_s / 60,
        facts=machine(),
        busiest=busiest,
        rows=rows,
        read_s=read_s,
        floors=floors,
        target=TARGET_PER_S,
        target_ratio=TARGET_FLOOR_RATIO,
        target_again=TARGET_AGAIN_S,
        met={
            "rate": all(row["rate"] >= TARGET_PER_S for row in rows),
            "ratio": all(row["ratio"] <= TARGET_FLOOR_RATIO for row in rows),
            "again": all(row["again"] <= TARGET_AGAIN_S for row in rows),
        },
        postgis_missing=postgis_missing,
    )


if __name__ == "__main__":
    main()
