"""OGC API - Features: a page of 1,000 features over HTTP at 1,000,000 annotations.

Builds (once; a re-run reuses it) the annotation benchmark's SQLite database of 1,000,000
generated annotations on 50 sites (benchmarks.annotations: images imported with the app's
CLI, rows bulk-loaded), adds the 50 sites through the API (a 3 km circle each), serves it
with `annotator serve --workers 2` and times, over 127.0.0.1 with a bearer token:

- `GET /ogcapi/collections/annotations/items?limit=1000`, walking the next links page after
  page (keyset paging: a deep page costs what the first does);
- a site's collection (`site-<slug>`), first pages of several sites;
- the same pages with `bbox` (boxes around busy spots), and with `crs=` the site's UTM zone;
- the REST API's `GET /api/v1/annotations?limit=1000` walked the same way, as the peer.

Every answer is checked: 200, 1,000 features (or the rest on the last page), no id twice in
a walk. Target: p50 of an items page of 1,000 at most 60 ms.

Run: .venv/bin/python -m benchmarks.ogcapi [--smoke]; the smoke mode loads 3,000 annotations
on 4 sites and times a few pages of 20.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.annotations.backends import Backend, load_sqlite, prepare
from benchmarks.annotations.data import FULL, SMOKE, site_layout, write_images
from benchmarks.common.options import options as read_options
from benchmarks.common.options import parser
from benchmarks.common.report import render, write_section
from benchmarks.common.servers import Client, app_server
from benchmarks.common.system import machine
from benchmarks.common.timing import (
    CpuMeter,
    Noise,
    log,
    percentile,
    process_cpu_s,
    tracked_pids,
)

TARGET_MS = 60.0


@dataclasses.dataclass(frozen=True)
class Plan:
    count: int
    sites: int
    limit: int
    walk: int  # pages walked by next links
    firsts: int  # first pages of sites
    boxes: int


FULL_PLAN = Plan(FULL.count, FULL.sites, 1000, 200, 50, 50)
SMOKE_PLAN = Plan(SMOKE.count, 2, 20, 5, 2, 2)


def build(out: Path, plan: Plan) -> Backend:
    """The 1M database, or the one a previous run left when it holds the same count."""
    backend = Backend("sqlite", "SQLite", out / "sqlite")
    state = out / "built.json"
    if state.exists() and backend.sqlite_path.exists():
        saved = json.loads(state.read_text())
        if saved["count"] == plan.count:
            backend.token = saved["token"]
            backend.cli("init")  # upgrades: a newer app may have added migrations since
            log(f"reusing {backend.sqlite_path} ({plan.count:,} annotations)")
            return backend
    layout = site_layout(plan.sites)
    sources = write_images(layout, out / "images")
    prepare(backend, sources)
    log(f"loading {plan.count:,} annotations")
    load = load_sqlite(backend, plan.count)
    log(f"loaded at {load['rows_per_s']:,.0f} rows/s")
    state.write_text(json.dumps({"count": plan.count, "token": backend.token, "sites": False}))
    return backend


def add_sites(client: Client, out: Path, plan: Plan) -> list[str]:
    """The layout's sites (a circle of 3 km each) through the API, once."""
    state = json.loads((out / "built.json").read_text())
    layout = site_layout(plan.sites)
    slugs = [f"bench-site-{index}" for index in range(plan.sites)]
    if not state.get("sites"):
        for index, slug in enumerate(slugs):
            body = {
                "name": slug,
                "lon": float(layout.lon[index]),
                "lat": float(layout.lat[index]),
                "radius_m": 3000,
            }
            reply = client.post_json("/api/v1/sites", body)
            if reply.status != 201:
                raise RuntimeError(f"POST /api/v1/sites: {reply.status} {reply.body[:300]!r}")
        state["sites"] = True
        (out / "built.json").write_text(json.dumps(state))
    return slugs


