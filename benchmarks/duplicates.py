"""Duplicate check: what warning of a possible duplicate adds to a save, at 1,000,000 annotations.

For each backend (SQLite; PostGIS in a throwaway cluster, tests/postgis.py) a database is filled
once, by bulk inserts, with 50 sites of 20 captures each and 1,000 annotations on every capture
(the same parked objects on each capture of a site, a little apart): 1,000,000 annotations. Then
saves are timed as the API makes them (`annotations.annotation.create` in a write transaction,
committed), alternately with the duplicate check (`annotations.duplicates.find_duplicates`,
what POST /api/v1/annotations runs) and without it (the peer: ANNOTATOR_DUPLICATE_CHECK=off).
Half the saves are a second box on an annotated object (they warn), half fall between objects.
The check's own time is taken too. Target: the check adds at most 5 ms to a save (median).

Run: .venv/bin/python -m benchmarks.duplicates [--smoke] [--no-postgis]   (also part of
`make bench`); the smoke mode fills 2 sites of 2 captures of 100 annotations, times 10 saves.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import box
from sqlalchemy import func, insert, select

from annotations.annotation import Actor, Annotation, create
from annotations.catalogue.users import Role
from annotations.db import Database
from annotations.duplicates import Thresholds, find_duplicates
from annotations.feature import AnnotationInput
from annotations.schema import upgrade
from benchmarks.common.backends import backends
from benchmarks.common.catalogue import placeholder_image
from benchmarks.common.options import options as read_options
from benchmarks.common.options import parser
from benchmarks.common.report import render, write_section
from benchmarks.common.system import machine
from benchmarks.common.timing import CpuMeter, log, percentile

TARGET_MS = 5.0
SITES, CAPTURES, PER_CAPTURE, SAVES = 50, 20, 1_000, 400
SMOKE = (2, 2, 100, 10)
BATCH = 20_000
LABEL = "aircraft.transport.an-124"
SPACING_M = 40.0  # between objects on a capture
SIZE_M = 24.0  # each object's box
METRES_PER_DEGREE = 111_320.0
ACTOR = Actor("bench", Role.analyst)


@dataclass(frozen=True)
class Layout:
    sites: int
    captures: int
    per_capture: int

    @property
    def side(self) -> int:
        return math.ceil(math.sqrt(self.per_capture))

    @property
    def total(self) -> int:
        return self.sites * self.captures * self.per_capture

    def origin(self, site: int) -> tuple[float, float]:
        """South-west corner of a site: sites 0.05 degrees apart, near 35 N 36 E."""
        return 36.0 + (site % 10) * 0.05, 35.0 + (site // 10) * 0.05

    def spot(self, site: int, n: int) -> tuple[float, float]:
        """Centre of the n-th object of a site (the same on each of its captures)."""
        lon0, lat0 = self.origin(site)
        step_lat = SPACING_M / METRES_PER_DEGREE
        step_lon = step_lat / math.cos(math.radians(lat0))
        return lon0 + (1 + n % self.side) * step_lon, lat0 + (1 + n // self.side) * step_lat

    def footprint(self, site: int) -> tuple[float, float, float, float]:
        lon0, lat0 = self.origin(site)
        return lon0, lat0, lon0 + 0.04, lat0 + 0.04


def square(lon: float, lat: float, size_m: float = SIZE_M) -> Any:
    half_lat = size_m / 2 / METRES_PER_DEGREE
    half_lon = half_lat / math.cos(math.radians(lat))
    return box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)


def fill(database: Database, layout: Layout) -> list[list[str]]:
    """The images and annotations, by bulk inserts; the image ids of each site."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    sites: list[list[str]] = []
    made = 0
    began = time.perf_counter()
    for site in range(layout.sites):
        west, south, east, north = layout.footprint(site)
        ids = []
        with database.write() as session:
            for capture in range(layout.captures):
                image = placeholder_image(
                    (west, south, east, north), start + timedelta(days=capture)
                )
                session.add(image)
                ids.append(image.id)
            session.flush()
        sites.append(ids)
        rows: list[dict[str, Any]] = []
        for image_id in ids:
            for n in range(layout.per_capture):
                lon, lat = layout.spot(site, n)
                shape = square(lon + rng.uniform(-2e-6, 2e-6), lat + rng.uniform(-2e-6, 2e-6))
                x0, y0, x1, y1 = shape.bounds
                rows.append(
                    {
                        "id": uuid.uuid4().hex,
                        "image_id": image_id,
                        "label": LABEL,
                        "shape": "box",
                        "confidence": "probable",
                        "count": 1,
                        "attributes_json": "{}",
                        "notes": "",
                        "observed_at": start,
                        "status": "approved",
                        "version": 1,
                        "geometry_geojson": json.dumps(shape.__geo_interface__),
                        "measurements_json": "{}",
                        "source_json": "{}",
                        "created_by": "bench",
                        "created_at": start,
                        "updated_by": "bench",
                        "updated_at": start,
                        "min_lon": x0,
                        "min_lat": y0,
                        "max_lon": x1,
                        "max_lat": y1,
                    }
                )
                if len(rows) >= BATCH:
                    made += insert_rows(database, rows)
        made += insert_rows(database, rows)
        log(f"  {made:,} annotations ({time.perf_counter() - began:.0f} s)")
    database.refresh_statistics("annotations")
    return sites


