"""The annotation benchmark's report: this run's figures as rows and sentences for
benchmarks/templates/annotations.md.j2 (docs/benchmarks-annotations.md)."""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np
import shapely

from benchmarks.annotations.backends import Backend
from benchmarks.annotations.data import (
    CAPTURES,
    CHUNK,
    CLUSTERED_SHARE,
    CLUSTERS,
    CONCURRENCY,
    DELETED_SHARE,
    IMAGE_HALF_M,
    IMAGE_PX,
    KIND_SHARE,
    NOTES_SHARE,
    QUERY_LIMIT,
    QUERY_TOLERANCE,
    SPREAD_M,
    TARGET_FLOOR_RATIO,
    TARGET_P50_MS,
    TARGET_RSS_MB,
    WORKERS,
    Bench,
)
from benchmarks.annotations.over_http import Answer
from benchmarks.common.report import mb, pct, render, table, verdict, write_section
from benchmarks.common.report import ms_whole as ms
from benchmarks.common.system import machine
from benchmarks.common.timing import DISTURBED, NPROC, percentile

INDEX_LINE = (
    "Annotation storage (1,000,000 annotations, SQLite and PostGIS, bbox queries over HTTP): "
    "see [benchmarks-annotations.md](benchmarks-annotations.md), written by "
    "`make bench-annotations`."
)


def versions() -> dict[str, str]:
    found = {
        "Python": platform.python_version(),
        "SQLite (Python's sqlite3)": sqlite3.sqlite_version,
    }
    for name in (
        "Flask",
        "gunicorn",
        "SQLAlchemy",
        "GeoAlchemy2",
        "alembic",
        "psycopg",
        "shapely",
        "geopandas",
        "pandas",
        "numpy",
        "pyproj",
    ):
        found[name] = version(name)
    found["GEOS (shapely)"] = shapely.geos_version_string
    return found


@dataclass
@dataclass
class Summary:
    """Figures of one backend's HTTP runs, as used in the tables."""

    p50: float
    p95: float
    first_p50: float
    mean_count: float
    mean_kib: float
    errors: list[str]
    mismatches: int
    qps: float
    conc_p50: float
    peak_worker_kb: int
    peak_total_kb: int
    pss_total_kb: int


def summarise(http: dict[str, Any], floor: dict[str, Any]) -> Summary:
    answers: list[Answer] = http["pass1"] + http["pass2"]
    concurrent: list[Answer] = http["concurrent"]["answers"]
    errors = [f"box {a.box}: {a.problem}" for a in answers + concurrent if a.problem]
    expected = [item["ids"] for item in floor["per_box"]]
    mismatches = sum(1 for a in answers + concurrent if not a.problem and a.ids != expected[a.box])
    snapshots = http["memory_after_queries"] + http["memory_after_inserts"]
    return Summary(
        p50=percentile([a.ms for a in answers], 50),
        p95=percentile([a.ms for a in answers], 95),
        first_p50=percentile([a.ms for a in http["pass1"]], 50),
        mean_count=float(np.mean([a.count for a in answers])),
        mean_kib=float(np.mean([a.size for a in answers])) / 1024,
        errors=errors,
        mismatches=mismatches,
        qps=len(concurrent) / http["concurrent"]["wall_s"],
        conc_p50=percentile([a.ms for a in concurrent], 50),
        peak_worker_kb=max(s["hwm_kb"] for s in snapshots),
        peak_total_kb=max(http["peak_total_kb"].values()),
        pss_total_kb=sum(s["pss_kb"] for s in http["memory_after_inserts"]),
    )


