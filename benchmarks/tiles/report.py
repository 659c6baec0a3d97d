"""The tile benchmark's report: this run's figures as rows and sentences for
benchmarks/templates/tiles.md.j2."""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from typing import Any

import numpy as np
import rasterio

from benchmarks.common.report import ms, pct, render, verdict
from benchmarks.common.servers import BLAS_VARS
from benchmarks.common.system import machine
from benchmarks.common.timing import DISTURBED, Noise, percentile
from benchmarks.tiles.inprocess import MAX_ATTEMPTS, RETRY_BUDGET_S
from benchmarks.tiles.over_http import BENCH_VENV, LoadRun
from benchmarks.tiles.source import (
    CENTRE_LON_LAT,
    CRS,
    GSD,
    MIN_OVERLAP,
    WARM_ZOOMS,
    WORKERS,
    ZOOMS,
    Prepared,
    Scale,
    Tile,
)

TARGET_INPROCESS_MS = {"png": 15.0, "jpg": 6.0}
TARGET_RATIO = {"png": 3.0, "jpg": 5.0}
TARGET_CACHE_MS = 2.0
INPROC_TITLES = {
    "app": "app TileRenderer",
    "riotiler": "rio-tiler Reader per tile",
}

#: The app's figures under the previous serving setup (gunicorn gthread, 2 workers x 4
#: threads), as published in docs/benchmarks.md from the run of 2026-11-25 17:58 UTC on a
#: quiet machine (0% other CPU): tiles/s by (format, concurrency).
PREVIOUS_GTHREAD_RUN = "2026-11-25 17:58 UTC"
PREVIOUS_GTHREAD_RATE = {("png", 1): 159, ("png", 4): 340, ("jpg", 1): 196, ("jpg", 4): 359}


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version(), "GDAL (app venv)": rasterio.__gdal_version__}
    for name in ("rasterio", "rio-tiler", "morecantile", "Pillow", "numpy", "gunicorn"):
        found[name] = version(name)
    for name in ("waitress", "Flask"):
        found[name] = version(name)
    script = (
        "import json, rasterio; from importlib.metadata import version as v; "
        "print(json.dumps({'titiler.application': v('titiler.application'), "
        "'titiler.core': v('titiler.core'), 'uvicorn': v('uvicorn'), "
        "'fastapi': v('fastapi'), 'rio-tiler (TiTiler venv)': v('rio-tiler'), "
        "'GDAL (TiTiler venv)': rasterio.__gdal_version__}))"
    )
    peer_python = BENCH_VENV / "bin" / "python"
    if not peer_python.exists():  # the smoke run on a fresh clone: no TiTiler venv made yet
        return found
    probe = subprocess.run(
        [str(peer_python), "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        found.update(json.loads(probe.stdout))
    return found


@dataclass
class Results:
    when: datetime
    scale: Scale
    spec: dict[str, Any]
    prepared: Prepared
    inproc: dict[tuple[str, str], dict[str, Any]]
    runs: list[LoadRun]
    titles: dict[str, str]
    cache: dict[str, Any]
    route: str
    elapsed_s: float
    noise: Noise
    peer_missing: str | None = None

    def run(self, server: str, fmt: str, conc: int) -> LoadRun:
        return next(r for r in self.runs if (r.server, r.fmt, r.concurrency) == (server, fmt, conc))

    def ratio(self, server: str, fmt: str, conc: int) -> float:
        ours, theirs = self.run(server, fmt, conc), self.run("titiler", fmt, conc)
        return ours.rate / theirs.rate if theirs.rate else float("nan")


def target_rows(res: Results) -> list[list[str]]:
    formats, repeats = res.scale.formats, res.scale.cache_repeats
    rows: list[list[str]] = []
    for fmt in formats:
        f = res.inproc[("app", fmt)]
        first, again = percentile(f["pass1"], 50), percentile(f["pass2"], 50)
        goal = TARGET_INPROCESS_MS[fmt]
        rows.append(
            [
                f"in-process {fmt.upper()} median, first render",
                f"≤ {goal:g} ms",
                f"{ms(first)} ms (blocks cached: {ms(again)} ms)",
                verdict(first <= goal),
            ]
        )
    for fmt in formats:
        for conc in res.scale.concurrency:
            app, ti = res.run("app", fmt, conc), res.run("titiler", fmt, conc)
            ratio = res.ratio("app", fmt, conc)
            rows.append(
                [
                    f"HTTP {fmt.upper()} tiles/s app/TiTiler, {WORKERS} workers each, "
                    f"concurrency {conc}",
                    f"≥ {TARGET_RATIO[fmt]:g}x",
                    f"{ratio:.2f}x ({app.rate:.0f} vs {ti.rate:.0f} tiles/s)",
                    verdict(ratio >= TARGET_RATIO[fmt]),
                ]
            )
    for fmt in formats:
        hit, nm = res.cache[fmt]["hit_ms"], res.cache[fmt]["not_modified_ms"]
        rows.append(
            [
                f"repeated {fmt.upper()} tile from the app's cache, median of {repeats}",
                f"< {TARGET_CACHE_MS:g} ms",
                f"{ms(hit)} ms (304: {ms(nm)} ms)",
                verdict(hit < TARGET_CACHE_MS),
            ]
        )
    return rows


def inproc_rows(res: Results) -> list[list[Any]]:
    rows = []
    for kind, title in INPROC_TITLES.items():
        for fmt in res.scale.formats:
            f = res.inproc[(kind, fmt)]
            rows.append(
                [
                    title,
                    fmt.upper(),
                    ms(f["first_ms"]),
                    ms(percentile(f["pass1"], 50)),
                    ms(percentile(f["pass1"], 90)),
                    ms(percentile(f["pass2"], 50)),
                    ms(percentile(f["pass2"], 90)),
                    f"{f['cpu_per_wall']:.2f}",
                    f"{f['mean_bytes'] / 1024:.1f}",
                    f["errors"],
                    pct(f["other_share"]),
                ]
            )
    return rows


def zoom_rows(res: Results) -> list[list[Any]]:
    tiles = [Tile(*t) for t in res.spec["tiles"]]
    rows = []
    for z in ZOOMS:
        idx = [i for i, t in enumerate(tiles) if t.z == z]
        row: list[Any] = [z, len(idx)]
        for kind in INPROC_TITLES:
            for fmt in res.scale.formats:
                row.append(ms(percentile([res.inproc[(kind, fmt)]["pass1"][i] for i in idx], 50)))
        rows.append(row)
    return rows


def http_rows(res: Results, runs: Sequence[LoadRun], with_ratio: bool = False) -> list[list[Any]]:
    rows = []
    for r in runs:
        row: list[Any] = [
            res.titles[r.server],
            r.fmt.upper(),
            r.concurrency,
            f"{r.rate:.1f}",
            ms(percentile(r.latencies, 50)),
            ms(percentile(r.latencies, 90)),
            ms(percentile(r.latencies, 99)),
            ms(r.server_cpu_ms),
            " / ".join(f"{share:.0%}" for share in r.worker_split) or "-",
            f"{np.mean(r.sizes) / 1024:.1f}" if r.sizes else "-",
            r.errors,
            pct(r.other_share),
        ]
        if with_ratio:
            row.insert(4, f"{res.ratio(r.server, r.fmt, r.concurrency):.2f}x")
        rows.append(row)
    return rows


def ratio_rows(res: Results) -> list[list[Any]]:
    rows = []
    for fmt in res.scale.formats:
        for conc in res.scale.concurrency:
            app, ti = res.run("app", fmt, conc), res.run("titiler", fmt, conc)
            ratio = res.ratio("app", fmt, conc)
            rows.append(
                [
                    fmt.upper(),
                    conc,
                    f"{app.rate:.1f}",
                    f"{ti.rate:.1f}",
                    f"{ratio:.2f}x",
                    f"≥ {TARGET_RATIO[fmt]:g}x",
                    verdict(ratio >= TARGET_RATIO[fmt]),
                ]
            )
    return rows


def serving_rows(res: Results) -> list[list[Any]]:
    """The app under its serving setup against the one it had before issue 10."""
    rows = []
    for fmt in res.scale.formats:
        for conc in res.scale.concurrency:
            new, old = res.run("app", fmt, conc), res.run("app-gthread", fmt, conc)
            rows.append(
                [
                    fmt.upper(),
                    conc,
                    f"{new.rate:.1f}",
                    f"{old.rate:.1f}",
                    f"{new.rate / old.rate:.2f}x" if old.rate else "-",
                    f"{ms(percentile(new.latencies, 50))} / {ms(percentile(old.latencies, 50))}",
                    f"{ms(percentile(new.latencies, 99))} / {ms(percentile(old.latencies, 99))}",
                    f"{ms(new.server_cpu_ms)} / {ms(old.server_cpu_ms)}",
                    PREVIOUS_GTHREAD_RATE.get((fmt, conc), "-"),
                    f"{pct(new.other_share)} / {pct(old.other_share)}",
                ]
            )
    return rows


def cache_rows(res: Results) -> list[list[Any]]:
    cache = res.cache
    return [
        [
            fmt.upper(),
            "/".join(str(v) for v in cache[fmt]["tile"]),
            ms(cache[fmt]["miss_ms"]),
            ms(cache[fmt]["hit_ms"]),
            ms(cache[fmt]["hit_p90_ms"]),
            ms(cache[fmt]["not_modified_ms"]),
            ms(cache[fmt]["not_modified_p90_ms"]),
            cache[fmt]["errors"],
        ]
        for fmt in res.scale.formats
    ]


def observations(res: Results) -> list[str]:
    """Plain statements about this run's figures, each only when the figures show it."""
    formats, concurrency = res.scale.formats, res.scale.concurrency
    notes: list[str] = []
    for fmt in formats:
        app = res.inproc[("app", fmt)]
        if app["cpu_per_wall"] > 1.3:
            notes.append(
                f"In-process {fmt.upper()}: the app's renderer kept {app['cpu_per_wall']:.1f} "
                "cores busy (CPU/wall) while rendering one tile at a time: helper threads (such "
                "as NumPy's OpenBLAS pool) burn CPU that other workers could use."
            )
    conc = max(concurrency)
    for fmt in formats:
        run, one = res.run("app", fmt, conc), res.run("app-1t", fmt, conc)
        if one.rate > 1.1 * run.rate:
            notes.append(
                f"HTTP {fmt.upper()} concurrency {conc}: with one thread per worker the app "
                f"served {one.rate:.0f} tiles/s ({res.ratio('app-1t', fmt, conc):.2f}x "
                f"TiTiler) instead of {run.rate:.0f} with 4, at {ms(one.server_cpu_ms)} ms "
                f"of server CPU per tile instead of {ms(run.server_cpu_ms)}."
            )
    for fmt in formats:
        in_process = percentile(res.inproc[("app", fmt)]["pass1"], 50)
        run = res.run("app", fmt, 1)
        notes.append(
            f"HTTP {fmt.upper()} concurrency 1: the app's workers spent {ms(run.server_cpu_ms)} "
            f"ms of CPU per tile against a {ms(in_process)} ms median in-process render; "
            f"a cached tile costs {ms(res.cache[fmt]['hit_ms'])} ms end to end."
        )
    for r in res.runs:
        if r.concurrency > 1 and r.worker_split and r.worker_split[0] > 0.9:
            notes.append(
                f"{res.titles[r.server]}, {r.fmt.upper()} at concurrency {r.concurrency}: one "
                f"worker did {r.worker_split[0]:.0%} of the server's CPU work, so the "
                f"{WORKERS} workers acted as one: a keep-alive connection stays with the worker "
                "that accepted it, and that worker had accepted (nearly) all of them."
            )
    pairs = [
        (res.run("app", f, c), res.run("app-gthread", f, c)) for f in formats for c in concurrency
    ]
    cpu = [now.server_cpu_ms / old.server_cpu_ms for now, old in pairs if old.server_cpu_ms > 0]
    rate = [now.rate / old.rate for now, old in pairs if old.rate > 0]
    if cpu and rate:
        notes.append(
            "Serving setup (waitress channels in gunicorn's processes, against gthread): over "
            f"the {len(pairs)} format and concurrency runs the app's server CPU per tile was "
            f"{min(cpu):.2f}x to {max(cpu):.2f}x, and its tiles/s {min(rate):.2f}x to "
            f"{max(rate):.2f}x, what the same app gave under gthread in this run."
        )
    for fmt in formats:
        two, one = res.run("titiler", fmt, 1), res.run("titiler-1w", fmt, 1)
        gap = percentile(two.latencies, 50) - percentile(one.latencies, 50)
        if gap > 25:
            notes.append(
                f"TiTiler {fmt.upper()} at concurrency 1: median latency "
                f"{ms(percentile(two.latencies, 50))} ms with {WORKERS} uvicorn workers but "
                f"{ms(percentile(one.latencies, 50))} ms with one, for about the same CPU per "
                f"tile ({ms(two.server_cpu_ms)} and {ms(one.server_cpu_ms)} ms). The "
                f"{ms(gap)} ms gap is idle time, consistent with a delayed-ACK stall between "
                "the headers and the body of each response, so the concurrency-1 ratios "
                "flatter the app; against one TiTiler worker the app's "
                f"rate is {res.run('app', fmt, 1).rate / one.rate:.2f}x."
            )
    return notes


def load_figures(res: Results) -> dict[str, Any] | None:
    """How disturbed the run was, when other people's processes loaded the machine."""
    shares = sorted(
        [r.other_share for r in res.runs]
        + [f["other_share"] for f in res.inproc.values()]
        + [res.cache["other_share"]]
    )
    if shares[-1] <= DISTURBED:
        return None
    return {
        "busy": sum(1 for share in shares if share > DISTURBED),
        "count": len(shares),
        "low": shares[0],
        "high": shares[-1],
        "median": percentile(shares, 50),
    }


def render_report(res: Results) -> str:
    spec, formats = res.spec, res.scale.formats
    cache = res.cache
    errors = sum(r.errors for r in res.runs) + sum(f["errors"] for f in res.inproc.values())
    errors += sum(cache[fmt]["errors"] for fmt in formats)
    examples = [e for r in res.runs for e in r.error_examples][:5]
    examples += [e for f in res.inproc.values() for e in f["error_examples"]][:5]
    vers = versions()
    shares = [r.other_share for r in res.runs] + [f["other_share"] for f in res.inproc.values()]
    extra_runs = [r for r in res.runs if r.server not in ("app", "titiler", "app-gthread")]
    main_runs = [
        res.run(name, fmt, conc)
        for fmt in formats
        for conc in res.scale.concurrency
        for name in ("app", "titiler")
    ]
    first_rows = [
        [
            res.titles[r.server],
            r.fmt.upper(),
            r.concurrency,
            f"{r.start_s:.2f}",
            ms(r.first_ms),
            r.first_status,
            r.attempts,
        ]
        for r in res.runs
    ]
    return render(
        "tiles.md.j2",
        res=res,
        scale=res.scale,
        spec=spec,
        tiles=len(spec["tiles"]),
        machine=machine(),
        versions=vers,
        load=load_figures(res),
        targets=target_rows(res),
        inproc=inproc_rows(res),
        zoom_formats=[
            f"{short} {fmt.upper()}" for short in ("app", "rio-tiler") for fmt in formats
        ],
        zooms=zoom_rows(res),
        agreement=res.inproc[("app", formats[0])].get("agreement", {}),
        http=http_rows(res, main_runs),
        ratios=ratio_rows(res),
        extra=http_rows(res, extra_runs, with_ratio=True),
        serving=serving_rows(res),
        previous_gthread_run=PREVIOUS_GTHREAD_RUN,
        first=first_rows,
        cache=cache_rows(res),
        observations=observations(res),
        errors=errors,
        examples=examples,
        max_share=max(shares),
        constants={
            "GSD": GSD,
            "CRS": CRS,
            "CENTRE_LON_LAT": CENTRE_LON_LAT,
            "MIN_OVERLAP": MIN_OVERLAP,
            "WARM_ZOOMS": WARM_ZOOMS,
            "WORKERS": WORKERS,
            "BLAS_VARS": BLAS_VARS,
            "DISTURBED": DISTURBED,
            "MAX_ATTEMPTS": MAX_ATTEMPTS,
            "RETRY_BUDGET_S": RETRY_BUDGET_S,
        },
    )
