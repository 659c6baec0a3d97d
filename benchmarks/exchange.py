"""GIS exchange benchmark: export 100,000 and 1,000,000 annotations to every format, next to
pyogrio writing the same GeoDataFrame straight to disk (the floor).

`make bench-exchange` (and `make bench`) runs it (`python -m benchmarks.exchange`) with the
app's venv; `--smoke` exports 300 annotations on 2 sites to a GeoPackage (a file) and a
Shapefile (a folder), against their floors, and imports the GeoPackage back. It:

1. writes the 100 synthetic captures of benchmarks.annotations (50 sites x 2) and imports
   them with the app's CLI into benchmarks/out/exchange/base (`annotator init`,
   `images import`), then, for each size, copies that database and bulk-loads the same
   realistic annotation rows (benchmarks.annotations' Generator, fixed seed);
2. for each size and format, does what `annotator export --format F -o FILE` does in its own
   process, timing the export (not the interpreter's start and imports), and reads that
   process's peak RSS (its own VmHWM, reported by the child at the end);
3. for the floor, loads the same annotations once into a GeoDataFrame (the columns the export
   writes, geometry from the stored GeoJSON) and keeps it as GeoParquet; then for each format
   a fresh process reads it back (not timed) and times `pyogrio.write_dataframe` with the
   same driver and options; its peak RSS includes the GeoDataFrame it writes from;
4. times the import of the 100,000-feature GeoPackage (see `time_import`);
5. prints the report and writes it to its own section of docs/benchmarks.md.

Targets: export time <= 1.5 x the floor's; peak RSS for 1,000,000 <= 1.5 x that for
100,000 (the export streams). The machine may be shared: the CPU share other processes used
during each measurement is reported beside it. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from annotations.exchange import FORMATS as TABLE
from annotations.exchange import Selection, export
from annotations.exchange.gdal import geometries
from annotations.exchange.selection import batches
from annotations.search import Filters
from annotator import create_app, services
from benchmarks.annotations.backends import Backend, load_sqlite
from benchmarks.annotations.backends import prepare as catalogue
from benchmarks.annotations.data import CatalogueImage, site_layout, write_images
from benchmarks.common.options import options, parser
from benchmarks.common.report import render, verdict, write_section
from benchmarks.common.servers import ROOT
from benchmarks.common.system import machine
from benchmarks.common.timing import CpuMeter, log

SIZES = (100_000, 1_000_000)
FORMATS = ("geojson", "gpkg", "shp", "kml", "kmz", "csv", "fgb", "stac")
SMOKE_SIZES = (300,)
SMOKE_FORMATS = ("gpkg", "shp")
SMOKE_SITES = 2
TARGET_TIME_RATIO = 1.5
TARGET_RSS_RATIO = 1.5


# ------------------------------------------------------------------------------- the data


def prepare(out: Path, sizes: tuple[int, ...], sites: int = 50) -> dict[int, Path]:
    """A data folder per size holding that many annotations (reused when already there)."""
    base = Backend("sqlite", "SQLite", out / "base")
    folders: dict[int, Path] = {}
    catalogue_file = out / "catalogue.json"
    for size in sizes:
        folder = out / f"data-{size}"
        folders[size] = folder
        done = folder / "loaded.json"
        if done.exists() and json.loads(done.read_text()).get("count") == size:
            continue
        if not base.catalogue:
            if catalogue_file.exists() and (base.sqlite_path).exists():
                base.catalogue = [
                    CatalogueImage(**c) for c in json.loads(catalogue_file.read_text())
                ]
            else:
                catalogue(base, write_images(site_layout(sites), out / "images"))
                catalogue_file.write_text(json.dumps([c.__dict__ for c in base.catalogue]))
        log(f"loading {size:,} annotations into {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copyfile(base.sqlite_path, folder / "annotator.db")
        shutil.copyfile(base.data_dir / "secret_key", folder / "secret_key")
        (folder / "images").symlink_to(base.data_dir / "images")
        target = Backend("sqlite", "SQLite", folder, catalogue=base.catalogue)
        loaded = load_sqlite(target, size)
        done.write_text(json.dumps({"count": size, **loaded}))
    return folders


# ---------------------------------------------------------------------- one measured child


@dataclass
class Run:
    seconds: float
    peak_mb: float
    other_cpu: float
    output_mb: float


def run_child(argv: list[str], env: dict[str, str]) -> tuple[Run, str]:
    """Run a child to completion: its wall time, its own peak RSS (from wait4, not its
    siblings'), and its standard output. Output and errors go through files, so a child that
    writes a lot (GDAL warnings, an import's JSON listing every id) never blocks on a pipe."""
    meter = CpuMeter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise RuntimeError(
                f"{' '.join(argv[1:4])} exited {code}"
                f"{' (killed)' if code < 0 else ''}: "
                f"{err.read().strip()[-300:]}"
            )
        out.seek(0)
        stdout = out.read()
    run = Run(
        seconds=seconds,
        peak_mb=usage.ru_maxrss / 1024,
        other_cpu=meter.other_share(),
        output_mb=0.0,
    )
    return run, stdout


def measured(argv: list[str], env: dict[str, str], output: Path, *, timed: bool = False) -> Run:
    """A child run to completion (see `run_child`) and the size of what it wrote. With
    `timed`, the child prints {"seconds": ..., "peak_kb": ...} for the part that counts."""
    run, stdout = run_child(argv, env)
    if timed:
        reported = json.loads(stdout.strip().splitlines()[-1])
        run.seconds = float(reported.get("seconds", run.seconds))
        run.peak_mb = int(reported.get("peak_kb", run.peak_mb * 1024)) / 1024
    run.output_mb = _size(output) / 1e6
    return run


def vm_hwm_kb() -> int:
    """This process's peak resident set since it started (exec), from /proc/self/status.

    Not ru_maxrss: Linux carries the high-water mark of the address space a process had
    before exec over to it, so a child forked from a large parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _clear(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def export_worker(folder: Path, name: str, target: Path) -> dict[str, Any]:
    """In a fresh process: what `annotator export --format NAME -o TARGET` does, timing the
    export itself (not the interpreter's start and imports, as the floor's timing does not)."""
    app = create_app({"DATA_DIR": str(folder)})
    selection = Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=app.config["IMAGES_DIR"],
    )
    started = time.perf_counter()
    written = export(selection, name, target)
    return {"seconds": time.perf_counter() - started, "written": written, "peak_kb": vm_hwm_kb()}


def export_run(out: Path, folder: Path, name: str, size: int, keep: bool) -> Run:
    """The export in a fresh process; with `keep`, its GeoPackage stays for the import."""
    target = out / f"out-{size}" / f"annotations{'' if name == 'stac' else TABLE[name].extension}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear(target)
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    env.pop("ANNOTATOR_DATABASE_URL", None)
    argv = [sys.executable, "-m", "benchmarks.exchange", "--export-worker"]
    run = measured([*argv, str(folder), name, str(target)], env, target, timed=True)
    if name not in ("stac", "gpkg") or not keep:
        _clear(target)  # keep only the 100,000-feature GeoPackage, for the import timing
    return run


# -------------------------------------------------------------------------------- the floor


def floor_frame(out: Path, folder: Path, size: int) -> Path:
    """The annotations as a GeoDataFrame with the export's columns, kept as GeoParquet
    (made in a child process, so this one stays small)."""
    path = out / f"floor-{size}.parquet"
    if not path.exists():
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-m", "benchmarks.exchange", "--frame-worker", str(folder), str(path)],
            env=env,
            check=True,
            cwd=ROOT,
        )
    return path


def frame_worker(folder: Path, path: Path) -> None:
    app = create_app({"DATA_DIR": str(folder)})
    selection = Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=app.config["IMAGES_DIR"],
    )

    frames = []
    for batch in batches(selection):
        frames.append(
            gpd.GeoDataFrame(
                pd.DataFrame(batch.columns), geometry=geometries(batch), crs="OGC:CRS84"
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame.to_parquet(path)


FLOOR_OPTIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    # format: (driver, file name, options), as the export's format table has them
    "geojson": ("GeoJSON", "floor.geojson", {"RFC7946": "YES", "COORDINATE_PRECISION": "7"}),
    "gpkg": ("GPKG", "floor.gpkg", {"SPATIAL_INDEX": "YES"}),
    "shp": ("ESRI Shapefile", "floor-shp", {"ENCODING": "UTF-8"}),
    "kml": ("LIBKML", "floor.kml", {}),
    "kmz": ("LIBKML", "floor.kmz", {}),
    "csv": ("CSV", "floor.csv", {"GEOMETRY": "AS_WKT"}),
    "fgb": ("FlatGeobuf", "floor.fgb", {"SPATIAL_INDEX": "YES"}),
    "stac": ("GeoJSON", "floor-stac.geojson", {"RFC7946": "YES", "COORDINATE_PRECISION": "7"}),
}


def floor_worker(parquet: Path, name: str, target: Path) -> dict[str, Any]:
    """In a fresh process: read the GeoDataFrame (not timed), write it (timed)."""
    frame = gpd.read_parquet(parquet)
    driver, _, options = FLOOR_OPTIONS[name]
    started = time.perf_counter()
    if driver == "ESRI Shapefile":  # one file per geometry type, as the export does
        target.mkdir(parents=True, exist_ok=True)
        kinds = frame.geom_type.str.replace("Multi", "", regex=False)
        for kind in sorted(kinds.unique()):
            pyogrio.write_dataframe(
                frame[kinds == kind], target / f"{kind}.shp", driver=driver, **options
            )
    else:
        pyogrio.write_dataframe(frame, target, driver=driver, **options)
    return {"seconds": time.perf_counter() - started, "peak_kb": vm_hwm_kb()}


def floor_run(out: Path, parquet: Path, name: str, size: int) -> Run:
    target = out / f"out-{size}" / FLOOR_OPTIONS[name][1]
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear(target)
    argv = [sys.executable, "-m", "benchmarks.exchange", "--floor-worker"]
    run = measured([*argv, str(parquet), name, str(target)], dict(os.environ), target, timed=True)
    _clear(target)
    return run


# ------------------------------------------------------------------------ the import (timed)


def time_import(out: Path, gpkg: Path, folder: Path) -> dict[str, Any]:
    """`annotator import` of the 100,000-feature GeoPackage the export just wrote, into a
    copy of the catalogue with no annotations (same images, so each feature goes back onto
    its own `image_id`): one real import, then the same file again (nothing new). Each is a
    fresh `annotator` process, timed whole (interpreter start included); RSS is its own."""
    target = out / "import-100000"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(out / "base" / "annotator.db", target / "annotator.db")
    shutil.copyfile(folder / "secret_key", target / "secret_key")
    (target / "images").symlink_to((folder / "images").resolve())
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(target), "PYTHONPATH": str(ROOT)}
    env.pop("ANNOTATOR_DATABASE_URL", None)
    annotator = str(Path(sys.executable).with_name("annotator"))
    argv = [annotator, "import", str(gpkg), "--user", "bench", "--json"]
    results: dict[str, Any] = {}
    for step in ("import", "again"):
        log(f"importing {gpkg.name} ({step})")
        run, stdout = run_child(argv, env)
        summary = json.loads(stdout)
        results[step] = {
            **run.__dict__,
            "created": summary["created"],
            "already": summary["already_imported"],
            "refused": len(summary["not_imported"]),
        }
    shutil.rmtree(target, ignore_errors=True)
    return results


# ------------------------------------------------------------------------------- the report


def report_of(results: dict[str, Any], smoke: bool) -> str:
    for size in results["runs"].values():
        for row in size.values():
            export, floor = row["export"], row["floor"]
            row["ratio"] = export["seconds"] / floor["seconds"] if floor else None
            row["met"] = verdict(row["ratio"] <= TARGET_TIME_RATIO) if floor else ""
    streaming = []
    if len(results["sizes"]) > 1:
        small, large = (str(s) for s in results["sizes"][:2])
        for name in results["runs"][small]:
            if name in results["runs"][large]:
                a = results["runs"][small][name]["export"]["peak_mb"]
                b = results["runs"][large][name]["export"]["peak_mb"]
                streaming.append([name, f"{a:.0f}", f"{b:.0f}", f"{b / a:.2f}"])
                streaming[-1].append(verdict(b / a <= TARGET_RSS_RATIO))
    imported = results.get("import")
    if imported:
        first = imported["import"]
        imported["rate"] = first["created"] / first["seconds"] if first["seconds"] else 0
    return render(
        "exchange.md.j2",
        results=results,
        load=load_sentence(results),
        streaming=streaming,
        imported=imported,
        smoke=smoke,
    )


def load_sentence(results: dict[str, Any]) -> str:
    """How busy the machine was, from the 'other CPU' read during every measurement."""
    shares = [
        run["other_cpu"]
        for size in results["runs"].values()
        for row in size.values()
        for run in (row["export"], row["floor"])
        if run
    ]
    if not shares:
        return ""
    most = max(shares)
    if most < 0.15:
        return (
            f"The machine was otherwise quiet: other processes used at most {most:.0%} of "
            "it during any measurement ('other CPU')."
        )
    return (
        f"The machine was shared with other work: other processes used up to {most:.0%} "
        "of it during a measurement ('other CPU', beside each figure), so the times are "
        "comparable side by side (export against floor), not across runs."
    )


def measure_size(
    out: Path,
    size: int,
    folder: Path,
    formats: list[str],
    floors: set[str],
    began: float,
    *,
    smallest: bool,
    merge: bool = False,
) -> None:
    """Every format's export (and floor) at one size; figures to results-<size>.json."""
    parquet = floor_frame(out, folder, size) if floors else None
    runs: dict[str, Any] = {}
    for name in formats:
        log(f"{size:,} annotations: {name} export, then its floor")
        export = export_run(out, folder, name, size, keep=smallest)
        floor, failed = None, None
        if parquet and name in floors:
            try:
                floor = floor_run(out, parquet, name, size)
            except RuntimeError as error:  # e.g. killed for memory: LIBKML holds the document
                failed = str(error)[-200:]
                log(f"  floor failed: {failed}")
        runs[name] = {
            "export": export.__dict__,
            "floor": floor.__dict__ if floor else None,
            "floor_failed": failed,
        }
        log(
            f"  export {export.seconds:.1f} s {export.peak_mb:.0f} MB; "
            f"floor {f'{floor.seconds:.1f} s {floor.peak_mb:.0f} MB' if floor else '-'}"
        )
    result: dict[str, Any] = {
        "size": size,
        "when": datetime.now(UTC).isoformat(),
        "elapsed_s": time.perf_counter() - began,
        "runs": runs,
    }
    gpkg = out / f"out-{size}" / "annotations.gpkg"
    if smallest and "gpkg" in formats and gpkg.exists():
        result["import"] = time_import(out, gpkg, folder)
    path = out / f"results-{size}.json"
    if merge and path.exists():  # re-measured formats replace theirs; the others stay
        earlier = json.loads(path.read_text())
        result = {
            **earlier,
            **result,
            "runs": {**earlier["runs"], **runs},
            "elapsed_s": earlier["elapsed_s"] + result["elapsed_s"],
        }
        if "import" not in result and earlier.get("import"):
            result["import"] = earlier["import"]
    path.write_text(json.dumps(result, indent=2))


def gather(out: Path) -> dict[str, Any]:
    """The figures of every size measured so far."""
    found = [json.loads(p.read_text()) for p in sorted(out.glob("results-*.json"))]
    found.sort(key=lambda r: r["size"])
    return {
        "when": datetime.now(UTC),
        "sizes": [r["size"] for r in found],
        "runs": {str(r["size"]): r["runs"] for r in found},
        "elapsed_s": sum(r["elapsed_s"] for r in found),
        "import": next((r.get("import") for r in found if r.get("import")), None),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    cli = parser((__doc__ or "").split("\n\n")[0])
    cli.add_argument("--sizes", help=f"default {','.join(map(str, SIZES))}")
    cli.add_argument("--formats", help=f"default {','.join(FORMATS)}")
    cli.add_argument("--floors", help="formats whose floor is measured (default: all)")
    cli.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the figures already measured",
    )
    cli.add_argument("--no-doc", action="store_true", help="do not write the docs")
    cli.add_argument(
        "--merge",
        action="store_true",
        help="keep the figures of the formats not measured now (re-measure a few)",
    )
    cli.add_argument("--floor-worker", nargs=3, help=argparse.SUPPRESS)
    cli.add_argument("--export-worker", nargs=3, help=argparse.SUPPRESS)
    cli.add_argument("--frame-worker", nargs=2, help=argparse.SUPPRESS)
    args = cli.parse_args(argv)
    if args.frame_worker:
        frame_worker(Path(args.frame_worker[0]), Path(args.frame_worker[1]))
        return 0
    if args.export_worker:
        folder, name, target = args.export_worker
        print(json.dumps(export_worker(Path(folder), name, Path(target))))
        return 0
    if args.floor_worker:
        parquet, name, target = args.floor_worker
        print(json.dumps(floor_worker(Path(parquet), name, Path(target))))
        return 0
    opts = options(args, "exchange")
    began = time.perf_counter()
    default_sizes, default_formats = (
        (SMOKE_SIZES, SMOKE_FORMATS) if opts.smoke else (SIZES, FORMATS)
    )
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else default_sizes
    formats = [f for f in args.formats.split(",") if f] if args.formats else list(default_formats)
    floors = set(args.floors.split(",")) if args.floors else set(formats)
    if not args.report_only:
        folders = prepare(opts.out, sizes, SMOKE_SITES if opts.smoke else 50)
        for size in sizes:
            measure_size(
                opts.out,
                size,
                folders[size],
                formats,
                floors,
                began,
                smallest=size == min(sizes),
                merge=args.merge,
            )
    results = gather(opts.out)
    report = report_of(results, opts.smoke)
    print(report)
    if not args.no_doc:
        write_section("exchange", report, opts.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
