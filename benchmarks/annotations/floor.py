"""The annotation benchmark's floor, in its own process: every annotation in a GeoDataFrame
with its spatial index, the query boxes chosen on it, GeoPandas' query + `to_json` timed per
box, and a naive scan without any index."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from benchmarks.annotations.data import (
    CAPTURES,
    COL,
    QUERY_TOLERANCE,
    SEED,
    Bench,
    CatalogueImage,
    Generator,
    Scale,
    api_time,
    digest,
    metres_per_degree,
)
from benchmarks.common.servers import ROOT, base_env
from benchmarks.common.timing import CpuMeter, Noise, log


def floor_worker(catalogue_file: Path, scale: Scale) -> dict[str, Any]:
    """All annotations in a GeoDataFrame with its STRtree; picks the query boxes, then times
    the floor (sindex query + to_json) and a naive scan. Runs in its own process."""
    count, target = scale.count, scale.query_target
    catalogue = [CatalogueImage(**c) for c in json.loads(catalogue_file.read_text())]
    generator = Generator(catalogue)
    names = {label.id: label.name for label in generator.taxonomy}
    sources: dict[str, dict[str, Any]] = {}
    reports: list[str] = []  # one shared empty list, as the API sends
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "label",
            "label_name",
            "shape",
            "confidence",
            "count",
            "attributes",
            "notes",
            "image_id",
            "observed_at",
            "status",
            "version",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
            "deleted",
            "measurements",
            "source",
            "reports",
        )
    }
    ids: list[str] = []
    geometries: list[str] = []
    started = time.perf_counter()
    for rows in generator.chunks(count):
        for r in rows:
            if r[COL["deleted_at"]] is not None:
                continue  # the API never lists deleted annotations
            ids.append(r[0])
            geometries.append(r[COL["geometry_geojson"]])
            c = columns
            c["label"].append(r[2])
            c["label_name"].append(names[r[2]])
            c["shape"].append(r[3])
            c["confidence"].append(r[4])
            c["count"].append(r[5])
            c["attributes"].append(json.loads(r[6]))
            c["notes"].append(r[7])
            c["image_id"].append(r[1])
            c["observed_at"].append(api_time(r[8]))
            c["status"].append(r[9])
            c["version"].append(r[10])
            c["created_by"].append(r[14])
            c["created_at"].append(api_time(r[15]))
            c["updated_by"].append(r[16])
            c["updated_at"].append(api_time(r[17]))
            c["deleted"].append(False)
            c["measurements"].append(json.loads(r[12]))
            source = sources.get(r[1])
            if source is None:
                source = sources[r[1]] = json.loads(r[13])
            c["source"].append(source)
            c["reports"].append(reports)
    generate_s = time.perf_counter() - started
    t0 = time.perf_counter()
    geoms = shapely.from_geojson(np.array(geometries, dtype=object))
    del geometries
    gdf = gpd.GeoDataFrame(columns, geometry=geoms, index=pd.Index(ids, name="id"))
    del columns
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sindex = gdf.sindex
    sindex.query(shapely.box(0, 0, 1, 1))  # builds the tree
    sindex_s = time.perf_counter() - t0
    log(
        f"floor: {len(gdf)} annotations in a GeoDataFrame ({build_s:.1f} s, "
        f"sindex {sindex_s:.1f} s)"
    )

    # query boxes: one per site, centred on a random annotation there, sized to hold ~1,000
    rng = np.random.default_rng([SEED, 3])
    site_of_image = {image.id: image.site for image in catalogue}
    image_ids = np.asarray(gdf["image_id"].to_numpy())
    site_of_row = np.array([site_of_image[i] for i in image_ids])
    bounds = shapely.bounds(geoms)
    boxes: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    sites = len(catalogue) // CAPTURES
    for number in range(sites + scale.warm_boxes):
        site = number % sites
        candidates = np.flatnonzero(site_of_row == site)
        row = candidates[rng.integers(len(candidates))]
        cx, cy = (bounds[row, 0] + bounds[row, 2]) / 2, (bounds[row, 1] + bounds[row, 3]) / 2
        mx, my = metres_per_degree(cy)
        low, high = 10.0, 6000.0
        best: tuple[float, list[float], int] | None = None
        for _ in range(40):
            half = (low + high) / 2
            box = [
                round(cx - half / mx, 6),
                round(cy - half / my, 6),
                round(cx + half / mx, 6),
                round(cy + half / my, 6),
            ]
            hits = len(sindex.query(shapely.box(*box), predicate="intersects"))
            if best is None or abs(hits - target) < abs(best[2] - target):
                best = (half, box, hits)
            if abs(hits - target) <= QUERY_TOLERANCE * target:
                break
            low, high = (half, high) if hits < target else (low, half)
        assert best is not None
        (boxes if number < sites else warm).append(
            {"site": site, "box": best[1], "half_m": best[0], "count": best[2]}
        )

    # the floor: spatial index query (exact intersects) + the same features as GeoJSON text
    per_box: list[dict[str, Any]] = []
    for repeat in range(2):
        for number, item in enumerate(boxes):
            box = shapely.box(*item["box"])
            t0 = time.perf_counter()
            idx = np.sort(sindex.query(box, predicate="intersects"))
            t1 = time.perf_counter()
            text = gdf.iloc[idx].to_json()
            t2 = time.perf_counter()
            if repeat == 0:
                per_box.append(
                    {"ids": digest(gdf.index[idx].tolist()), "count": len(idx), "bytes": len(text)}
                )
            else:
                per_box[number] |= {
                    "query_ms": (t1 - t0) * 1000,
                    "total_ms": (t2 - t0) * 1000,
                    "json_ms": (t2 - t1) * 1000,
                }
    # and a hand-written serialisation of the same features, as a second reference
    hand: list[float] = []
    values = gdf.drop(columns="geometry")
    for item in boxes:
        box = shapely.box(*item["box"])
        t0 = time.perf_counter()
        idx = np.sort(sindex.query(box, predicate="intersects"))
        sub = values.iloc[idx]
        features = [
            {
                "type": "Feature",
                "id": fid,
                "geometry": geometry,
                "properties": dict(zip(sub.columns, row, strict=True)),
            }
            for fid, geometry, row in zip(
                sub.index,
                shapely.to_geojson(geoms[idx]).tolist(),
                sub.itertuples(index=False, name=None),
                strict=True,
            )
        ]
        for feature in features:
            feature["geometry"] = json.loads(feature["geometry"])
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        hand.append((time.perf_counter() - t0) * 1000)

    # naive: every geometry tested, no index
    naive: list[float] = []
    for item in boxes[: scale.naive_boxes]:
        t0 = time.perf_counter()
        found = np.flatnonzero(shapely.intersects(geoms, shapely.box(*item["box"])))
        text = gdf.iloc[found].to_json()
        naive.append((time.perf_counter() - t0) * 1000)
    return {
        "annotations": len(gdf),
        "generate_s": generate_s,
        "build_s": build_s,
        "sindex_s": sindex_s,
        "boxes": boxes,
        "warm": warm,
        "per_box": per_box,
        "hand_ms": hand,
        "naive_ms": naive,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "geopandas": gpd.__version__,
        "pandas": pd.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
    }


def run_floor(bench: Bench, catalogue: list[CatalogueImage], noise: Noise) -> dict[str, Any]:
    bench.catalogue_file.write_text(json.dumps([c.__dict__ for c in catalogue]))
    noise.wait_for_quiet()
    log("floor: GeoDataFrame + sindex in a separate process; choosing the query boxes")
    meter = CpuMeter()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.annotations", "--out", str(bench.out)),
            *(["--smoke"] if bench.options.smoke else []),
            *("--floor-worker", str(bench.catalogue_file), "--count", str(bench.scale.count)),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=ROOT,
        env=base_env(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"floor worker failed:\n{result.stderr[-4000:]}")
    sys.stderr.write(result.stderr)
    figures: dict[str, Any] = json.loads(result.stdout)
    figures["other_share"] = meter.other_share()
    bench.boxes_file.write_text(json.dumps({"boxes": figures["boxes"], "warm": figures["warm"]}))
    return figures


# --------------------------------------------------------------------------- report
