"""Workspace benchmark: the image page with 5,000 annotations in view, in headless Chromium.

`make bench` runs it (`python -m benchmarks.workspace`) with the app's venv (it is also
`make bench-workspace`); `--smoke` runs every step with 200 annotations, one page load (no
warm-up), a short pan and one save. It:

1. writes a synthetic 2000 x 2000, 3-band, 0.5 m GeoTIFF in UTM 36N (a 1 km square) into
   benchmarks/out/workspace/, ingests it into a fresh data folder there, and adds 5,000
   annotations spread over it through the API (rotated boxes, polygons, lines and points
   with labels of every branch), so all 5,000 are in view when the page opens;
2. serves the app as in production (`annotator serve`, gunicorn, 2 workers) on 127.0.0.1;
3. drives Debian's Chromium (Playwright, headless, the same flags as the browser tests) at
   1366 x 768 and measures, over several page loads:
   - first render: from navigation start until the page has drawn all 5,000 annotations on
     its canvas and painted that frame (`body[data-annotations-rendered]`, set two animation
     frames after the last layer was added);
   - pan frames: the intervals between animation frames while the map is dragged with real
     mouse events (whole view, then zoomed in), including the redraw when the drag ends;
   - save: from the click on Save (a capture-phase listener) until the POST that stores the
     annotation has its response (Resource Timing `responseEnd`), for boxes drawn with the
     mouse and labelled through the search;
4. sends 500 of the 5,000 to review and, signed in as an editor, opens the review queue
   (`/review`, every row with its image chip) over several page loads: the document's
   `responseEnd` (the server built 500 rows), DOM ready (every row parsed and the queue's
   script run) and the load event (the chips in view drawn);
5. prints the figures and rewrites the `workspace` section of docs/benchmarks.md.

The machine may be shared: the CPU other processes used during the run is reported, and a
disturbed page load is measured again (bounded). Every process it starts is stopped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from playwright.sync_api import ViewportSize, sync_playwright
from rasterio.transform import from_origin
from shapely.geometry import mapping
from sqlalchemy import update

from annotations.annotation import Annotation
from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role, add_user, create_token, get_user
from annotations.measure import GEOD, box_polygon
from annotations.schema import upgrade
from annotator import create_app, services
from annotator.intake import Upload, import_images
from benchmarks.common.options import Workplace, parse
from benchmarks.common.report import render, write_section
from benchmarks.common.servers import Server, app_server
from benchmarks.common.system import machine
from benchmarks.common.timing import (
    NPROC,
    TRACKED_GROUPS,
    Noise,
    group_pids,
    log,
    machine_busy_s,
    own_cpu_s,
    percentile,
    process_cpu_s,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
USER, PASSWORD = "bench-analyst", "bench password 5000"
EDITOR = "bench-editor"

SIZE = 2000
GSD = 0.5
ORIGIN = (768000.0, 3921500.0)  # UTM 36N, west/north edge; near Hmeimim
SEED = 20241213
TARGETS = {"first_render_ms": 1500.0, "pan_p95_ms": 50.0, "save_ms": 150.0, "review_ms": 1000.0}


@dataclass(frozen=True)
class Scale:
    """The counts of a run: the published benchmark, or the smoke mode's tiny ones."""

    count: int = 5000
    loads: int = 5
    pan_steps: int = 60
    saves: int = 10
    review: int = 500


FULL = Scale()
SMOKE = Scale(count=200, loads=1, pan_steps=5, saves=1, review=20)


@dataclass(frozen=True)
class Bench(Workplace):
    scale: Scale

    @property
    def source(self) -> Path:
        return self.out / f"workspace-{SIZE}px-{GSD}m-utm36n.tif"


# Capture-phase click time on Save, and a frame recorder, installed before any page script.
INIT_SCRIPT = """
window.__bench = {frames: [], recording: false, saveClicks: []};
document.addEventListener("click", (event) => {
  if (event.target && event.target.id === "save") window.__bench.saveClicks.push(performance.now());
}, true);
(function tick(now) {
  if (window.__bench.recording) window.__bench.frames.push(now);
  requestAnimationFrame(tick);
})(0);
"""


