"""The annotation benchmark in-process: the listing's steps timed one by one, Python's
garbage collector during requests, cProfiles of a query and of a POST, and a naive SQL scan
that refuses every index."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from sqlalchemy import Select
from sqlalchemy.orm import Session

from annotations.annotation import Annotation, feature_text
from annotations.catalogue.users import Role
from annotations.newsroom.links import reports_by_annotation
from annotations.search import Filters, search_rows, statement
from annotator import create_app, services
from benchmarks.annotations.backends import Backend
from benchmarks.annotations.data import (
    COL,
    COLUMNS,
    QUERY_LIMIT,
    Bench,
    Generator,
    feature_for_api,
)
from benchmarks.annotations.over_http import bbox_path
from benchmarks.common.servers import ROOT
from benchmarks.common.timing import percentile


def listing(session: Session, filters: Filters) -> Select[Any]:
    """The statement `search_rows` sends (the table's columns, no ORM objects)."""
    return statement(session, filters).with_only_columns(
        *Annotation.__table__.columns, maintain_column_froms=True
    )


def bbox_of(box: Sequence[float]) -> tuple[float, float, float, float]:
    west, south, east, north = box
    return (west, south, east, north)


def shown(path: Path) -> str:
    """A path as the report shows it: from the repository's root when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def inprocess(bench: Bench, backend: Backend, boxes: list[list[float]]) -> dict[str, Any]:
    """The app's own search and serialisation, timed step by step in this process as the
    listing (`GET /api/v1/annotations`) runs them, the query plan, and a cProfile of the whole
    request through Flask's test client."""
    app = create_app({"DATA_DIR": str(backend.data_dir), "DATABASE_URL": backend.url})
    database = services.database(app)
    names = {label.id: label.name for label in services.taxonomy(app)}
    steps: dict[str, list[float]] = {"sql": [], "search": [], "features": [], "dumps": []}
    chosen = boxes[: bench.scale.breakdown_boxes]
    plan: list[str] = []
    try:
        with app.app_context():
            for repeat in range(2):
                for box in chosen:
                    filters = Filters(bbox=bbox_of(box), limit=QUERY_LIMIT)
                    with database.read() as session:
                        query = listing(session, filters).limit(QUERY_LIMIT + 1)
                        compiled = query.compile(
                            dialect=session.get_bind().dialect,
                            compile_kwargs={"literal_binds": True},
                        )
                        sql = str(compiled)
                        t0 = time.perf_counter()
                        raw = session.connection().exec_driver_sql(sql).fetchall()
                        t1 = time.perf_counter()
                    with database.read() as session:
                        t2 = time.perf_counter()
                        rows, _ = search_rows(session, filters)
                        t3 = time.perf_counter()
                        ids = [row.id for row in rows]
                        reports = reports_by_annotation(session, ids, Role.analyst)
                        features = [
                            feature_text(row, names.get(row.label), reports.get(row.id))
                            for row in rows
                        ]
                        t4 = time.perf_counter()
                    body = (
                        '{"type":"FeatureCollection","features":[' + ",".join(features) + "],"
                        f'"numberReturned":{len(features)},"links":[]}}'
                    )
                    t5 = time.perf_counter()
                    assert body.endswith("}")
                    if repeat:
                        steps["sql"].append((t1 - t0) * 1000)
                        steps["search"].append((t3 - t2) * 1000)
                        steps["features"].append((t4 - t3) * 1000)
                        steps["dumps"].append((t5 - t4) * 1000)
                    assert len(raw) >= len(rows)
            with database.read() as session:
                first = Filters(bbox=bbox_of(chosen[0]), limit=QUERY_LIMIT)
                query = listing(session, first)
                sql = str(
                    query.limit(QUERY_LIMIT + 1).compile(
                        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
                    )
                )
                explain = (
                    "EXPLAIN QUERY PLAN " if backend.name == "sqlite" else "EXPLAIN (ANALYZE) "
                )
                result = session.connection().exec_driver_sql(explain + sql).fetchall()
                plan = [str(r[-1]) if backend.name == "sqlite" else str(r[0]) for r in result]
        client = app.test_client()
        headers = {"Authorization": f"Bearer {backend.token}"}
        for box in chosen[:2]:
            client.get(bbox_path(box), headers=headers)
        gc_figures = collector_pauses(client, headers, boxes)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for box in chosen:
            response = client.get(bbox_path(box), headers=headers)
            assert response.status_code == 200, response.data[:200]
        profiler.disable()
        profiled_s = time.perf_counter() - started
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        profile_file = bench.out / f"profile-{backend.name}.txt"
        profile_file.write_text(
            f"cProfile of GET /api/v1/annotations?bbox=...&limit={QUERY_LIMIT} on "
            f"{backend.title}, {len(chosen)} boxes of about {bench.scale.query_target} "
            "features, through "
            f"Flask's test client in one process\n\n" + stream.getvalue()
        )
    finally:
        database.dispose()
    figures: dict[str, Any] = {name: percentile(values, 50) for name, values in steps.items()}
    figures["plan"] = plan
    figures["sql_text"] = sql
    figures["profile_file"] = shown(profile_file)
    figures["top_functions"] = top_functions(stats)
    figures["keys"] = key_functions(stats, QUERY_KEYS, len(chosen))
    figures["profiled_ms"] = profiled_s * 1000 / len(chosen)
    figures["gc"] = gc_figures
    return figures


def collector_pauses(
    client: Any, headers: dict[str, str], boxes: list[list[float]]
) -> dict[str, Any]:
    """Every box twice through the test client, timing Python's cyclic garbage collector
    (gc.callbacks) inside each request."""
    spent: list[float] = []
    full: list[float] = []
    began = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            took = (time.perf_counter() - began[0]) * 1000
            spent.append(took)
            if info["generation"] == 2:
                full.append(took)

    totals: list[float] = []
    in_gc: list[float] = []
    gc.callbacks.append(callback)
    try:
        for _ in range(2):
            for box in boxes:
                before = sum(spent)
                started = time.perf_counter()
                response = client.get(bbox_path(box), headers=headers)
                totals.append((time.perf_counter() - started) * 1000)
                in_gc.append(sum(spent) - before)
                assert response.status_code == 200
    finally:
        gc.callbacks.remove(callback)
    without = [t - g for t, g in zip(totals, in_gc, strict=True)]
    return {
        "requests": len(totals),
        "p50_ms": percentile(totals, 50),
        "p95_ms": percentile(totals, 95),
        "p50_without_gc_ms": percentile(without, 50),
        "p95_without_gc_ms": percentile(without, 95),
        "gc_share": sum(in_gc) / sum(totals),
        "full_collections": len(full),
        "full_p50_ms": percentile(full, 50),
        "tracked_objects": len(gc.get_objects()),
    }


def top_functions(stats: pstats.Stats, count: int = 12) -> list[dict[str, Any]]:
    """The functions with the most own time in a cProfile, as share of the total."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(value[2] for value in entries.values()) or 1.0
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:count]
    found = []
    for (filename, line, name), value in ranked:
        where = Path(filename)
        short = f"{where.parent.name}/{where.name}:{line}" if line else filename
        found.append(
            {
                "function": name,
                "where": short,
                "calls": value[1],
                "own_share": value[2] / total,
                "cum_share": value[3] / total,
            }
        )
    return found


#: (package, function, title): what a query request spends its time in (cumulative); the
#: package is matched as a folder of the file's path, so moving a module keeps its row
QUERY_KEYS = (
    ("annotator", "current_user", "authentication (token lookup)"),
    ("annotations", "search_rows", "search_rows(): SQL and exact test"),
    ("annotations", "meets", "- meets(): the exact test per row"),
    ("annotations", "process_result_value", "- UTCDateTime per value"),
    ("annotations", "reports_by_annotation", "reports_by_annotation(): the page's reports"),
    ("annotations", "feature_text", "feature_text() per row"),
)
#: the same for a POST of a FeatureCollection
INSERT_KEYS = (
    ("annotator", "json_body", "reading the JSON body"),
    ("annotator", "validate", "checking the body (FeatureInput per feature)"),
    ("annotations", "parse_geometry", "- parse_geometry (checks, set_precision)"),
    ("annotations", "create", "store.create() per feature"),
    ("annotations", "_apply", "- _apply()"),
    ("annotations", "footprint", "-- Image.footprint (json.loads + shape)"),
    ("annotations", "measure", "-- measure() (pyproj)"),
    ("sqlalchemy", "flush", "- session.flush() per feature"),
    ("annotations", "_snapshot", "- _snapshot() for the revision"),
    ("annotations", "record", "- history.record() (json.dumps)"),
    ("annotator", "feature_of", "feature_of() for the answer"),
    ("sqlalchemy", "commit", "commit"),
)


def key_functions(
    stats: pstats.Stats, keys: Sequence[tuple[str, str, str]], requests: int
) -> list[dict[str, Any]]:
    """Cumulative ms per request spent in each of `keys` (outermost calls only)."""
    entries = stats.stats  # type: ignore[attr-defined]
    found = []
    for package, name, title in keys:
        cumulative = calls = 0.0
        for (filename, _line, function), value in entries.items():
            if function == name and f"/{package}/" in filename:
                cumulative += value[3]
                calls += value[1]
        found.append(
            {"title": title, "ms": cumulative * 1000 / requests, "calls": calls / requests}
        )
    return found


def profile_insert(bench: Bench, backend: Backend) -> dict[str, Any]:
    """A cProfile of one POST of Scale.api_batch features through Flask's test client (after
    the measured runs, so the extra rows change nothing that is measured)."""
    batch = bench.scale.api_batch
    app = create_app({"DATA_DIR": str(backend.data_dir), "DATABASE_URL": backend.url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {backend.token}"}
    generator = Generator(backend.catalogue)
    batches = list(generator.chunks(2 * batch, stream=8, chunk=batch))
    bodies = [
        {"type": "FeatureCollection", "features": [feature_for_api(r) for r in rows]}
        for rows in batches
    ]
    try:
        client.post("/api/v1/annotations", json=bodies[0], headers=headers)  # warm-up
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        response = client.post("/api/v1/annotations", json=bodies[1], headers=headers)
        profiler.disable()
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.data[:300]
    finally:
        services.database(app).dispose()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(50)
    profile_file = bench.out / f"profile-{backend.name}-insert.txt"
    profile_file.write_text(
        f"cProfile of POST /api/v1/annotations with a FeatureCollection of {batch} "
        f"features on {backend.title}, through Flask's test client in one process\n\n"
        + stream.getvalue()
    )
    return {
        "ms": elapsed * 1000,
        "profile_file": shown(profile_file),
        "top_functions": top_functions(stats),
        "keys": key_functions(stats, INSERT_KEYS, 1),
    }


def naive_sql(bench: Bench, backend: Backend, boxes: list[list[float]]) -> dict[str, Any]:
    """The same bounding-box test on the plain min/max columns with every index refused:
    a full table scan (SQLite `NOT INDEXED`, PostgreSQL with index and bitmap scans off)."""
    chosen = boxes[: bench.scale.naive_boxes]
    table = "annotations NOT INDEXED" if backend.name == "sqlite" else "annotations"
    # only constants and floats of our own go into this text
    template = (
        f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE deleted_at IS NULL "  # noqa: S608
        "AND min_lon <= {e!r} AND max_lon >= {w!r} AND min_lat <= {n!r} AND max_lat >= {s!r} "
        f"ORDER BY created_at, id LIMIT {QUERY_LIMIT + 1}"
    )
    times: list[float] = []
    counts: list[int] = []
    connection: Any
    if backend.name == "sqlite":
        connection = sqlite3.connect(f"file:{backend.sqlite_path}?mode=ro", uri=True)
    else:
        connection = psycopg.connect(backend.libpq_url)
        for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            connection.execute(f"SET {setting} = off")
    try:
        for w, s, e, n in chosen:
            sql = template.format(w=float(w), s=float(s), e=float(e), n=float(n))
            t0 = time.perf_counter()
            rows = connection.execute(sql).fetchall()
            geoms = shapely.from_geojson([r[COL["geometry_geojson"]] for r in rows])
            hits = int(shapely.intersects(geoms, shapely.box(w, s, e, n)).sum())
            times.append((time.perf_counter() - t0) * 1000)
            counts.append(hits)
    finally:
        connection.close()
    return {
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "mean_count": float(np.mean(counts)),
        "boxes": len(chosen),
    }


# ------------------------------------------------------------------------ HTTP runs