def render_report(bench: Bench, res: dict[str, Any]) -> str:
    floor = res["floor"]
    backends: list[Backend] = res["backends"]
    per_box = floor["per_box"]
    floor_total = [b["total_ms"] for b in per_box]
    floor_p50 = percentile(floor_total, 50)
    sums = {b.name: summarise(b.results["http"], floor) for b in backends}
    count = res["count"]
    first = backends[0]

    targets = []
    for b in backends:
        s = sums[b.name]
        ratio = s.p50 / floor_p50
        targets += [
            [
                f"{b.title}: bbox query over HTTP, p50",
                f"≤ {TARGET_P50_MS:g} ms",
                f"{ms(s.p50)} ms (p95 {ms(s.p95)} ms)",
                verdict(s.p50 <= TARGET_P50_MS),
            ],
            [
                f"{b.title}: HTTP p50 / in-memory floor p50",
                f"≤ {TARGET_FLOOR_RATIO:g}x",
                f"{ratio:.2f}x ({ms(s.p50)} vs {ms(floor_p50)} ms)",
                verdict(ratio <= TARGET_FLOOR_RATIO),
            ],
            [
                f"{b.title}: server peak RSS, master + {WORKERS} workers (sampled sum)",
                f"< {TARGET_RSS_MB:g} MB",
                f"{mb(s.peak_total_kb)} (largest process {mb(s.peak_worker_kb)})",
                verdict(s.peak_total_kb / 1024 < TARGET_RSS_MB),
            ],
        ]

    info = machine() | versions()
    for b in backends:
        if b.name == "postgis":
            load = b.results["load"]
            info["PostgreSQL"] = load["postgres_version"]
            info["PostGIS"] = f"{load['postgis_version']} (GEOS {load['postgis_geos']})"

    def p(values: Sequence[float], q: float) -> str:
        return ms(percentile(values, q))

    queries = []
    for b in backends:
        s, http = sums[b.name], b.results["http"]
        queries.append(
            [
                f"app over HTTP, {b.title}",
                ms(s.p50),
                ms(s.p95),
                ms(s.first_p50),
                f"{s.mean_count:.0f}",
                f"{s.mean_kib:.0f}",
                2 * len(http["pass1"]),
                pct(http["other_share"]),
            ]
        )
    queries += [
        [
            "floor: GeoPandas `sindex.query` + `to_json`, in memory",
            ms(floor_p50),
            p(floor_total, 95),
            "-",
            f"{np.mean([b['count'] for b in per_box]):.0f}",
            f"{np.mean([b['bytes'] for b in per_box]) / 1024:.0f}",
            len(per_box),
            pct(floor["other_share"]),
        ],
        [
            "- of which `sindex.query(box, predicate='intersects')`",
            p([b["query_ms"] for b in per_box], 50),
            p([b["query_ms"] for b in per_box], 95),
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "- of which `GeoDataFrame.to_json`",
            p([b["json_ms"] for b in per_box], 50),
            p([b["json_ms"] for b in per_box], 95),
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "`sindex.query` + hand-built dicts + `json.dumps`, in memory",
            p(floor["hand_ms"], 50),
            p(floor["hand_ms"], 95),
            "",
            "",
            "",
            len(floor["hand_ms"]),
            "",
        ],
        [
            "naive in memory: `shapely.intersects` on every geometry + `to_json`",
            p(floor["naive_ms"], 50),
            p(floor["naive_ms"], 95),
            "",
            "",
            "",
            len(floor["naive_ms"]),
            "",
        ],
    ]
    for b in backends:
        naive = b.results["naive"]
        queries.append(
            [
                f"naive SQL, {b.title}: full scan on min/max columns, fetch, exact test",
                ms(naive["p50_ms"]),
                ms(naive["p95_ms"]),
                "",
                f"{naive['mean_count']:.0f}",
                "",
                naive["boxes"],
                "",
            ]
        )

    concurrency = [
        [
            b.title,
            f"{sums[b.name].qps:.1f}",
            ms(sums[b.name].conc_p50),
            ms(b.results["http"]["server_cpu_ms"]),
            pct(b.results["http"]["concurrent"]["other_share"]),
        ]
        for b in backends
    ]

    breakdown = []
    for b in backends:
        ip, s = b.results["inprocess"], sums[b.name]
        total = ip["search"] + ip["features"] + ip["dumps"]
        breakdown.append(
            [
                b.title,
                ms(ip["sql"]),
                ms(ip["search"]),
                ms(ip["features"]),
                ms(ip["dumps"]),
                ms(total),
                ms(s.p50),
                ms(s.p50 - total),
            ]
        )

    gc_rows = []
    for b in backends:
        g = b.results["inprocess"]["gc"]
        gc_rows.append(
            [
                b.title,
                ms(g["p50_ms"]),
                ms(g["p95_ms"]),
                ms(g["p50_without_gc_ms"]),
                ms(g["p95_without_gc_ms"]),
                pct(g["gc_share"]),
                g["full_collections"],
                ms(g["full_p50_ms"]),
            ]
        )
    gc_requests = first.results["inprocess"]["gc"]["requests"]

    def keys_table(kind: str) -> str:
        rows = []
        for i, key in enumerate(first.results[kind]["keys"]):
            row = [key["title"], f"{key['calls']:g}"]
            row += [ms(b.results[kind]["keys"][i]["ms"]) for b in backends]
            rows.append(row)
        header = ["part", "calls per request"] + [f"{b.title} ms" for b in backends]
        return table(header, rows)

    def top_table(kind: str) -> str:
        rows = []
        for b in backends:
            for f in b.results[kind]["top_functions"][:8]:
                rows.append(
                    [
                        b.title,
                        f"`{f['function']}`",
                        f"`{f['where']}`",
                        f["calls"],
                        pct(f["own_share"]),
                        pct(f["cum_share"]),
                    ]
                )
        return table(["backend", "function", "where", "calls", "own", "cumulative"], rows)

    plans = "\n\n".join(
        f"{b.title}:\n\n```\n" + "\n".join(b.results["inprocess"]["plan"]) + "\n```"
        for b in backends
    )

    loads = []
    for b in backends:
        load = b.results["load"]
        how = "executemany" if b.name == "sqlite" else "COPY"
        after = (
            f"WAL checkpoint {load['checkpoint_s']:.1f} s"
            if b.name == "sqlite"
            else f"VACUUM ANALYZE {load['vacuum_s']:.1f} s"
        )
        loads.append(
            [
                b.title,
                f"direct SQL ({how}, triggers on)",
                f"{count:,}",
                f"{load['insert_s']:.1f} s",
                f"{load['rows_per_s']:,.0f}",
                after,
                f"{load['db_bytes'] / 2**30:.2f} GiB",
                pct(load["other_share"]),
            ]
        )
    for b in backends:
        ins = b.results["http"]["inserts"]
        loads.append(
            [
                b.title,
                f"API: {ins['batches']} POSTs of {ins['batch_size']:,} features",
                f"{ins['created']:,}",
                f"p50 {ms(ins['batch_p50_ms'])} ms per POST",
                f"{ins['features_per_s']:,.0f}",
                f"slowest POST {ms(ins['batch_max_ms'])} ms",
                "",
                pct(ins["other_share"]),
            ]
        )

    memory = []
    for b in backends:
        http = b.results["http"]
        for phase, key in (
            ("after the queries", "memory_after_queries"),
            ("after the API inserts", "memory_after_inserts"),
        ):
            snap = http[key]
            memory.append(
                [
                    b.title,
                    phase,
                    " / ".join(mb(x["hwm_kb"]) for x in snap if x["role"] == "master"),
                    " / ".join(mb(x["hwm_kb"]) for x in snap if x["role"] == "worker"),
                    " / ".join(mb(x["rss_kb"]) for x in snap),
                    mb(sum(x["pss_kb"] for x in snap)),
                ]
            )
    peaks = [
        [b.title]
        + [
            mb(b.results["http"]["peak_total_kb"].get(phase, 0))
            for phase in ("sites", "queries", "inserts")
        ]
        for b in backends
    ]

    errors = [e for b in backends for e in sums[b.name].errors]
    errors += [x for b in backends for x in b.results["http"]["inserts"]["problems"]]
    same = ", ".join(
        f"{b.title}: "
        + ("all" if sums[b.name].mismatches == 0 else f"{sums[b.name].mismatches} differ")
        for b in backends
    )
    boxes = floor["boxes"]
    widths = [item["half_m"] * 2 for item in boxes]
    counts = [item["count"] for item in boxes]
    pg = next((b for b in backends if b.name == "postgis"), None)
    pg_note = ""
    if pg is not None:
        load = pg.results["load"]
        pg_note = (
            " The PostgreSQL server is the tests' throwaway cluster (tests/postgis.py: fsync, "
            "synchronous_commit and full_page_writes off; shared_buffers "
            f"{load['shared_buffers']}, work_mem {load['work_mem']}), so its writes are faster "
            "than with a durable configuration. The annotations table with its indexes takes "
            f"{load['table_bytes'] / 2**30:.2f} GiB, its GiST index "
            f"{load['gist_bytes'] / 2**20:.0f} MiB."
        )
    sqlite_load = first.results["load"]

    return render(
        "annotations.md.j2",
        res=res,
        count=count,
        first=first,
        floor=floor,
        floor_p50=floor_p50,
        targets=targets,
        info=info,
        queries=queries,
        same=same,
        concurrency=concurrency,
        breakdown=breakdown,
        gc_rows=gc_rows,
        gc_requests=gc_requests,
        query_keys=keys_table("inprocess"),
        query_top=top_table("inprocess"),
        plans=plans,
        loads=loads,
        insert_keys=keys_table("insert_profile"),
        insert_top=top_table("insert_profile"),
        memory=memory,
        peaks=peaks,
        observations=observations_for(bench, res, sums, floor_p50),
        errors=errors,
        boxes=len(boxes),
        counts=counts,
        widths=widths,
        median_width=float(np.median(widths)),
        pg_note=pg_note,
        sqlite_load=sqlite_load,
        scale=bench.scale,
        smoke=bench.options.smoke,
        c={
            "SITES": bench.scale.sites,
            "CAPTURES": CAPTURES,
            "IMAGE_PX": IMAGE_PX,
            "IMAGE_HALF_M": IMAGE_HALF_M,
            "KIND_SHARE": KIND_SHARE,
            "CLUSTERED_SHARE": CLUSTERED_SHARE,
            "CLUSTERS": CLUSTERS,
            "SPREAD_M": SPREAD_M,
            "NOTES_SHARE": NOTES_SHARE,
            "DELETED_SHARE": DELETED_SHARE,
            "CHUNK": CHUNK,
            "QUERY_TOLERANCE": QUERY_TOLERANCE,
            "WORKERS": WORKERS,
            "QUERY_LIMIT": QUERY_LIMIT,
            "CONCURRENCY": CONCURRENCY,
            "NPROC": NPROC,
            "DISTURBED": DISTURBED,
        },
    )