def _relative(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


def fetch(
    client: Client, path: str, limit: int, seen: set[str] | None = None
) -> tuple[float, str | None]:
    """One page: its time, its next link; checks the status, the count and repeated ids."""
    reply = client.get(path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path}: {reply.status} {reply.body[:300]!r}")
    body = json.loads(reply.body)
    features = body["features"]
    after = [link["href"] for link in body.get("links", []) if link["rel"] == "next"]
    # a bbox page may hold fewer: the exact geometry test follows the index's (as the REST API)
    short = len(features) != limit if "bbox=" not in path else len(features) > limit
    if after and short:
        raise RuntimeError(f"GET {path}: {len(features)} features on a page of {limit}")
    if seen is not None:
        ids = {feature["id"] for feature in features}
        if ids & seen:
            raise RuntimeError(f"GET {path}: a feature seen on an earlier page")
        seen |= ids
    return reply.ms, (_relative(after[0]) if after else None)


def walk(client: Client, start: str, pages: int, limit: int) -> list[float]:
    times: list[float] = []
    seen: set[str] = set()
    path: str | None = start
    while path and len(times) < pages:
        ms, path = fetch(client, path, limit, seen)
        times.append(ms)
    return times


def measure(name: str, run: Callable[[], list[float]], noise: Noise) -> dict[str, Any]:
    while True:
        noise.wait_for_quiet()
        meter = CpuMeter()
        served = _server_cpu_s()
        times = run()
        share = meter.other_share()
        served = _server_cpu_s() - served
        if not noise.again(share, name):
            break
    return {
        "name": name,
        "requests": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times),
        "other_cpu": share,
        # the server's own work per request (its processes' CPU), whatever the wait for a core
        "server_cpu_ms": served * 1000 / len(times),
    }


def _server_cpu_s() -> float:
    """CPU seconds used so far by the tracked server's processes (master and workers)."""
    return sum(process_cpu_s(pid) for pid in tracked_pids())


def boxes(plan: Plan) -> list[str]:
    """Boxes of about 600 m around each site's centre."""
    layout = site_layout(plan.sites)
    found = []
    for index in range(min(plan.boxes, plan.sites)):
        lon, lat = float(layout.lon[index]), float(layout.lat[index])
        found.append(f"{lon - 0.004},{lat - 0.003},{lon + 0.004},{lat + 0.003}")
    return found


_UTM: dict[str, str] = {}


def utm(client: Client, slug: str) -> str:
    """The site's UTM zone, as its collection names it (asked once per site)."""
    if slug not in _UTM:
        reply = client.get(f"/ogcapi/collections/site-{slug}")
        _UTM[slug] = json.loads(reply.body)["crs"][2]
    return _UTM[slug]


def main(argv: list[str] | None = None) -> None:
    cli = parser((__doc__ or "").splitlines()[0])
    args = cli.parse_args(argv)
    opts = read_options(args, "ogcapi")
    plan = SMOKE_PLAN if opts.smoke else FULL_PLAN
    began = time.perf_counter()
    noise = Noise(began, 0.0, 0.0) if opts.smoke else Noise(began, 600.0)
    backend = build(opts.out, plan)
    server = app_server(
        "annotator",
        "annotator serve",
        backend.data_dir,
        opts.out / "logs",
        token=backend.token,
        workers=2,
        env=backend.env(),
    )
    server.tracked = True  # its CPU is the benchmark's own, not other processes'
    server.start("ogcapi")
    try:
        client = Client(server.port, server.headers)
        slugs = add_sites(client, opts.out, plan)
        limit = plan.limit
        all_items = f"/ogcapi/collections/annotations/items?limit={limit}"
        for _ in range(4):  # warm both workers (each reads the UTM zones from pyproj once)
            fetch(client, all_items, limit)
            if client.get("/ogcapi/collections").status != 200:
                raise RuntimeError("GET /ogcapi/collections failed")
        results = [
            measure(
                "annotations: walk by next links",
                lambda: walk(client, all_items, plan.walk, limit),
                noise,
            ),
            measure(
                "site-<slug>: first page of each site",
                lambda: [
                    fetch(client, f"/ogcapi/collections/site-{slug}/items?limit={limit}", limit)[0]
                    for slug in slugs[: plan.firsts]
                ],
                noise,
            ),
            measure(
                "annotations: bbox around each site's centre",
                lambda: [fetch(client, f"{all_items}&bbox={box}", limit)[0] for box in boxes(plan)],
                noise,
            ),
            measure(
                "site-<slug>: first page in the site's UTM zone (crs=)",
                lambda: [
                    fetch(
                        client,
                        f"/ogcapi/collections/site-{slug}/items?limit={limit}"
                        f"&crs={utm(client, slug)}",
                        limit,
                    )[0]
                    for slug in slugs[: plan.firsts]
                ],
                noise,
            ),
            measure(
                "REST API peer: /api/v1/annotations walk",
                lambda: walk(client, f"/api/v1/annotations?limit={limit}", plan.walk, limit),
                noise,
            ),
        ]
        client.close()
    finally:
        server.stop()
    first = results[0]
    report = render(
        "ogcapi.md.j2",
        count=plan.count,
        sites=plan.sites,
        limit=limit,
        results=results,
        target=TARGET_MS,
        met=first["p50"] <= TARGET_MS,
        machine=machine(),
        smoke=opts.smoke,
        elapsed_min=(time.perf_counter() - began) / 60,
    )
    print(report)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    write_section("ogcapi", report, opts.doc)


if __name__ == "__main__":
    main()
