"""Site filter: what selecting a site's annotations by its area costs, at 1,000,000 annotations.

`site=` selects the annotations whose geometry meets the site's area
(`annotations.catalogue.areas.on_site`: the spatial index with the site's bounds, then the exact
test in SQL). The peer is what it replaced: the annotations of the images attached to the site
(image membership), which lets a wide capture attached to many sites bring others' annotations
in. For each backend (SQLite; PostGIS in a throwaway cluster, tests/postgis.py) a database is
filled once, by bulk inserts: 50 sites (a 72-vertex circle each) of 20 captures with 1,000
annotations on every capture, spread over the capture (about a third lie outside the circle),
and one wide capture attached to every site with 100 annotations per site's tile. Then, one
site after another, alternately by area and by images: the first page of the list as
GET /api/v1/annotations makes it (`search_rows`, limit 1,000), the count, the site timeline
(`site_timeline`, by area only) and, for a few sites, every keyset page of 1,000. Each count by
area is checked against shapely's count of the generated shapes, and the pages walked must
hold each annotation once. The target: the list by area within 3 times the list by images.

Run: .venv/bin/python -m benchmarks.site_filter [--smoke] [--no-postgis]   (also part of
`make bench`); the smoke mode fills 2 sites of 2 captures of 100 annotations.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry import Point, box
from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.catalogue.areas import on_site
from annotations.catalogue.sites import Site, SiteImage, add_site, get_site
from annotations.db import Database
from annotations.schema import upgrade
from annotations.search import Filters, search_rows, statement
from annotations.timeline import site_timeline
from benchmarks.common.backends import backends
from benchmarks.common.catalogue import placeholder_image
from benchmarks.common.options import options as read_options
from benchmarks.common.options import parser
from benchmarks.common.report import render, write_section
from benchmarks.common.system import machine
from benchmarks.common.timing import CpuMeter, log, percentile

TARGET_RATIO = 3.0  # the list by area within this many times the list by images (medians)
SITES, CAPTURES, PER_CAPTURE, WIDE_PER_SITE, WALKED = 50, 20, 1_000, 100, 3
SMOKE = (2, 2, 100, 10, 1)
PAGE = 1_000
BATCH = 20_000
SIZE = 0.0002  # an annotation's box, degrees (about 20 m)
STEP, SIDE, RADIUS = 0.05, 0.04, 0.018  # sites' spacing, capture side, area radius (degrees)
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Layout:
    sites: int
    captures: int
    per_capture: int
    wide_per_site: int
    walked: int

    @property
    def total(self) -> int:
        return self.sites * (self.captures * self.per_capture + self.wide_per_site)

    def origin(self, site: int) -> tuple[float, float]:
        """South-west corner of a site's captures: 0.05 degrees apart, near 35 N 36 E."""
        return 36.0 + (site % 10) * STEP, 35.0 + (site // 10) * STEP

    def footprint(self, site: int) -> tuple[float, float, float, float]:
        west, south = self.origin(site)
        return west, south, west + SIDE, south + SIDE

    def area(self, site: int) -> shapely.Polygon:
        west, south = self.origin(site)
        return Point(west + SIDE / 2, south + SIDE / 2).buffer(RADIUS, quad_segs=18)

    def wide(self) -> tuple[float, float, float, float]:
        """The wide capture: over every site's tile of STEP x STEP degrees."""
        west, south = self.origin(0)
        rows = (self.sites + 9) // 10
        return west, south, west + STEP * min(self.sites, 10), south + STEP * rows


def fill(database: Database, layout: Layout) -> dict[str, int]:
    """Images, sites and annotations, by bulk inserts; each site's count by shapely."""
    rng = random.Random(7)
    captures: list[list[str]] = []
    with database.write() as session:
        wide = placeholder_image(layout.wide(), START)
        session.add(wide)
        for site in range(layout.sites):
            images = [
                placeholder_image(layout.footprint(site), START + timedelta(days=day))
                for day in range(layout.captures)
            ]
            session.add_all(images)
            captures.append([image.id for image in images])
        session.flush()
        for site in range(layout.sites):  # attaches its captures and the wide one
            add_site(session, f"Site {site + 1:02d}", layout.area(site), slug=slug(site))
    expected = dict.fromkeys(range(layout.sites), 0)
    rows: list[dict[str, Any]] = []
    made, began, at = 0, time.perf_counter(), START
    # captures in time order, every site's n-th capture together, as a team would work
    for capture in range(layout.captures + 1):
        for site in range(layout.sites):
            if capture < layout.captures:
                image_id, count, (west, south, east, north) = (
                    captures[site][capture],
                    layout.per_capture,
                    layout.footprint(site),
                )
            else:  # the wide capture, over the site's whole tile (between the sites too)
                image_id, count = wide.id, layout.wide_per_site
                west, south = layout.origin(site)
                east, north = west + STEP, south + STEP
            shapes = [
                box(x, y, x + SIZE, y + SIZE)
                for x, y in (
                    (rng.uniform(west, east - SIZE), rng.uniform(south, north - SIZE))
                    for _ in range(count)
                )
            ]
            expected[site] += int(shapely.intersects(layout.area(site), shapes).sum())
            for shape in shapes:
                at += timedelta(milliseconds=10)
                rows.append(row(image_id, shape, at))
                if len(rows) >= BATCH:
                    made += insert_rows(database, rows)
    made += insert_rows(database, rows)
    log(f"  {made:,} annotations ({time.perf_counter() - began:.0f} s)")
    database.refresh_statistics("annotations")
    return {slug(site): count for site, count in expected.items()}


def slug(site: int) -> str:
    return f"site-{site + 1:02d}"


def row(image_id: str, shape: Any, at: datetime) -> dict[str, Any]:
    x0, y0, x1, y1 = shape.bounds
    return {
        "id": uuid.uuid4().hex,
        "image_id": image_id,
        "label": "aircraft.transport.an-124",
        "shape": "box",
        "confidence": "probable",
        "count": 1,
        "attributes_json": "{}",
        "notes": "",
        "observed_at": at,
        "status": "approved",
        "version": 1,
        "geometry_geojson": json.dumps(shape.__geo_interface__),
        "measurements_json": "{}",
        "source_json": "{}",
        "created_by": "bench",
        "created_at": at,
        "updated_by": "bench",
        "updated_at": at,
        "min_lon": x0,
        "min_lat": y0,
        "max_lon": x1,
        "max_lat": y1,
    }


def insert_rows(database: Database, rows: list[dict[str, Any]]) -> int:
    count = len(rows)
    if rows:
        with database.write() as session:
            session.execute(insert(Annotation), rows)
    rows.clear()
    return count


def by_images(name: str) -> Any:
    """The peer: the annotations of the images attached to the site (the filter replaced)."""
    return Annotation.image_id.in_(
        select(SiteImage.image_id).join(Site, Site.id == SiteImage.site_id).where(Site.slug == name)
    )


def old_list(session: Session, name: str) -> list[Any]:
    query: Select[Any] = statement(session, Filters(limit=PAGE)).where(by_images(name))
    query = query.with_only_columns(*Annotation.__table__.columns, maintain_column_froms=True)
    return list(session.execute(query.limit(PAGE + 1)))


def count(session: Session, condition: Any) -> int:
    query = (
        select(func.count())
        .select_from(Annotation)
        .where(condition, Annotation.deleted_at.is_(None))
    )
    return int(session.scalar(query) or 0)


def timed(action: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return (time.perf_counter() - began) * 1000, result


def walk(session: Session, name: str) -> tuple[list[float], int]:
    """Every keyset page of the site's list: each page's ms, and how many it held in all."""
    seen: set[str] = set()
    pages, cursor = [], None
    while True:
        filters = Filters(site=name, limit=PAGE, cursor=cursor)
        ms, (rows, cursor) = timed(lambda f=filters: search_rows(session, f))
        pages.append(ms)
        ids = {row.id for row in rows}
        assert not ids & seen, "a page repeated an annotation"
        seen |= ids
        if cursor is None:
            return pages, len(seen)


def measure(database: Database, layout: Layout, expected: dict[str, int]) -> dict[str, Any]:
    times: dict[str, list[float]] = {
        k: [] for k in ("new_list", "old_list", "new_count", "old_count", "timeline", "page")
    }
    held_by_images = []
    with database.read() as session:
        search_rows(session, Filters(site=slug(0), limit=PAGE))  # warm the caches
        for site in range(layout.sites):
            name = slug(site)
            area = on_site(session, get_site(session, name))
            ms, (rows, _) = timed(lambda n=name: search_rows(session, Filters(site=n, limit=PAGE)))
            times["new_list"].append(ms)
            assert len(rows) == min(PAGE, expected[name]), (name, len(rows))
            times["old_list"].append(timed(lambda n=name: old_list(session, n))[0])
            ms, found = timed(lambda a=area: count(session, a))
            times["new_count"].append(ms)
            assert found == expected[name], (name, found, expected[name])
            ms, held = timed(lambda n=name: count(session, by_images(n)))
            times["old_count"].append(ms)
            held_by_images.append(held)
            ms, story = timed(lambda n=name: site_timeline(session, n))
            times["timeline"].append(ms)
            counted = sum(c.annotations for capture in story.captures for c in capture.counts)
            assert counted == expected[name], (name, counted)
            if site < layout.walked:
                pages, walked = walk(session, name)
                assert walked == expected[name], (name, walked)
                times["page"] += pages
    result: dict[str, Any] = {}
    for key, values in times.items():
        result[f"{key}_ms"] = statistics.median(values)
        result[f"{key}_p95_ms"] = percentile(values, 95)
    result["ratio"] = result["new_list_ms"] / result["old_list_ms"]
    result["in_area"] = statistics.median(expected.values())
    result["by_images"] = statistics.median(held_by_images)
    result["pages"] = len(times["page"])
    return result


def run_backend(name: str, url: str, layout: Layout) -> dict[str, Any]:
    database = Database(url)
    upgrade(database)
    log(f"{name}: filling {layout.total:,} annotations")
    began = time.perf_counter()
    expected = fill(database, layout)
    fill_s = time.perf_counter() - began
    with database.read() as session:
        stored = count(session, Annotation.id.is_not(None))
    assert stored == layout.total, (stored, layout.total)
    log(f"{name}: timing the site lists and counts of {layout.sites} sites")
    meter = CpuMeter()
    result = measure(database, layout, expected)
    result.update(backend=name, annotations=stored, fill_s=fill_s, other_cpu=meter.other_share())
    database.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    cli = parser((__doc__ or "").splitlines()[0])
    cli.add_argument("--no-postgis", action="store_true")
    args = cli.parse_args(argv)
    opts = read_options(args, "site_filter")
    layout = Layout(
        *(SMOKE if opts.smoke else (SITES, CAPTURES, PER_CAPTURE, WIDE_PER_SITE, WALKED))
    )
    started = time.time()
    results = []
    with backends(opts.out / "db", "site_filter", no_postgis=args.no_postgis) as chosen:
        for name, url in chosen.urls:
            results.append(run_backend(name, url, layout))
    left_out = chosen.left_out
    report = render(
        "site_filter.md.j2",
        results=results,
        layout=layout,
        target_ratio=TARGET_RATIO,
        page=PAGE,
        left_out=left_out,
        minutes=(time.time() - started) / 60,
        machine=machine(),
    )
    print(report)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    write_section("site_filter", report, opts.doc)


if __name__ == "__main__":
    main()