def descendants() -> list[int]:
    """Every live process below this one (Playwright's driver, Chromium and its helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Meter:
    """The share of the machine other processes used while it ran; ours are this process,
    the browser below it and the app server's process group (CpuMeter cannot see the
    browser: it is not a child this process has waited for)."""

    def __init__(self) -> None:
        self.busy, self.own, self.ours = machine_busy_s(), own_cpu_s(), self._ours()
        self.started = time.monotonic()

    @staticmethod
    def _ours() -> dict[int, float]:
        pids = set(descendants()) | {pid for group in TRACKED_GROUPS for pid in group_pids(group)}
        return {pid: process_cpu_s(pid) for pid in pids}

    def other_share(self) -> float:
        wall = time.monotonic() - self.started
        ours = sum(cpu - self.ours.get(pid, 0.0) for pid, cpu in self._ours().items())
        other = (machine_busy_s() - self.busy) - (own_cpu_s() - self.own) - ours
        return max(0.0, other / (wall * NPROC)) if wall > 0 else 0.0


def write_image(source: Path) -> None:
    if source.exists():
        return
    rng = np.random.default_rng(SEED)
    base = rng.integers(90, 160, (3, SIZE // 8, SIZE // 8), dtype=np.uint8)
    data = base.repeat(8, axis=1).repeat(8, axis=2)  # blocky, so it compresses like imagery
    profile = {
        "driver": "GTiff",
        "count": 3,
        "height": SIZE,
        "width": SIZE,
        "dtype": "uint8",
        "crs": "EPSG:32636",
        "transform": from_origin(*ORIGIN, GSD, GSD),
    }
    with rasterio.open(source, "w", **profile) as dataset:
        dataset.write(data)


def features(image: Any, labels: list[str], count: int) -> list[dict[str, Any]]:
    """`count` annotations spread over the image: mostly rotated boxes, some polygons, lines
    and points, with labels of every branch."""
    rng = np.random.default_rng(SEED)
    margin_lon = (image.max_lon - image.min_lon) * 0.05
    margin_lat = (image.max_lat - image.min_lat) * 0.05
    made = []
    for index in range(count):
        lon = rng.uniform(image.min_lon + margin_lon, image.max_lon - margin_lon)
        lat = rng.uniform(image.min_lat + margin_lat, image.max_lat - margin_lat)
        kind = index % 10
        if kind < 6:
            length, width = rng.uniform(8, 40), rng.uniform(8, 40)
            geometry = mapping(box_polygon(lon, lat, length, width, rng.uniform(0, 180)))
            shape = "rotated-box"
        elif kind < 8:
            ring = []
            for step in range(7):
                angle = step * 360 / 7
                point = GEOD.fwd(lon, lat, angle, rng.uniform(6, 18))
                ring.append([point[0], point[1]])
            ring.append(ring[0])
            geometry, shape = {"type": "Polygon", "coordinates": [ring]}, "polygon"
        elif kind < 9:
            line = [[lon, lat]]
            for _ in range(4):
                bearing = rng.uniform(0, 360)
                point = GEOD.fwd(line[-1][0], line[-1][1], bearing, rng.uniform(10, 30))
                line.append([point[0], point[1]])
            geometry, shape = {"type": "LineString", "coordinates": line}, "line"
        else:
            geometry, shape = {"type": "Point", "coordinates": [lon, lat]}, "point"
        made.append(
            {
                "type": "Feature",
                "geometry": json.loads(json.dumps(geometry)),
                "properties": {
                    "label": labels[index % len(labels)],
                    "image_id": image.id,
                    "shape": shape,
                    "notes": f"bench {index}",
                },
            }
        )
    return made


def prepare(bench: Bench) -> str:
    """A fresh data folder with the image, a user and the annotations; the image id."""
    count, data_dir, source = bench.scale.count, bench.data_dir, bench.source
    state = bench.out / "state.json"
    if state.exists():
        saved = json.loads(state.read_text())
        if saved.get("count") == count and saved.get("review") == bench.scale.review:
            app = create_app({"DATA_DIR": str(data_dir)})
            database = services.database(app)
            upgrade(database)  # the schema may have grown since
            with database.write() as session:  # the boxes an earlier run's saves stored
                session.execute(
                    update(Annotation)
                    .where(~Annotation.notes.startswith("bench "), Annotation.deleted_at.is_(None))
                    .values(deleted_at=datetime.now(UTC))
                )
            database.dispose()
            return str(saved["image_id"])
    write_image(source)
    shutil.rmtree(data_dir, ignore_errors=True)
    app = create_app({"DATA_DIR": str(data_dir)})
    database = services.database(app)
    upgrade(database)
    with database.write() as session:
        add_user(session, USER, Role.analyst, PASSWORD)
        add_user(session, EDITOR, Role.editor, PASSWORD)
    provenance = Provenance(provider="benchmark (synthetic)")
    uploads = [Upload(source, source.name)]
    image = import_images(
        database, app.config["IMAGES_DIR"], uploads, provenance, max_pixels=10**9
    )[0].image
    with database.write() as session:
        token = create_token(session, get_user(session, USER), "bench")
    taxonomy = services.taxonomy(app)
    labels = [label.id for label in taxonomy if label.depth >= 1][:40]
    client = app.test_client()
    made = features(image, labels, count)
    log(f"adding {count} annotations through the API")
    headers = {"Authorization": f"Bearer {token}"}
    ids: list[str] = []
    for start in range(0, count, 500):
        body = {"type": "FeatureCollection", "features": made[start : start + 500]}
        response = client.post("/api/v1/annotations", json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"adding annotations failed: {response.get_data(as_text=True)}")
        ids += [feature["id"] for feature in response.get_json()["features"]]
    log(f"sending {bench.scale.review} of them to review")
    for annotation_id in ids[:: max(1, count // bench.scale.review)][: bench.scale.review]:
        moved = client.post(
            f"/api/v1/annotations/{annotation_id}/status",
            json={"status": "in_review"},
            headers={**headers, "If-Match": f'"{annotation_id}-v1"'},  # as made: version 1
        )
        if moved.status_code != 200:
            raise RuntimeError(f"sending to review failed: {moved.get_data(as_text=True)}")
    database.dispose()
    state.write_text(
        json.dumps({"image_id": image.id, "count": count, "review": bench.scale.review})
    )
    return str(image.id)


def serve(bench: Bench) -> Server:
    """`annotator serve` as in production (gunicorn, 2 workers) on the benchmark's data."""
    return app_server("server", "app", bench.data_dir, bench.out)