def insert_rows(database: Database, rows: list[dict[str, Any]]) -> int:
    count = len(rows)
    if rows:
        with database.write() as session:
            session.execute(insert(Annotation), rows)
    rows.clear()
    return count


def save(
    database: Database, image_id: str, shape: Any, limits: Thresholds | None
) -> tuple[float, float, int]:
    """One save as the API makes it: (whole save ms, the check's ms, warnings)."""
    data = AnnotationInput(geometry=shape, label=LABEL, image_id=image_id, shape="box")
    began = time.perf_counter()
    check_ms, found = 0.0, 0
    with database.write() as session:
        made = create(session, data, ACTOR)
        if limits is not None:
            checking = time.perf_counter()
            found = len(find_duplicates(session, made, limits))
            check_ms = (time.perf_counter() - checking) * 1000
    return (time.perf_counter() - began) * 1000, check_ms, found


def measure(
    database: Database, layout: Layout, sites: list[list[str]], saves: int
) -> dict[str, Any]:
    rng = random.Random(11)
    limits = Thresholds()
    on: list[float] = []
    off: list[float] = []
    check: list[float] = []
    warned = 0
    for index in range(saves * 2):
        site = rng.randrange(layout.sites)
        image_id = rng.choice(sites[site])
        lon, lat = layout.spot(site, rng.randrange(layout.per_capture))
        if index // 2 % 2:  # between objects: no warning
            lat += SPACING_M / 2 / METRES_PER_DEGREE
        shape = square(lon + 2 / METRES_PER_DEGREE, lat)
        checked = index % 2 == 0
        whole, alone, found = save(database, image_id, shape, limits if checked else None)
        if checked:
            on.append(whole)
            check.append(alone)
            warned += found > 0
        else:
            off.append(whole)
    return {
        "on_ms": statistics.median(on),
        "off_ms": statistics.median(off),
        "on_p95_ms": percentile(on, 95),
        "off_p95_ms": percentile(off, 95),
        "check_ms": statistics.median(check),
        "check_p95_ms": percentile(check, 95),
        "added_ms": statistics.median(on) - statistics.median(off),
        "saves": saves,
        "warned": warned,
    }


def run_backend(name: str, url: str, layout: Layout, saves: int) -> dict[str, Any]:
    database = Database(url)
    upgrade(database)
    log(f"{name}: filling {layout.total:,} annotations")
    began = time.perf_counter()
    sites = fill(database, layout)
    fill_s = time.perf_counter() - began
    with database.read() as session:
        stored = int(session.scalar(select(func.count()).select_from(Annotation)) or 0)
    assert stored == layout.total, (stored, layout.total)
    save(database, sites[0][0], square(*layout.spot(0, 0)), Thresholds())  # warm the caches
    log(f"{name}: timing {saves} saves with the check and {saves} without")
    meter = CpuMeter()
    result = measure(database, layout, sites, saves)
    result.update(backend=name, annotations=stored, fill_s=fill_s, other_cpu=meter.other_share())
    database.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    cli = parser((__doc__ or "").splitlines()[0])
    cli.add_argument("--no-postgis", action="store_true")
    args = cli.parse_args(argv)
    opts = read_options(args, "duplicates")
    sites, captures, per_capture, saves = (
        SMOKE if opts.smoke else (SITES, CAPTURES, PER_CAPTURE, SAVES)
    )
    layout = Layout(sites, captures, per_capture)
    started = time.time()
    results = []
    with backends(opts.out / "db", "duplicates", no_postgis=args.no_postgis) as chosen:
        for name, url in chosen.urls:
            results.append(run_backend(name, url, layout, saves))
    left_out = chosen.left_out
    report = render(
        "duplicates.md.j2",
        results=results,
        layout=layout,
        target_ms=TARGET_MS,
        thresholds=Thresholds(),
        left_out=left_out,
        minutes=(time.time() - started) / 60,
        machine=machine(),
    )
    print(report)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    write_section("duplicates", report, opts.doc)


if __name__ == "__main__":
    main()
