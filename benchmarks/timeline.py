"""Site timeline: counting objects per label per capture with one grouped query.

Fills a SQLite database (benchmarks/out/timeline/) with one site of N captures and M
annotations on each, then times `annotations.timeline.site_timeline` (what the site page and
GET /api/v1/sites/<slug>/timeline run) against the obvious alternative, one count query per
capture. Prints a table and writes its section of docs/benchmarks.md.

Run: .venv/bin/python -m benchmarks.timeline [--smoke]   (also part of `make bench`); the
smoke mode fills 3 and 5 captures of 20 annotations and times each way twice.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from annotations.annotation import Annotation
from annotations.catalogue.sites import Site, SiteImage
from annotations.db import Database, sqlite_url
from annotations.schema import upgrade
from annotations.timeline import COUNTED_STATUSES, site_timeline
from benchmarks.common.catalogue import placeholder_image
from benchmarks.common.options import parse
from benchmarks.common.report import render, write_section
from benchmarks.common.system import machine
from benchmarks.common.timing import CpuMeter, Noise, log

SIZES = ((10, 1_000), (50, 1_000), (50, 4_000))  # (captures, annotations per capture)
SMOKE_SIZES = ((3, 20), (5, 20))
LABELS = (
    "aircraft.transport.an-124",
    "aircraft.transport.il-76",
    "vehicle.truck",
    "vehicle.convoy",
    "aircraft.combat.su-30sm",
)
STATUSES = ("draft", "in_review", "approved", "rejected")
REPEATS = 7
NOTE = (
    "On SQLite in-process the two are close (each capture's rows come from the `image_id` index"
    " either way); the grouped query's gains are one statement however many captures (one round"
    " trip on PostgreSQL over a network) and no per-capture loop in the view. A covering index "
    "on (image_id, label, status, deleted_at, count) was tried and did not change the figures, "
    "so none was added."
)
SQUARE = '{"type":"Polygon","coordinates":[[[35.9,35.4],[35.91,35.4],[35.91,35.41],[35.9,35.4]]]}'


def fill(database: Database, captures: int, per_capture: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with database.write() as session:
        site = Site(slug="bench", name="Bench", area_geojson=SQUARE)
        site.set_bounds((35.9, 35.4, 35.91, 35.41))
        session.add(site)
        session.flush()
        for index in range(captures):
            image = placeholder_image(
                (35.9, 35.4, 35.91, 35.41), start + timedelta(days=index), crs="EPSG:32636"
            )
            session.add(image)
            session.flush()
            session.add(SiteImage(site_id=site.id, image_id=image.id))
            rows = [
                {
                    "id": uuid.uuid4().hex,
                    "image_id": image.id,
                    "label": LABELS[n % 5],
                    "shape": "point",
                    "confidence": "probable",
                    "count": 1 + n % 3,
                    "attributes_json": "{}",
                    "notes": "",
                    "observed_at": image.captured_at,
                    "status": STATUSES[n % 4],
                    "version": 1,
                    "geometry_geojson": '{"type":"Point","coordinates":[35.905,35.405]}',
                    "measurements_json": "{}",
                    "source_json": "{}",
                    "created_by": "bench",
                    "created_at": start,
                    "updated_by": "bench",
                    "updated_at": start,
                    "min_lon": 35.905,
                    "min_lat": 35.405,
                    "max_lon": 35.905,
                    "max_lat": 35.405,
                }
                for n in range(per_capture)
            ]
            session.execute(insert(Annotation), rows)


def per_image(database: Database) -> int:
    """The alternative: one grouped count per capture."""
    total = 0
    with database.read() as session:
        site = session.scalar(select(Site).where(Site.slug == "bench"))
        assert site is not None
        for image in site.images:
            rows = session.execute(
                select(Annotation.label, func.sum(Annotation.count))
                .where(
                    Annotation.image_id == image.id,
                    Annotation.deleted_at.is_(None),
                    Annotation.status.in_(COUNTED_STATUSES),
                )
                .group_by(Annotation.label)
            )
            total += sum(int(objects) for _, objects in rows)
    return total


def grouped(database: Database) -> int:
    with database.read() as session:
        return sum(c.objects for c in site_timeline(session, "bench").captures)


def timed(
    function: Callable[[Database], int], database: Database, repeats: int
) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        result = function(database)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, result


def main(argv: list[str] | None = None) -> None:
    opts = parse((__doc__ or "").splitlines()[0], "timeline", argv)
    sizes, repeats = (SMOKE_SIZES, 2) if opts.smoke else (SIZES, REPEATS)
    results = []
    for captures, per_capture in sizes:
        folder = opts.out / "db"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        database = Database(sqlite_url(folder / "timeline.sqlite"))
        upgrade(database)
        log(f"filling {captures} captures x {per_capture} annotations")
        fill(database, captures, per_capture)
        noise = Noise(time.perf_counter(), retry_budget_s=0 if opts.smoke else 120)
        if opts.smoke:
            noise.quiet_budget_s = 0.0
        while True:
            noise.wait_for_quiet()
            meter = CpuMeter()
            one_ms, one_total = timed(grouped, database, repeats)
            many_ms, many_total = timed(per_image, database, repeats)
            share = meter.other_share()
            if not noise.again(share, f"{captures} x {per_capture}"):
                break
        assert one_total == many_total, (one_total, many_total)
        database.dispose()
        results.append(
            {
                "captures": captures,
                "annotations": captures * per_capture,
                "grouped_ms": one_ms,
                "per_capture_ms": many_ms,
                "other_cpu": share,
            }
        )
    report = render(
        "timeline.md.j2",
        repeats=repeats,
        labels=len(LABELS),
        results=results,
        machine=machine(),
        note=NOTE,
    )
    print(report)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    write_section("timeline", report, opts.doc)


if __name__ == "__main__":
    main()