def sign_in(page: Any, base: str, user: str = USER) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")


def first_render(page: Any, url: str, count: int) -> dict[str, float]:
    page.goto(url)
    page.wait_for_selector("body[data-annotations-rendered]", state="attached", timeout=60000)
    shown = int(page.get_attribute("body", "data-annotations-shown") or 0)
    if shown != count:
        raise RuntimeError(f"the page showed {shown} annotations, not {count}")
    rendered = float(page.get_attribute("body", "data-annotations-rendered") or "nan")
    api = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/api/v1/annotations?'))"
        ".map(e => [e.responseEnd - e.requestStart, e.transferSize || e.encodedBodySize])[0]"
    )
    dcl = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
    )
    return {"first_render_ms": rendered, "api_ms": api[0], "api_bytes": api[1], "dom_ready_ms": dcl}


def review_queue(page: Any, url: str, expected: int) -> dict[str, float]:
    """One load of the review queue: when the server had sent it, when every row was in the
    page with its script run, and when the chips in view were drawn (the load event)."""
    page.goto(url, wait_until="load")
    rows = page.locator("tr.item").count()
    if rows != expected:
        raise RuntimeError(f"the review queue showed {rows} rows, not {expected}")
    timing = page.evaluate(
        """() => { const n = performance.getEntriesByType('navigation')[0];
                   return [n.responseEnd, n.domContentLoadedEventEnd, n.loadEventEnd,
                           n.transferSize || n.encodedBodySize]; }"""
    )
    return {
        "document_ms": timing[0],
        "dom_ready_ms": timing[1],
        "load_ms": timing[2],
        "bytes": timing[3],
    }