def observations_for(
    bench: Bench, res: dict[str, Any], sums: dict[str, Summary], floor_p50: float
) -> list[str]:
    found = []
    for b in res["backends"]:
        s, ip = sums[b.name], b.results["inprocess"]
        total = ip["search"] + ip["features"] + ip["dumps"]
        rest = s.p50 - total
        tail = (
            f"the remaining {ms(rest)} ms is HTTP, authentication and moving {s.mean_kib:.0f} KiB."
            if rest >= 2
            else "HTTP and authentication add nothing measurable on top (the in-process "
            f"medians of {bench.scale.breakdown_boxes} boxes already reach the HTTP p50)."
        )
        found.append(
            f"{b.title}: of {ms(s.p50)} ms per query over HTTP, the database's part (the SQL "
            f"on the driver) is {ms(ip['sql'])} ms; rows and the exact test add "
            f"{ms(ip['search'] - ip['sql'])} ms, the reports and `feature_text` "
            f"{ms(ip['features'])} ms and joining the body {ms(ip['dumps'])} ms; {tail}"
        )
    for b in res["backends"]:
        http, g = b.results["http"], b.results["inprocess"]["gc"]
        answers = [a.ms for a in http["pass1"] + http["pass2"]]
        slow = sum(1 for value in answers if value > 1.4 * sums[b.name].p50)
        found.append(
            f"{b.title}: {slow} of {len(answers)} requests over HTTP took more than 1.4x the "
            f"median. In-process, {g['full_collections']} full garbage collections in "
            f"{g['requests']} requests took {ms(g['full_p50_ms'])} ms each (median); without "
            f"the time in the collector p95 would be {ms(g['p95_without_gc_ms'])} instead of "
            f"{ms(g['p95_ms'])} ms."
        )
    query_ms = percentile([b["query_ms"] for b in res["floor"]["per_box"]], 50)
    found.append(
        f"The floor's {ms(floor_p50)} ms is almost all GeoPandas' `to_json` (a Python loop "
        f"over rows); its index query takes {ms(query_ms)} ms."
    )
    for b in res["backends"]:
        ins = b.results["http"]["inserts"]
        found.append(
            f"{b.title}: the API stores {ins['features_per_s']:,.0f} features/s in batches of "
            f"{ins['batch_size']:,}, against {b.results['load']['rows_per_s']:,.0f} rows/s "
            "for the direct load."
        )
    return found


def ensure_index_link(bench: Bench) -> None:
    """docs/benchmarks.md holds a short section pointing at this benchmark's own page."""
    write_section("annotations", "# Annotation storage\n\n" + INDEX_LINE, bench.options.doc)


def raw_results(res: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Answer):
            return value.__dict__
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {
        "count": res["count"],
        "floor": plain({k: v for k, v in res["floor"].items()}),
        "backends": {b.name: plain(b.results) for b in res["backends"]},
    }


# ----------------------------------------------------------------------------- main
