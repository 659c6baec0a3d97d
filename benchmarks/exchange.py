"""GIS exchange benchmark: export 100,000 and 1,000,000 annotations to every format, next to
pyogrio writing the same GeoDataFrame straight to disk (the floor).

`make bench-exchange` (and `make bench`) runs this file with the app's venv. It:

1. writes the 100 synthetic captures of benchmarks/annotations.py (50 sites x 2) and imports
   them with the app's CLI into benchmarks/out/exchange/base (`annotator init`,
   `images import`), then, for each size, copies that database and bulk-loads the same
   realistic annotation rows (benchmarks/annotations.py's Generator, fixed seed);
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
import importlib.util
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

ROOT = Path(__file__).resolve().parent.parent
# the app's packages before this folder, whose annotations.py would shadow `annotations`
sys.path.insert(0, str(ROOT))

from common import CpuMeter, log, machine, verdict, write_section  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "exchange"
SIZES = (100_000, 1_000_000)
FORMATS = ("geojson", "gpkg", "shp", "kml", "kmz", "csv", "fgb", "stac")
TARGET_TIME_RATIO = 1.5
TARGET_RSS_RATIO = 1.5


def _annotations_bench() -> Any:
    """benchmarks/annotations.py (its image layout, CLI import and row generator)."""
    spec = importlib.util.spec_from_file_location(
        "bench_annotations", ROOT / "benchmarks" / "annotations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_annotations"] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------- the data


def prepare(sizes: tuple[int, ...]) -> dict[int, Path]:
    """A data folder per size holding that many annotations (reused when already there)."""
    bench = _annotations_bench()
    base = bench.Backend("sqlite", "SQLite", OUT / "base")
    folders: dict[int, Path] = {}
    catalogue_file = OUT / "catalogue.json"
    for size in sizes:
        folder = OUT / f"data-{size}"
        folders[size] = folder
        done = folder / "loaded.json"
        if done.exists() and json.loads(done.read_text()).get("count") == size:
            continue
        if not base.catalogue:
            if catalogue_file.exists() and (base.sqlite_path).exists():
                base.catalogue = [
                    bench.CatalogueImage(**c) for c in json.loads(catalogue_file.read_text())
                ]
            else:
                bench.prepare(base, bench.write_images(bench.site_layout()))
                catalogue_file.write_text(json.dumps([c.__dict__ for c in base.catalogue]))
        log(f"loading {size:,} annotations into {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copyfile(base.sqlite_path, folder / "annotator.db")
        shutil.copyfile(base.data_dir / "secret_key", folder / "secret_key")
        (folder / "images").symlink_to(base.data_dir / "images")
        target = bench.Backend("sqlite", "SQLite", folder, catalogue=base.catalogue)
        loaded = bench.load_sqlite(target, size)
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
    from annotations.exchange import Selection, export
    from annotations.search import Filters
    from annotator import create_app

    app = create_app({"DATA_DIR": str(folder)})
    selection = Selection(
        database=app.extensions["annotator.database"],
        filters=Filters(),
        taxonomy=app.extensions["annotator.labels"],
        images_dir=app.config["IMAGES_DIR"],
    )
    started = time.perf_counter()
    written = export(selection, name, target)
    return {"seconds": time.perf_counter() - started, "written": written, "peak_kb": vm_hwm_kb()}


def export_run(folder: Path, name: str, size: int) -> Run:
    from annotations.exchange import FORMATS as TABLE

    target = OUT / f"out-{size}" / f"annotations{'' if name == 'stac' else TABLE[name].extension}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear(target)
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    env.pop("ANNOTATOR_DATABASE_URL", None)
    argv = [sys.executable, str(Path(__file__)), "--export-worker", str(folder), name, str(target)]
    run = measured(argv, env, target, timed=True)
    if name not in ("stac", "gpkg") or size != min(SIZES):
        _clear(target)  # keep only the 100,000-feature GeoPackage, for the import timing
    return run


# -------------------------------------------------------------------------------- the floor


def floor_frame(folder: Path, size: int) -> Path:
    """The annotations as a GeoDataFrame with the export's columns, kept as GeoParquet
    (made in a child process, so this one stays small)."""
    path = OUT / f"floor-{size}.parquet"
    if not path.exists():
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, str(Path(__file__)), "--frame-worker", str(folder), str(path)],
            env=env,
            check=True,
            cwd=ROOT,
        )
    return path


def frame_worker(folder: Path, path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    from annotations.exchange import Selection
    from annotations.exchange.gdal import geometries
    from annotations.search import Filters
    from annotator import create_app

    app = create_app({"DATA_DIR": str(folder)})
    selection = Selection(
        database=app.extensions["annotator.database"],
        filters=Filters(),
        taxonomy=app.extensions["annotator.labels"],
        images_dir=app.config["IMAGES_DIR"],
    )
    from annotations.exchange.selection import batches

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
    import geopandas as gpd
    import pyogrio

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


def floor_run(parquet: Path, name: str, size: int) -> Run:
    target = OUT / f"out-{size}" / FLOOR_OPTIONS[name][1]
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear(target)
    argv = [sys.executable, str(Path(__file__)), "--floor-worker", str(parquet), name, str(target)]
    run = measured(argv, dict(os.environ), target, timed=True)
    _clear(target)
    return run


# ------------------------------------------------------------------------ the import (timed)


def time_import(gpkg: Path, folder: Path) -> dict[str, Any]:
    """`annotator import` of the 100,000-feature GeoPackage the export just wrote, into a
    copy of the catalogue with no annotations (same images, so each feature goes back onto
    its own `image_id`): one real import, then the same file again (nothing new). Each is a
    fresh `annotator` process, timed whole (interpreter start included); RSS is its own."""
    target = OUT / "import-100000"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(OUT / "base" / "annotator.db", target / "annotator.db")
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


def render(results: dict[str, Any]) -> str:
    lines = [
        "# GIS exchange benchmark",
        "",
        f"Written by `make bench-exchange` (`benchmarks/exchange.py`) on "
        f"{results['when']:%Y-%m-%d %H:%M} UTC; the runs took {results['elapsed_s'] / 60:.1f} min. "
        + load_sentence(results),
        "",
        "Each export is what `annotator export --format F -o FILE` does, in its own process, "
        "timing the export (not the interpreter's start and imports), reading the "
        "annotations from SQLite 20,000 at a time; the floor is `pyogrio.write_dataframe` of the "
        "same annotations (same columns) already in a GeoDataFrame, in its own process, timing "
        "only the write (its RSS includes the GeoDataFrame). Peak RSS is each process's own "
        "VmHWM (peak resident set since it started). For `stac` the floor is the GeoJSON "
        "write of the same annotations (the catalogue's labels are GeoJSON).",
        "",
    ]
    for size in results["sizes"]:
        lines += [
            f"## {size:,} annotations",
            "",
            "| format | export s | floor s | ratio | time target | export peak MB | "
            "floor peak MB | output MB | other CPU (export / floor) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, row in results["runs"][str(size)].items():
            export, floor = row["export"], row["floor"]
            if floor is None:
                why = "failed (see below)" if row.get("floor_failed") else "not run"
                lines.append(
                    f"| {name} | {export['seconds']:.1f} | {why} | | | "
                    f"{export['peak_mb']:.0f} | | {export['output_mb']:.0f} | "
                    f"{export['other_cpu']:.0%} / |"
                )
                continue
            ratio = export["seconds"] / floor["seconds"]
            lines.append(
                f"| {name} | {export['seconds']:.1f} | {floor['seconds']:.1f} | {ratio:.2f} | "
                f"{verdict(ratio <= TARGET_TIME_RATIO)} | {export['peak_mb']:.0f} | "
                f"{floor['peak_mb']:.0f} | {export['output_mb']:.0f} | "
                f"{export['other_cpu']:.0%} / {floor['other_cpu']:.0%} |"
            )
        failures = [
            (n, r["floor_failed"])
            for n, r in results["runs"][str(size)].items()
            if r.get("floor_failed")
        ]
        if failures:
            lines.append("")
            lines += [f"- the {n} floor failed: `{why}`" for n, why in failures]
        lines.append("")
    if len(results["sizes"]) > 1:
        small, large = (str(s) for s in results["sizes"][:2])
        lines += [
            "## Streaming: peak RSS of the export, 1,000,000 against 100,000",
            "",
            "| format | 100,000 MB | 1,000,000 MB | ratio | target ≤ 1.5 |",
            "|---|---|---|---|---|",
        ]
        for name in results["runs"][small]:
            if name not in results["runs"][large]:
                continue
            a = results["runs"][small][name]["export"]["peak_mb"]
            b = results["runs"][large][name]["export"]["peak_mb"]
            lines.append(
                f"| {name} | {a:.0f} | {b:.0f} | {b / a:.2f} | "
                f"{verdict(b / a <= TARGET_RSS_RATIO)} |"
            )
        lines.append("")
    lines += import_lines(results.get("import"))
    lines += ["", "## Machine", "", "|  |  |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results["machine"].items()]
    return "\n".join(lines) + "\n"


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


def import_lines(imported: dict[str, Any] | None) -> list[str]:
    lines = ["## Import of the 100,000-feature GeoPackage", ""]
    if not imported:
        return [*lines, "Not measured in this run (it follows a 100,000 export to gpkg).", ""]
    first, again = imported["import"], imported["again"]
    rate = first["created"] / first["seconds"] if first["seconds"] else 0
    lines += [
        "`annotator import` of the GeoPackage the export above wrote, into a copy of the "
        "catalogue holding no annotations (SQLite): each feature goes back onto the image its "
        "`image_id` names, validated and measured as the API does, in one transaction with "
        "its revision. Each run is a fresh `annotator` process, timed whole (interpreter start "
        "included).",
        "",
        "| run | time | created | already there | refused | peak RSS | other CPU |",
        "|---|---|---|---|---|---|---|",
        f"| import | {first['seconds']:.1f} s ({rate:,.0f} features/s) | {first['created']:,} | "
        f"{first['already']:,} | {first['refused']:,} | {first['peak_mb']:.0f} MB | "
        f"{first['other_cpu']:.0%} |",
        f"| the same file again | {again['seconds']:.1f} s | {again['created']:,} | "
        f"{again['already']:,} | {again['refused']:,} | {again['peak_mb']:.0f} MB | "
        f"{again['other_cpu']:.0%} |",
        "",
        "`make bench-import` (`benchmarks/exchange_import.py`) times a projected (UTM) "
        "GeoPackage on SQLite and PostGIS, with a dry run, in its own section.",
        "",
    ]
    return lines


def measure_size(
    size: int,
    folder: Path,
    formats: list[str],
    floors: set[str],
    began: float,
    *,
    merge: bool = False,
) -> None:
    """Every format's export (and floor) at one size; figures to results-<size>.json."""
    parquet = floor_frame(folder, size) if floors else None
    runs: dict[str, Any] = {}
    for name in formats:
        log(f"{size:,} annotations: {name} export, then its floor")
        export = export_run(folder, name, size)
        floor, failed = None, None
        if parquet and name in floors:
            try:
                floor = floor_run(parquet, name, size)
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
    gpkg = OUT / f"out-{size}" / "annotations.gpkg"
    if size == min(SIZES) and "gpkg" in formats and gpkg.exists():
        result["import"] = time_import(gpkg, folder)
    path = OUT / f"results-{size}.json"
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


def gather() -> dict[str, Any]:
    """The figures of every size measured so far."""
    found = [json.loads(p.read_text()) for p in sorted(OUT.glob("results-*.json"))]
    found.sort(key=lambda r: r["size"])
    return {
        "when": datetime.now(UTC),
        "sizes": [r["size"] for r in found],
        "runs": {str(r["size"]): r["runs"] for r in found},
        "elapsed_s": sum(r["elapsed_s"] for r in found),
        "import": next((r.get("import") for r in found if r.get("import")), None),
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--floors", help="formats whose floor is measured (default: all)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the figures already measured",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write the docs")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the figures of the formats not measured now (re-measure a few)",
    )
    parser.add_argument("--floor-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--export-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--frame-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
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
    began = time.perf_counter()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    formats = [f for f in args.formats.split(",") if f]
    floors = set(args.floors.split(",")) if args.floors else set(formats)
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        folders = prepare(sizes)
        for size in sizes:
            measure_size(size, folders[size], formats, floors, began, merge=args.merge)
    results = gather()
    report = render(results)
    print(report)
    if not args.no_doc:
        write_section("exchange", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