def pan(page: Any, zoom_in: int, steps: int) -> list[float]:
    """Frame intervals while dragging the map across and back, with real mouse events."""
    if zoom_in:
        script = "z => { annotatorMap.setZoom(annotatorMap.getZoom() + z, {animate: false}); }"
        page.evaluate(script, zoom_in)
        page.wait_for_timeout(300)
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate("() => { window.__bench.frames = []; window.__bench.recording = true; }")
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(x - 3 * step, y - 2 * step)
    for step in range(steps, -1, -1):
        page.mouse.move(x - 3 * step, y - 2 * step)
    page.mouse.up()
    page.wait_for_timeout(250)  # the redraw after the drag ends is part of the pan
    frames = page.evaluate(
        "() => { window.__bench.recording = false; return window.__bench.frames; }"
    )
    return [b - a for a, b in itertools.pairwise(frames)]


def saves(page: Any, count: int) -> list[float]:
    """Draw boxes with the mouse, label them through the search, time Save -> stored."""
    timings = []
    box = page.locator("#map").bounding_box()
    for index in range(count):
        page.keyboard.press("Escape")
        page.locator("#map").focus()
        page.keyboard.press("b")
        x = box["x"] + 80 + (index % 5) * 120
        y = box["y"] + 80 + (index // 5) * 120
        page.mouse.click(x, y)
        page.mouse.move(x + 40, y + 30, steps=3)
        page.mouse.click(x + 40, y + 30)
        page.wait_for_selector("#label-search:focus")
        page.type("#label-search", "124")
        page.wait_for_selector("#label-results li[data-label='aircraft.transport.an-124']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#label-chosen:has-text('an-124')")
        before = page.evaluate("() => window.__bench.saveClicks.length")
        page.click("#save")
        page.wait_for_selector("#save-state.saved")
        timing = page.evaluate(
            """n => {
              const clicked = window.__bench.saveClicks[n];
              const posts = performance.getEntriesByType('resource').filter(
                e => e.initiatorType === 'fetch' && /\\/api\\/v1\\/annotations$/.test(e.name)
                     && e.startTime >= clicked);
              return posts.length ? posts[0].responseEnd - clicked : null;
            }""",
            before,
        )
        if timing is None:
            raise RuntimeError("the Save click sent no POST")
        timings.append(timing)
    return timings


def run(bench: Bench) -> dict[str, Any]:
    scale = bench.scale
    began = time.perf_counter()
    image_id = prepare(bench)
    server = serve(bench)
    server.tracked = True  # started in its own session: its pid is its group
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    noise = Noise(began, 0.0, 0.0) if bench.options.smoke else Noise(began, retry_budget_s=90.0)
    results: dict[str, Any] = {"loads": [], "pan": {}, "saves": []}
    meter = Meter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(INIT_SCRIPT)
            page = context.new_page()
            sign_in(page, base)
            url = f"{base}/images/{image_id}"
            if not bench.options.smoke:  # the smoke's one load proves the same alone
                first_render(page, url, scale.count)  # warm-up: server caches, code cache
            for attempt in range(scale.loads):
                noise.wait_for_quiet()
                while True:
                    load_meter = Meter()
                    figures = first_render(page, url, scale.count)
                    share = load_meter.other_share()
                    if not noise.again(share, f"page load {attempt + 1}"):
                        break
                figures["other_share"] = share
                results["loads"].append(figures)
                log(f"load {attempt + 1}: first render {figures['first_render_ms']:.0f} ms")
            for name, zoom_in in (("whole image", 0), ("zoomed in 2 levels", 2)):
                noise.wait_for_quiet()
                pan_meter = Meter()
                intervals = pan(page, zoom_in, scale.pan_steps)
                results["pan"][name] = {
                    "intervals": intervals,
                    "other_share": pan_meter.other_share(),
                }
                log(f"pan {name}: p95 {percentile(intervals, 95):.1f} ms, {len(intervals)} frames")
            first_render(page, url, scale.count)
            page.evaluate(
                "() => { annotatorMap.setZoom(annotatorMap.getZoom() + 1, {animate: false}); }"
            )
            noise.wait_for_quiet()
            save_meter = Meter()
            results["saves"] = saves(page, scale.saves)
            results["save_other_share"] = save_meter.other_share()
            log(f"saves: median {percentile(results['saves'], 50):.0f} ms")
            results["review"] = queue_loads(
                browser, base, scale, noise, warm_up=not bench.options.smoke
            )
            browser.close()
    finally:
        server.stop()
    results["other_share"] = meter.other_share()
    results["seconds"] = time.perf_counter() - began
    results["retries"] = noise.retries
    return results


def queue_loads(
    browser: Any, base: str, scale: Scale, noise: Noise, *, warm_up: bool = True
) -> list[dict[str, float]]:
    """The review queue with `scale.review` items, as an editor opens it, over several loads
    (after a warm-up load, unless not `warm_up`)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, base, EDITOR)
    url = f"{base}/review"
    if warm_up:
        review_queue(page, url, scale.review)  # warm-up, as for the workspace
    loads = []
    for attempt in range(scale.loads):
        noise.wait_for_quiet()
        while True:
            load_meter = Meter()
            figures = review_queue(page, url, scale.review)
            share = load_meter.other_share()
            if not noise.again(share, f"review queue load {attempt + 1}"):
                break
        figures["other_share"] = share
        loads.append(figures)
        log(f"review queue {attempt + 1}: load event {figures['load_ms']:.0f} ms")
    context.close()
    return loads


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def report(bench: Bench, results: dict[str, Any]) -> str:
    loads = results["loads"]
    first = [load["first_render_ms"] for load in loads]
    frames = [v for item in results["pan"].values() for v in item["intervals"]]
    save = results["saves"]
    return render(
        "workspace.md.j2",
        when=datetime.now(UTC),
        results=results,
        count=bench.scale.count,
        smoke=bench.options.smoke,
        first=first,
        first_median=percentile(first, 50),
        api_median=percentile([load["api_ms"] for load in loads], 50),
        frames=len(frames),
        pan_p95=percentile(frames, 95),
        pans={
            name: {
                "frames": len(item["intervals"]),
                "median": percentile(item["intervals"], 50),
                "p95": percentile(item["intervals"], 95),
                "max": max(item["intervals"]),
                "other": item["other_share"],
            }
            for name, item in results["pan"].items()
        },
        save=save,
        save_median=percentile(save, 50),
        save_p95=percentile(save, 95),
        review=results["review"],
        review_items=bench.scale.review,
        review_median=percentile([load["load_ms"] for load in results["review"]], 50),
        review_worst=max(load["load_ms"] for load in results["review"]),
        targets=TARGETS,
        machine=machine() | {"Chromium": chromium_version()},
    )


def main(argv: list[str] | None = None) -> None:
    opts = parse((__doc__ or "").splitlines()[0], "workspace", argv)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    bench = Bench(opts, SMOKE if opts.smoke else FULL)
    results = run(bench)
    (opts.out / "results.json").write_text(json.dumps(results, indent=1))
    text = report(bench, results)
    print(text)
    write_section("workspace", text, opts.doc)


if __name__ == "__main__":
    main()
