"""Annotation storage benchmark: 1,000,000 annotations in SQLite and in PostGIS, queried by
bounding box over HTTP, next to a GeoPandas in-memory floor.

`make bench-annotations` (and `make bench`, after the tile benchmark) runs this file with the
app's venv. On a fresh machine, as on a re-run, it:

1. writes 100 small synthetic GeoTIFFs (50 sites x 2 captures, 512 px over 5.2 km) into
   benchmarks/out/annotations/ and, for each backend, imports them with the app's CLI
   (`annotator init`, `users add`, `tokens create`, `images import`) into a fresh data folder;
   PostGIS is a throwaway cluster (tests/postgis.py) on a free port of 127.0.0.1;
2. generates, from a fixed seed, realistic annotation rows (aircraft-sized rotated boxes and
   polygons, convoy lines) clustered on the 50 sites and bulk-loads them straight into the
   `annotations` table (executemany on SQLite, COPY on PostgreSQL); the migration's triggers
   fill the R*Tree and the `geom` column, and both are checked afterwards;
3. in a separate process, holds the same annotations in a GeoDataFrame with its spatial
   index, picks query boxes that each hold about 1,000 annotations, and times the GeoPandas
   floor (sindex query + `to_json`) and a naive scan without any index;
4. times the app's own search and serialisation in-process, step by step, with the time
   spent in Python's garbage collector and a cProfile of the request (and of one POST), and
   a naive SQL scan that bypasses the spatial index;
5. serves each database with `annotator serve --workers 2`, times
   `GET /api/v1/annotations?bbox=...&limit=2000` over 127.0.0.1, checks every answer against
   the floor (the same annotation ids), posts FeatureCollections of 1,000 features, and
   samples the server's memory;
6. prints the report, writes it to docs/benchmarks-annotations.md, and makes sure
   docs/benchmarks.md (rewritten by benchmarks/tiles.py) ends with a link to it.

The machine may be shared: CPU used by other processes during each measurement is read from
/proc/stat and reported, and a disturbed query run is repeated (bounded). Every server and the
PostgreSQL cluster are stopped on the way out. Linux only.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import io
import json
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    DISTURBED,
    NPROC,
    REQUEST_TIMEOUT_S,
    TRACKED_CLUSTERS,
    TRACKED_GROUPS,
    Client,
    CpuMeter,
    Noise,
    Reply,
    base_env,
    free_port,
    group_pids,
    log,
    machine,
    percentile,
    process_cpu_s,
    pss_kb,
    status_kb,
    stop_group,
    table,
    verdict,
    write_section,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/postgis.py and the app's packages

OUT = ROOT / "benchmarks" / "out" / "annotations"
SOURCES = OUT / "images"
LOGS = OUT / "logs"
BOXES_FILE = OUT / "boxes.json"
CATALOGUE_FILE = OUT / "catalogue.json"
RESULTS_FILE = OUT / "results.json"
DOC = ROOT / "docs" / "benchmarks-annotations.md"
INDEX_LINE = (
    "Annotation storage (1,000,000 annotations, SQLite and PostGIS, bbox queries over HTTP): "
    "see [benchmarks-annotations.md](benchmarks-annotations.md), written by "
    "`make bench-annotations`."
)
APP_BIN = ROOT / ".venv" / "bin"

COUNT = 1_000_000
SEED = 20241210
SITES = 50
CAPTURES = 2
CLUSTERS = 12
CLUSTERED_SHARE = 0.75
IMAGE_PX = 512
IMAGE_HALF_M = 2600.0  # each image covers 5.2 km x 5.2 km around its site
SPREAD_M = 2350.0  # annotation centres stay this close to the site centre
LINE_START_M = 2000.0
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
CHUNK = 50_000
KIND_SHARE = (0.85, 0.12, 0.03)  # rotated boxes, polygons, convoy lines
QUERY_TARGET = 1000  # features per query box
QUERY_TOLERANCE = 0.05
WARM_BOXES = 5
NAIVE_BOXES = 10
BREAKDOWN_BOXES = 10
QUERY_LIMIT = 2000
API_BATCHES = 10
API_BATCH = 1000
CONCURRENCY = 4
WORKERS = 2
USER = "bench"
PASSWORD = "benchpassword1"
PROVIDER = "annotator benchmark (synthetic)"
EPOCH = datetime(2025, 1, 6, tzinfo=UTC)
START_TIMEOUT_S = 90.0

TARGET_P50_MS = 50.0
TARGET_FLOOR_RATIO = 3.0
TARGET_RSS_MB = 400.0

NAN = float("nan")
#: A disturbed query run (see common.Noise) is taken again (at most MAX_ATTEMPTS times)
#: while the run is younger than RETRY_BUDGET_S.
MAX_ATTEMPTS = 2
RETRY_BUDGET_S = 900.0

COLUMNS = (
    "id",
    "image_id",
    "label",
    "shape",
    "confidence",
    "count",
    "attributes_json",
    "notes",
    "observed_at",
    "status",
    "version",
    "geometry_geojson",
    "measurements_json",
    "source_json",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "deleted_at",
    "deleted_by",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
)
COL = {name: i for i, name in enumerate(COLUMNS)}

BOX_LABELS = {  # label id: weight; sizes come from the taxonomy's reference figures
    "aircraft.transport.an-124": 2,
    "aircraft.transport.il-76": 8,
    "aircraft.transport.il-62": 2,
    "aircraft.transport.an-12": 5,
    "aircraft.transport.an-26": 6,
    "aircraft.transport.an-30": 1,
    "aircraft.transport.an-72": 2,
    "aircraft.transport.tu-154": 2,
    "aircraft.transport.c-17": 3,
    "aircraft.transport.c-5": 1,
    "aircraft.transport.c-130": 4,
    "aircraft.combat.su-24": 6,
    "aircraft.combat.su-25": 6,
    "aircraft.combat.su-30sm": 6,
    "aircraft.combat.su-34": 6,
    "aircraft.combat.su-35": 5,
    "aircraft.helicopter.mi-8": 6,
    "aircraft.helicopter.mi-24": 4,
    "aircraft.helicopter.ka-52": 3,
    "aircraft.unknown.large": 5,
    "aircraft.unknown.small": 5,
}
UNKNOWN_SIZES = {"aircraft.unknown.large": (40.0, 75.0), "aircraft.unknown.small": (15.0, 40.0)}
POLYGON_LABELS = {
    "structure.hangar": 3,
    "structure.revetment": 4,
    "structure.tent": 2,
    "activity.crater": 3,
    "activity.fire": 1,
    "aircraft.unknown.large": 2,
}
AIRCRAFT_STATES = (
    "parked",
    "taxiing",
    "nose door open",
    "ramp down",
    "engines running",
    "under maintenance",
)
HELICOPTER_STATES = ("parked", "blades folded", "rotors turning", "doors open")
STRUCTURE_STATES = ("intact", "damaged", "destroyed", "under construction")
STATUSES = ("draft", "in_review", "approved", "rejected")
STATUS_SHARE = (0.30, 0.25, 0.40, 0.05)
CONFIDENCES = ("confirmed", "probable", "possible")
CONFIDENCE_SHARE = (0.35, 0.45, 0.20)
ANALYSTS = tuple(f"analyst{i:02d}" for i in range(1, 13))
EDITORS = ("editor1", "editor2", "editor3")
NOTES = (
    "on the main apron, next to the hangars",
    "compare with the previous capture",
    "partly hidden by a hangar shadow",
    "moved since the previous capture",
    "loaders nearby; see the report of that day",
    "tail section only, the rest under a net",
)
DELETED_SHARE = 0.01
NOTES_SHARE = 0.15


def digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------- site layout


@dataclass(frozen=True)
class Layout:
    """Where the 50 sites are, how busy each is, and the busy spots (aprons) in each."""

    lon: np.ndarray  # (SITES,)
    lat: np.ndarray
    weight: np.ndarray  # share of all annotations
    clusters: np.ndarray  # (SITES, CLUSTERS, 3): x m, y m, standard deviation m

    def slug(self, site: int) -> str:
        return f"bench-site-{site + 1:02d}"


def site_layout() -> Layout:
    rng = np.random.default_rng([SEED, 0])
    points: list[tuple[float, float]] = []
    while len(points) < SITES:  # eastern Mediterranean to the Gulf, at least ~30 km apart
        lon, lat = float(rng.uniform(30.0, 50.0)), float(rng.uniform(24.0, 40.0))
        if all(abs(lon - a) > 0.3 or abs(lat - b) > 0.3 for a, b in points):
            points.append((round(lon, 4), round(lat, 4)))
    weight = rng.lognormal(0.0, 0.6, SITES)
    clusters = np.empty((SITES, CLUSTERS, 3))
    clusters[..., :2] = rng.uniform(-1800.0, 1800.0, (SITES, CLUSTERS, 2))
    clusters[..., 2] = rng.uniform(60.0, 400.0, (SITES, CLUSTERS))
    return Layout(
        lon=np.array([p[0] for p in points]),
        lat=np.array([p[1] for p in points]),
        weight=weight / weight.sum(),
        clusters=clusters,
    )


def metres_per_degree(lat: np.ndarray | float) -> tuple[Any, Any]:
    return M_PER_DEG_LON * np.cos(np.radians(lat)), M_PER_DEG_LAT


def write_images(layout: Layout) -> list[Path]:
    """Two small captures per site (distinct pixels, so distinct sha256), WGS 84 GeoTIFFs."""
    import rasterio
    from rasterio.transform import from_origin

    SOURCES.mkdir(parents=True, exist_ok=True)
    paths = []
    for site in range(SITES):
        mx, my = metres_per_degree(layout.lat[site])
        width_deg, height_deg = 2 * IMAGE_HALF_M / mx, 2 * IMAGE_HALF_M / my
        transform = from_origin(
            layout.lon[site] - width_deg / 2,
            layout.lat[site] + height_deg / 2,
            width_deg / IMAGE_PX,
            height_deg / IMAGE_PX,
        )
        for capture in range(CAPTURES):
            path = SOURCES / f"site-{site + 1:02d}-{capture + 1}.tif"
            paths.append(path)
            if path.exists():
                continue
            rng = np.random.default_rng([SEED, 2, site, capture])
            coarse = rng.uniform(90, 200, (1, IMAGE_PX // 32, IMAGE_PX // 32))
            pixels = np.kron(coarse, np.ones((32, 32))) + rng.normal(0, 12, (1, IMAGE_PX, IMAGE_PX))
            day = datetime(2024, 11, 1, 7, 30) + timedelta(days=site, hours=capture * 75)
            tmp = path.with_suffix(".tmp.tif")
            with rasterio.open(
                tmp,
                "w",
                driver="GTiff",
                width=IMAGE_PX,
                height=IMAGE_PX,
                count=1,
                dtype="uint8",
                crs="EPSG:4326",
                transform=transform,
            ) as dst:
                dst.update_tags(TIFFTAG_DATETIME=day.strftime("%Y:%m:%d %H:%M:%S"))
                dst.write(np.clip(pixels, 1, 255).astype(np.uint8))
            tmp.replace(path)
    return paths


# --------------------------------------------------------------------- annotation rows


@dataclass(frozen=True)
class CatalogueImage:
    id: str
    site: int
    capture: int
    source_json: str
    observed_at: str  # as SQLAlchemy stores it: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC


def stored_time(iso: str) -> str:
    value = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def api_time(stored: str) -> str:
    """What the API prints for a stored time (Annotation._iso)."""
    return datetime.fromisoformat(stored).isoformat() + "Z"


class Generator:
    """Annotation rows, chunk by chunk, the same for a given seed and catalogue."""

    def __init__(self, catalogue: list[CatalogueImage]) -> None:
        from annotations.labels.taxonomy import load_taxonomy

        self.layout = site_layout()
        self.taxonomy = load_taxonomy()
        self.images = sorted(catalogue, key=lambda image: (image.site, image.capture))
        assert len(self.images) == SITES * CAPTURES
        self.box_labels = list(BOX_LABELS)
        self.box_p = np.array(list(BOX_LABELS.values()), float)
        self.box_p /= self.box_p.sum()
        sizes = []
        for label in self.box_labels:
            if label in UNKNOWN_SIZES:
                sizes.append((0.0, 0.0))
                continue
            reference = self.taxonomy.get(label).reference
            assert reference is not None, label
            sizes.append((reference.length_m, reference.span_m))
        self.box_sizes = np.array(sizes)
        self.polygon_labels = list(POLYGON_LABELS)
        self.polygon_p = np.array(list(POLYGON_LABELS.values()), float)
        self.polygon_p /= self.polygon_p.sum()

    def chunks(self, count: int, stream: int = 1, chunk: int = CHUNK) -> Iterator[list[tuple]]:
        for number, start in enumerate(range(0, count, chunk)):
            yield self.rows(stream, number, start, min(chunk, count - start))

    def rows(self, stream: int, number: int, start: int, n: int) -> list[tuple]:
        rng = np.random.default_rng([SEED, stream, number])
        layout = self.layout
        site = rng.choice(SITES, n, p=layout.weight)
        image = site * CAPTURES + rng.integers(0, CAPTURES, n)
        kind = rng.choice(3, n, p=KIND_SHARE)
        centre = layout.clusters[site, rng.integers(0, CLUSTERS, n)]
        clustered = rng.random(n) < CLUSTERED_SHARE
        x = np.where(
            clustered,
            centre[:, 0] + rng.standard_normal(n) * centre[:, 2],
            rng.uniform(-SPREAD_M, SPREAD_M, n),
        )
        y = np.where(
            clustered,
            centre[:, 1] + rng.standard_normal(n) * centre[:, 2],
            rng.uniform(-SPREAD_M, SPREAD_M, n),
        )
        x, y = np.clip(x, -SPREAD_M, SPREAD_M), np.clip(y, -SPREAD_M, SPREAD_M)

        geometry = np.empty(n, dtype=object)
        measurements = np.empty(n, dtype=object)
        attributes = np.empty(n, dtype=object)
        label = np.empty(n, dtype=object)
        shape = np.empty(n, dtype=object)
        count = np.ones(n, dtype=np.int64)
        bounds = np.empty((n, 4))

        def place(idx: np.ndarray, local: np.ndarray, kind_name: str) -> None:
            """Local metres (m, k, 2) around each centre -> lon/lat rounded to 7 decimals."""
            mx, my = metres_per_degree(layout.lat[site[idx]])
            lon = layout.lon[site[idx], None] + (x[idx, None] + local[..., 0]) / mx[:, None]
            lat = layout.lat[site[idx], None] + (y[idx, None] + local[..., 1]) / my
            coords = np.round(np.stack([lon, lat], axis=-1), 7)
            bounds[idx, 0], bounds[idx, 1] = coords[..., 0].min(1), coords[..., 1].min(1)
            bounds[idx, 2], bounds[idx, 3] = coords[..., 0].max(1), coords[..., 1].max(1)
            head = '{"type":"Polygon","coordinates":[' if kind_name != "line" else None
            for i, ring in zip(idx.tolist(), coords.tolist(), strict=True):
                text = json.dumps(ring, separators=(",", ":"))
                geometry[i] = (
                    f"{head}{text}]}}" if head else f'{{"type":"LineString","coordinates":{text}}}'
                )

        # aircraft: rotated boxes of the type's reference length x span (unknown types 15-75 m)
        idx = np.flatnonzero(kind == 0)
        m = len(idx)
        which = rng.choice(len(self.box_labels), m, p=self.box_p)
        length = self.box_sizes[which, 0] * rng.uniform(0.97, 1.03, m)
        span = self.box_sizes[which, 1] * rng.uniform(0.97, 1.03, m)
        for name, (low, high) in UNKNOWN_SIZES.items():
            unknown = which == self.box_labels.index(name)
            length[unknown] = rng.uniform(low, high, int(unknown.sum()))
            span[unknown] = length[unknown] * rng.uniform(0.8, 1.2, int(unknown.sum()))
        axis_aligned = rng.random(m) < 0.1
        heading = np.where(axis_aligned, rng.choice([0.0, 90.0], m), rng.uniform(0, 360, m))
        h = np.radians(heading)
        along = np.stack([np.sin(h), np.cos(h)], -1)  # nose direction
        across = np.stack([np.cos(h), -np.sin(h)], -1)  # to the right
        corners = [(1, 1), (1, -1), (-1, -1), (-1, 1), (1, 1)]  # counter-clockwise, closed
        local = np.stack(
            [a * length[:, None] / 2 * along + b * span[:, None] / 2 * across for a, b in corners],
            axis=1,
        )
        place(idx, local, "box")
        long_side, short_side = np.maximum(length, span), np.minimum(length, span)
        box_heading = np.where(length >= span, heading, heading + 90.0) % 180.0
        for j, i in enumerate(idx.tolist()):
            label[i] = self.box_labels[which[j]]
            shape[i] = "box" if axis_aligned[j] else "rotated-box"
            measurements[i] = {
                "length_m": round(float(long_side[j]), 2),
                "width_m": round(float(short_side[j]), 2),
                "area_m2": round(float(length[j] * span[j]), 1),
                "perimeter_m": round(float(2 * (length[j] + span[j])), 2),
                "heading_deg": round(float(box_heading[j]), 1),
            }
        box_attr = rng.random((m, 4))
        box_state = rng.integers(0, 100, m)
        for j, i in enumerate(idx.tolist()):
            attrs: dict[str, Any] = {}
            helicopter = label[i].startswith("aircraft.helicopter")
            if box_attr[j, 0] < (0.7 if helicopter else 0.8):
                attrs["heading_deg"] = round(float(heading[j]) % 360.0, 1)
            if box_attr[j, 1] < 0.5:
                states = HELICOPTER_STATES if helicopter else AIRCRAFT_STATES
                attrs["state"] = states[box_state[j] % len(states)]
            if box_attr[j, 2] < 0.03:
                attrs["truncated"] = True
            if box_attr[j, 3] < 0.05:
                attrs["registration"] = f"RA-{10000 + box_state[j] * 731 % 90000}"
            attributes[i] = attrs

        # polygons: aircraft-sized outlines of hangars, revetments, craters, 6-12 vertices
        polygon_idx = np.flatnonzero(kind == 1)
        vertices = rng.choice([6, 8, 12], len(polygon_idx))
        for nv in (6, 8, 12):
            idx = polygon_idx[vertices == nv]
            m = len(idx)
            radius = rng.uniform(7.5, 37.5, m)
            angle = (np.arange(nv) + rng.uniform(0.15, 0.85, (m, nv))) * (2 * np.pi / nv)
            r = radius[:, None] * rng.uniform(0.6, 1.0, (m, nv))
            ring = np.stack([r * np.cos(angle), r * np.sin(angle)], -1)
            ring = np.concatenate([ring, ring[:, :1]], axis=1)  # counter-clockwise, closed
            place(idx, ring, "polygon")
            self._polygon_measures(idx, ring, measurements)
            which = rng.choice(len(self.polygon_labels), m, p=self.polygon_p)
            flags = rng.random((m, 3))
            picks = rng.integers(0, 1000, m)
            for j, i in enumerate(idx.tolist()):
                name = self.polygon_labels[which[j]]
                label[i], shape[i] = name, "polygon"
                attributes[i] = self._polygon_attributes(name, flags[j], int(picks[j]), radius[j])
                if name == "structure.tent":
                    count[i] = 1 + picks[j] % 12

        # convoys: lines of 0.5-5 km with 8-24 vertices, drifting heading
        line_idx = np.flatnonzero(kind == 2)
        vertices = rng.choice([8, 12, 16, 24], len(line_idx))
        x[line_idx] = np.clip(x[line_idx], -LINE_START_M, LINE_START_M)
        y[line_idx] = np.clip(y[line_idx], -LINE_START_M, LINE_START_M)
        for nv in (8, 12, 16, 24):
            idx = line_idx[vertices == nv]
            m = len(idx)
            total = rng.uniform(500.0, 5000.0, m)
            step = total / (nv - 1)
            turn = np.cumsum(rng.normal(0, np.radians(12), (m, nv - 1)), axis=1)
            turn += rng.uniform(0, 2 * np.pi, m)[:, None]
            legs = np.stack([np.sin(turn), np.cos(turn)], -1) * step[:, None, None]
            path = np.concatenate([np.zeros((m, 1, 2)), np.cumsum(legs, axis=1)], axis=1)
            place(idx, path, "line")
            vehicles = rng.integers(5, 121, m)
            moving = rng.random(m) < 0.7
            for j, i in enumerate(idx.tolist()):
                label[i], shape[i] = "vehicle.convoy", "line"
                measurements[i] = {"length_m": round(float(total[j]), 2)}
                count[i] = vehicles[j]
                attributes[i] = {
                    "length_km": round(float(total[j]) / 1000, 2),
                    "state": "moving" if moving[j] else "parked",
                }

        # review state, people, times
        status = rng.choice(len(STATUSES), n, p=STATUS_SHARE)
        edited = rng.random(n) < 0.2
        version = np.select([status == 0, status == 1], [1 + edited, 2 + edited], 3 + edited)
        confidence = rng.choice(len(CONFIDENCES), n, p=CONFIDENCE_SHARE)
        author = rng.integers(0, len(ANALYSTS), n)
        editor = rng.integers(0, len(EDITORS), n)
        offsets = (start + np.arange(n)) * 15_000_000 + rng.integers(0, 14_000_000, n)
        created = np.datetime64(EPOCH.replace(tzinfo=None), "us") + offsets.astype("m8[us]")
        updated = created + (
            (version - 1) * rng.integers(3600 * 10**6, 72 * 3600 * 10**6, n)
        ).astype("m8[us]")
        created_s = np.char.replace(np.datetime_as_string(created, unit="us"), "T", " ")
        updated_s = np.char.replace(np.datetime_as_string(updated, unit="us"), "T", " ")
        deleted = rng.random(n) < DELETED_SHARE
        notes = rng.random(n) < NOTES_SHARE
        note_pick = rng.integers(0, len(NOTES), n)
        id_bytes = rng.bytes(16 * n)

        rows = []
        for i in range(n):
            img = self.images[image[i]]
            who = ANALYSTS[author[i]]
            reviewer = EDITORS[editor[i]] if status[i] >= 2 else who
            rows.append(
                (
                    id_bytes[16 * i : 16 * i + 16].hex(),
                    img.id,
                    label[i],
                    shape[i],
                    CONFIDENCES[confidence[i]],
                    int(count[i]),
                    json.dumps(attributes[i], ensure_ascii=False, sort_keys=True),
                    NOTES[note_pick[i]] if notes[i] else "",
                    img.observed_at,
                    STATUSES[status[i]],
                    int(version[i]),
                    geometry[i],
                    json.dumps(measurements[i]),
                    img.source_json,
                    who,
                    str(created_s[i]),
                    reviewer,
                    str(updated_s[i]),
                    str(updated_s[i]) if deleted[i] else None,
                    reviewer if deleted[i] else None,
                    float(bounds[i, 0]),
                    float(bounds[i, 1]),
                    float(bounds[i, 2]),
                    float(bounds[i, 3]),
                )
            )
        return rows

    @staticmethod
    def _polygon_measures(idx: np.ndarray, ring: np.ndarray, out: np.ndarray) -> None:
        import shapely

        polygons = shapely.polygons(ring)
        area, perimeter = shapely.area(polygons), shapely.length(polygons)
        rect = shapely.get_coordinates(shapely.minimum_rotated_rectangle(polygons))
        rect = rect.reshape(len(idx), 5, 2)
        first, second = rect[:, 1] - rect[:, 0], rect[:, 2] - rect[:, 1]
        a, b = np.hypot(*first.T), np.hypot(*second.T)
        longer = np.where((a >= b)[:, None], first, second)
        azimuth = np.degrees(np.arctan2(longer[:, 0], longer[:, 1])) % 180.0
        for j, i in enumerate(idx.tolist()):
            out[i] = {
                "length_m": round(float(max(a[j], b[j])), 2),
                "width_m": round(float(min(a[j], b[j])), 2),
                "area_m2": round(float(area[j]), 1),
                "perimeter_m": round(float(perimeter[j]), 2),
                "heading_deg": round(float(azimuth[j]), 1),
            }

    @staticmethod
    def _polygon_attributes(
        name: str, flags: np.ndarray, pick: int, radius: float
    ) -> dict[str, Any]:
        if name in ("structure.hangar", "structure.revetment"):
            attrs: dict[str, Any] = {"occupied": bool(flags[0] < 0.6)}
            if flags[1] < 0.5:
                attrs["state"] = STRUCTURE_STATES[pick % len(STRUCTURE_STATES)]
            return attrs
        if name == "structure.tent":
            return {"count_estimate": 1 + pick % 12}
        if name == "activity.crater":
            return {"diameter_m": round(2 * radius, 1), "count_estimate": 1 + pick % 3}
        if name == "activity.fire":
            return {
                "smoke_visible": bool(flags[0] < 0.7),
                "extent": ("small", "medium", "large")[pick % 3],
            }
        return {"heading_deg": round(float(flags[2]) * 360.0, 1)}


def feature_for_api(row: tuple) -> dict[str, Any]:
    """A generated row as the Feature an analyst's script would POST."""
    return {
        "type": "Feature",
        "geometry": json.loads(row[COL["geometry_geojson"]]),
        "properties": {
            "label": row[COL["label"]],
            "image_id": row[COL["image_id"]],
            "shape": row[COL["shape"]],
            "confidence": row[COL["confidence"]],
            "count": row[COL["count"]],
            "attributes": json.loads(row[COL["attributes_json"]]),
            "notes": row[COL["notes"]],
        },
    }


# ------------------------------------------------------------------ CPU and memory


class MemorySampler:
    """RSS of every process of a server (master and workers), sampled every 50 ms by phase;
    VmHWM (the kernel's exact per-process peak) is read at the end."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.pids = group_pids(pgid)
        self.phase = "start"
        self.peak_total: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_scan = time.monotonic()
        while not self._stop.wait(0.05):
            if time.monotonic() - last_scan > 2.0:
                self.pids = group_pids(self.pgid) or self.pids
                last_scan = time.monotonic()
            total = sum(status_kb(pid, "VmRSS") for pid in self.pids)
            self.peak_total[self.phase] = max(self.peak_total.get(self.phase, 0), total)

    def snapshot(self) -> list[dict[str, Any]]:
        found = []
        for pid in sorted(group_pids(self.pgid)):
            found.append(
                {
                    "pid": pid,
                    "role": "master" if pid == self.pgid else "worker",
                    "hwm_kb": status_kb(pid, "VmHWM"),
                    "rss_kb": status_kb(pid, "VmRSS"),
                    "pss_kb": pss_kb(pid),
                }
            )
        return found

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


# ---------------------------------------------------------------------- HTTP harness


@dataclass
class Server:
    name: str
    env: dict[str, str]
    token: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_file: Any = None
    start_s: float = 0.0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self) -> None:
        self.port = free_port()
        self.log_file = (LOGS / f"serve-{self.name}.log").open("wb")
        began = time.perf_counter()
        argv = [
            str(APP_BIN / "annotator"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(WORKERS),
        ]
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its workers stop with it
        )
        TRACKED_GROUPS.add(self.process.pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited at start; see {self.log_file.name}")
            client = Client(self.port, self.headers)
            reply = client.get("/api/v1/labels")
            client.close()
            if reply.status == 200:
                self.start_s = time.perf_counter() - began
                # both workers up before anything is measured
                while len(group_pids(self.process.pid)) < WORKERS + 1:
                    time.sleep(0.1)
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process, 20)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def bbox_path(box: Sequence[float]) -> str:
    return (
        "/api/v1/annotations?bbox="
        + ",".join(repr(float(v)) for v in box)
        + (f"&limit={QUERY_LIMIT}")
    )


@dataclass
class Answer:
    box: int
    ms: float
    status: int
    size: int
    count: int
    ids: str
    problem: str | None


def check_answer(box: int, reply: Reply) -> Answer:
    problem = None
    count, ids = 0, ""
    if reply.status != 200:
        problem = f"HTTP {reply.status} {reply.error or reply.body[:160]!r}"
    else:
        try:
            data = json.loads(reply.body)
            features = data["features"]
            assert data["type"] == "FeatureCollection", "not a FeatureCollection"
            assert data["numberReturned"] == len(features), "numberReturned differs"
            assert not data["links"], "the answer has a next page"
            assert all(f["type"] == "Feature" and f["geometry"]["coordinates"] for f in features)
            count, ids = len(features), digest([f["id"] for f in features])
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            problem = f"bad FeatureCollection: {type(exc).__name__}: {exc}"
    return Answer(box, reply.ms, reply.status, len(reply.body), count, ids, problem)


def query_run(
    server: Server, boxes: list[list[float]], order: list[int], concurrency: int
) -> tuple[float, list[Answer]]:
    """Ask every box of `order` once over `concurrency` keep-alive connections."""
    answers: list[Answer | None] = [None] * len(order)
    lock = threading.Lock()
    cursor = iter(range(len(order)))
    gate = threading.Barrier(concurrency + 1)

    def worker() -> None:
        client = Client(server.port, server.headers)
        with contextlib.suppress(OSError):
            client.conn.connect()
        gate.wait()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            box = order[index]
            answers[index] = check_answer(box, client.get(bbox_path(boxes[box])))
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S * len(order))
    wall = time.perf_counter() - started
    return wall, [a for a in answers if a is not None]


# ------------------------------------------------------------------------ backends


@dataclass
class Backend:
    name: str
    title: str
    data_dir: Path
    url: str | None = None  # None: SQLite in the data folder
    token: str = ""
    catalogue: list[CatalogueImage] = field(default_factory=list)
    import_s: float = 0.0
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "annotator.db"

    @property
    def libpq_url(self) -> str:
        assert self.url is not None
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def env(self) -> dict[str, str]:
        env = base_env()
        env["ANNOTATOR_DATA_DIR"] = str(self.data_dir)
        env.pop("ANNOTATOR_DATABASE_URL", None)
        if self.url:
            env["ANNOTATOR_DATABASE_URL"] = self.url
        return env

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(APP_BIN / "annotator"), *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=ROOT,
        )
        if result.returncode != 0:
            raise RuntimeError(f"annotator {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result.stdout


def prepare(backend: Backend, sources: list[Path]) -> None:
    """A fresh data folder (and database) with the bench user, a token and the images."""
    log(f"{backend.title}: annotator init, users add, tokens create, images import")
    shutil.rmtree(backend.data_dir, ignore_errors=True)
    backend.cli("init")
    backend.cli("users", "add", USER, "--role", "analyst", "--password-stdin", stdin=PASSWORD)
    backend.token = backend.cli("tokens", "create", USER).strip().splitlines()[-1].strip()
    started = time.perf_counter()
    payload = json.loads(
        backend.cli(
            "images",
            "import",
            *map(str, sources),
            "--json",
            "--provider",
            PROVIDER,
            "--licence",
            "CC0-1.0",
            "--attribution",
            "synthetic, annotator benchmark",
        )
    )
    backend.import_s = time.perf_counter() - started
    catalogue = []
    for image in payload:
        _, site, capture = Path(image["original_filename"]).stem.split("-")
        source = {
            "image_sha256": image["sha256"],
            "provider": image["provider"],
            "licence": image["licence"],
            "attribution": image["attribution"],
            "gsd_m": image["gsd_m"],
            "captured_at": image["captured_at"],
            "synthetic": image["synthetic"],
        }
        catalogue.append(
            CatalogueImage(
                id=image["id"],
                site=int(site) - 1,
                capture=int(capture) - 1,
                source_json=json.dumps(source, ensure_ascii=False),
                observed_at=stored_time(image["captured_at"]),
            )
        )
    backend.catalogue = sorted(catalogue, key=lambda c: (c.site, c.capture))
    backend.results["gsd_m"] = float(np.median([image["gsd_m"] for image in payload]))


def load_sqlite(backend: Backend, count: int) -> dict[str, Any]:
    """executemany in transactions of CHUNK rows, with the app's pragmas (WAL, NORMAL sync,
    foreign keys on) and a 1 GiB page cache for the loading connection."""
    generator = Generator(backend.catalogue)
    con = sqlite3.connect(backend.sqlite_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA cache_size=-1048576")
    sql = (
        f"INSERT INTO annotations ({', '.join(COLUMNS)}) "  # noqa: S608 (constants only)
        f"VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    generate_s = insert_s = 0.0
    try:
        started = time.perf_counter()
        for rows in generator.chunks(count):
            t1 = time.perf_counter()
            generate_s += t1 - started
            con.execute("BEGIN")
            con.executemany(sql, rows)
            con.execute("COMMIT")
            started = time.perf_counter()
            insert_s += started - t1
        t1 = time.perf_counter()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint_s = time.perf_counter() - t1
        loaded = con.execute("SELECT count(*) FROM annotations").fetchone()[0]
        indexed = con.execute("SELECT count(*) FROM annotations_rtree").fetchone()[0]
    finally:
        con.close()
    if loaded != count or indexed != count:
        raise RuntimeError(f"SQLite holds {loaded} annotations and {indexed} R*Tree entries")
    size = backend.sqlite_path.stat().st_size
    return {
        "generate_s": generate_s,
        "insert_s": insert_s,
        "checkpoint_s": checkpoint_s,
        "rows_per_s": count / (insert_s + checkpoint_s),
        "index_entries": indexed,
        "db_bytes": size,
        "sqlite_version": sqlite3.sqlite_version,
    }


def load_postgis(backend: Backend, count: int) -> dict[str, Any]:
    """COPY ... FROM STDIN, one transaction per CHUNK rows; the BEFORE INSERT trigger fills
    `geom` (ST_GeomFromGeoJSON) and the GiST index is kept up to date row by row. Then
    VACUUM ANALYZE, which autovacuum would otherwise do a little later."""
    import psycopg

    generator = Generator(backend.catalogue)
    copy_sql = f"COPY annotations ({', '.join(COLUMNS)}) FROM STDIN"
    generate_s = insert_s = 0.0
    with psycopg.connect(backend.libpq_url) as con:
        started = time.perf_counter()
        for rows in generator.chunks(count):
            t1 = time.perf_counter()
            generate_s += t1 - started
            with con.cursor() as cur, cur.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            con.commit()
            started = time.perf_counter()
            insert_s += started - t1
    with psycopg.connect(backend.libpq_url, autocommit=True) as con:
        t1 = time.perf_counter()
        con.execute("VACUUM (ANALYZE) annotations")
        vacuum_s = time.perf_counter() - t1
        loaded, indexed = con.execute(
            "SELECT count(*), count(geom) FROM annotations"
        ).fetchone() or (0, 0)
        sizes = con.execute(
            "SELECT pg_total_relation_size('annotations'), pg_database_size(current_database()),"
            " pg_relation_size('ix_annotations_geom')"
        ).fetchone() or (0, 0, 0)
        versions = (
            con.execute(
                "SELECT current_setting('server_version'), postgis_lib_version(), "
                "postgis_geos_version(), current_setting('shared_buffers'), "
                "current_setting('work_mem')"
            ).fetchone()
            or ("?",) * 5
        )
    if loaded != count or indexed != count:
        raise RuntimeError(f"PostGIS holds {loaded} annotations, {indexed} with geom")
    return {
        "generate_s": generate_s,
        "insert_s": insert_s,
        "vacuum_s": vacuum_s,
        "rows_per_s": count / insert_s,
        "index_entries": indexed,
        "db_bytes": sizes[1],
        "table_bytes": sizes[0],
        "gist_bytes": sizes[2],
        "postgres_version": versions[0],
        "postgis_version": versions[1],
        "postgis_geos": versions[2],
        "shared_buffers": versions[3],
        "work_mem": versions[4],
    }


# ----------------------------------------------------------- in-process measurements


def inprocess(backend: Backend, boxes: list[list[float]]) -> dict[str, Any]:
    """The app's own search and serialisation, timed step by step in this process, the
    query plan, and a cProfile of the whole request through Flask's test client."""
    from annotations.search import Filters, search, statement
    from annotator import create_app
    from annotator.api.annotations import feature_of

    app = create_app({"DATA_DIR": str(backend.data_dir), "DATABASE_URL": backend.url})
    database = app.extensions["annotator.database"]
    steps: dict[str, list[float]] = {"sql": [], "search": [], "features": [], "dumps": []}
    chosen = boxes[:BREAKDOWN_BOXES]
    plan: list[str] = []
    try:
        with app.app_context():
            for repeat in range(2):
                for box in chosen:
                    filters = Filters(bbox=tuple(box), limit=QUERY_LIMIT)
                    with database.read() as session:
                        query = statement(session, filters).limit(QUERY_LIMIT + 1)
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
                        rows, _ = search(session, filters)
                        t3 = time.perf_counter()
                        features = [feature_of(row) for row in rows]
                        t4 = time.perf_counter()
                    body = {
                        "type": "FeatureCollection",
                        "features": features,
                        "numberReturned": len(features),
                        "links": [],
                    }
                    json.dumps(body, ensure_ascii=False)
                    t5 = time.perf_counter()
                    if repeat:
                        steps["sql"].append((t1 - t0) * 1000)
                        steps["search"].append((t3 - t2) * 1000)
                        steps["features"].append((t4 - t3) * 1000)
                        steps["dumps"].append((t5 - t4) * 1000)
                    assert len(raw) >= len(rows)
            with database.read() as session:
                first = Filters(bbox=tuple(chosen[0]), limit=QUERY_LIMIT)
                query = statement(session, first)
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
        profile_file = OUT / f"profile-{backend.name}.txt"
        profile_file.write_text(
            f"cProfile of GET /api/v1/annotations?bbox=...&limit={QUERY_LIMIT} on "
            f"{backend.title}, {len(chosen)} boxes of about {QUERY_TARGET} features, through "
            f"Flask's test client in one process\n\n" + stream.getvalue()
        )
    finally:
        database.dispose()
    figures = {name: percentile(values, 50) for name, values in steps.items()}
    figures["plan"] = plan
    figures["sql_text"] = sql
    figures["profile_file"] = str(profile_file.relative_to(ROOT))
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


#: (file suffix, function): what a query request spends its time in (cumulative)
QUERY_KEYS = (
    ("annotator/auth.py", "current_user", "authentication (token lookup)"),
    ("annotations/search.py", "search", "search(): SQL, ORM objects, exact test"),
    ("sqlalchemy/orm/loading.py", "chunks", "- fetching rows, building Annotation objects"),
    ("annotations/annotation.py", "geometry", "- Annotation.geometry (json.loads + shape)"),
    ("annotator/api/annotations.py", "feature_of", "feature_of() per row"),
    ("annotations/annotation.py", "to_feature", "- to_feature(): 4 json.loads per row"),
    ("annotations/db.py", "process_result_value", "- UTCDateTime per value"),
    ("json/__init__.py", "dumps", "json.dumps"),
)
#: the same for a POST of a FeatureCollection
INSERT_KEYS = (
    ("annotator/forms.py", "json_body", "reading the JSON body"),
    ("annotations/annotation.py", "parse_feature", "parse_feature() per feature"),
    ("annotations/geometry.py", "parse_geometry", "- parse_geometry (checks, set_precision)"),
    ("annotations/annotation.py", "create", "store.create() per feature"),
    ("annotations/annotation.py", "_apply", "- _apply()"),
    ("annotations/catalogue/images.py", "footprint", "-- Image.footprint (json.loads + shape)"),
    ("annotations/measure.py", "measure", "-- measure() (pyproj)"),
    ("sqlalchemy/orm/session.py", "flush", "- session.flush() per feature"),
    ("annotations/annotation.py", "_snapshot", "- _snapshot() for the revision"),
    ("annotations/history.py", "record", "- history.record() (json.dumps)"),
    ("annotator/api/annotations.py", "feature_of", "feature_of() for the answer"),
    ("sqlalchemy/orm/session.py", "commit", "commit"),
)


def key_functions(
    stats: pstats.Stats, keys: Sequence[tuple[str, str, str]], requests: int
) -> list[dict[str, Any]]:
    """Cumulative ms per request spent in each of `keys` (outermost calls only)."""
    entries = stats.stats  # type: ignore[attr-defined]
    found = []
    for suffix, name, title in keys:
        cumulative = calls = 0.0
        for (filename, _line, function), value in entries.items():
            if function == name and filename.endswith(suffix):
                cumulative += value[3]
                calls += value[1]
        found.append(
            {"title": title, "ms": cumulative * 1000 / requests, "calls": calls / requests}
        )
    return found


def profile_insert(backend: Backend) -> dict[str, Any]:
    """A cProfile of one POST of API_BATCH features through Flask's test client (after the
    measured runs, so the extra rows change nothing that is measured)."""
    from annotator import create_app

    app = create_app({"DATA_DIR": str(backend.data_dir), "DATABASE_URL": backend.url})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {backend.token}"}
    generator = Generator(backend.catalogue)
    batches = list(generator.chunks(2 * API_BATCH, stream=8, chunk=API_BATCH))
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
        app.extensions["annotator.database"].dispose()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(50)
    profile_file = OUT / f"profile-{backend.name}-insert.txt"
    profile_file.write_text(
        f"cProfile of POST /api/v1/annotations with a FeatureCollection of {API_BATCH} "
        f"features on {backend.title}, through Flask's test client in one process\n\n"
        + stream.getvalue()
    )
    return {
        "ms": elapsed * 1000,
        "profile_file": str(profile_file.relative_to(ROOT)),
        "top_functions": top_functions(stats),
        "keys": key_functions(stats, INSERT_KEYS, 1),
    }


def naive_sql(backend: Backend, boxes: list[list[float]]) -> dict[str, Any]:
    """The same bounding-box test on the plain min/max columns with every index refused:
    a full table scan (SQLite `NOT INDEXED`, PostgreSQL with index and bitmap scans off)."""
    import shapely

    chosen = boxes[:NAIVE_BOXES]
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
        import psycopg

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


def http_runs(
    backend: Backend, boxes: list[list[float]], warm: list[list[float]], noise: Noise
) -> dict[str, Any]:
    server = Server(backend.name, backend.env(), backend.token)
    layout = site_layout()
    figures: dict[str, Any] = {}
    server.start()
    assert server.process is not None
    pgid = server.process.pid
    memory = MemorySampler(pgid)
    try:
        figures["start_s"] = server.start_s
        client = Client(server.port, server.headers)
        memory.phase = "sites"
        for site in range(SITES):
            reply = client.post_json(
                "/api/v1/sites",
                {
                    "name": f"Bench site {site + 1:02d}",
                    "slug": layout.slug(site),
                    "lon": float(layout.lon[site]),
                    "lat": float(layout.lat[site]),
                    "radius_m": 3000,
                },
            )
            if reply.status != 201:
                raise RuntimeError(f"POST /api/v1/sites: HTTP {reply.status} {reply.body[:200]!r}")
        client.close()

        memory.phase = "queries"
        warm_answers = query_run(server, warm, list(range(len(warm))), 2)[1]
        figures["warm_ms"] = [a.ms for a in warm_answers]
        rng = random.Random(SEED)
        best: dict[str, Any] | None = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            noise.wait_for_quiet()
            meter = CpuMeter()
            before = {pid: process_cpu_s(pid) for pid in group_pids(pgid)}
            passes = []
            for _ in range(2):
                order = list(range(len(boxes)))
                rng.shuffle(order)
                passes.append(query_run(server, boxes, order, 1)[1])
            used = sum(process_cpu_s(pid) - cpu for pid, cpu in before.items())
            run = {
                "pass1": passes[0],
                "pass2": passes[1],
                "server_cpu_ms": used * 1000 / max(1, len(passes[0]) + len(passes[1])),
                "other_share": meter.other_share(),
                "attempts": attempt,
            }
            if best is None or run["other_share"] < best["other_share"]:
                best = run
            if attempt == MAX_ATTEMPTS or not noise.again(
                run["other_share"], f"{backend.title} queries"
            ):
                break
        assert best is not None
        figures.update(best)

        noise.wait_for_quiet()
        meter = CpuMeter()
        order = list(range(len(boxes))) * 2
        rng.shuffle(order)
        wall, answers = query_run(server, boxes, order, CONCURRENCY)
        figures["concurrent"] = {
            "answers": answers,
            "wall_s": wall,
            "other_share": meter.other_share(),
        }
        figures["memory_after_queries"] = memory.snapshot()

        memory.phase = "inserts"
        figures["inserts"] = api_inserts(backend, server)
        figures["memory_after_inserts"] = memory.snapshot()
    finally:
        memory.stop()
        server.stop()
    figures["peak_total_kb"] = dict(memory.peak_total)
    return figures


def api_inserts(backend: Backend, server: Server) -> dict[str, Any]:
    """POST FeatureCollections of API_BATCH new features, one after the other."""
    generator = Generator(backend.catalogue)
    client = Client(server.port, server.headers)
    times, problems = [], []
    made = 0
    meter = CpuMeter()
    try:
        for number, rows in enumerate(
            generator.chunks(API_BATCHES * API_BATCH, stream=7, chunk=API_BATCH)
        ):
            features = [feature_for_api(row) for row in rows]
            reply = client.post_json(
                "/api/v1/annotations", {"type": "FeatureCollection", "features": features}
            )
            times.append(reply.ms)
            if reply.status != 201:
                problems.append(f"batch {number}: HTTP {reply.status} {reply.body[:300]!r}")
                continue
            made += len(json.loads(reply.body)["features"])
    finally:
        client.close()
    total_s = sum(times) / 1000
    return {
        "batches": len(times),
        "batch_size": API_BATCH,
        "created": made,
        "features_per_s": made / total_s if total_s else 0.0,
        "batch_p50_ms": percentile(times, 50),
        "batch_max_ms": max(times) if times else NAN,
        "problems": problems,
        "other_share": meter.other_share(),
    }


# -------------------------------------------------------------------- floor (process)


def floor_worker(catalogue_file: Path, count: int) -> dict[str, Any]:
    """All annotations in a GeoDataFrame with its STRtree; picks the query boxes, then times
    the floor (sindex query + to_json) and a naive scan. Runs in its own process."""
    import geopandas as gpd
    import pandas as pd
    import shapely

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
    boxes, warm = [], []
    for number in range(SITES + WARM_BOXES):
        site = number % SITES
        rows = np.flatnonzero(site_of_row == site)
        row = rows[rng.integers(len(rows))]
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
            if best is None or abs(hits - QUERY_TARGET) < abs(best[2] - QUERY_TARGET):
                best = (half, box, hits)
            if abs(hits - QUERY_TARGET) <= QUERY_TOLERANCE * QUERY_TARGET:
                break
            low, high = (half, high) if hits < QUERY_TARGET else (low, half)
        assert best is not None
        (boxes if number < SITES else warm).append(
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
    for item in boxes[:NAIVE_BOXES]:
        t0 = time.perf_counter()
        hits = np.flatnonzero(shapely.intersects(geoms, shapely.box(*item["box"])))
        text = gdf.iloc[hits].to_json()
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


def run_floor(catalogue: list[CatalogueImage], count: int, noise: Noise) -> dict[str, Any]:
    CATALOGUE_FILE.write_text(json.dumps([c.__dict__ for c in catalogue]))
    noise.wait_for_quiet()
    log("floor: GeoDataFrame + sindex in a separate process; choosing the query boxes")
    meter = CpuMeter()
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--floor-worker",
            str(CATALOGUE_FILE),
            "--count",
            str(count),
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
    BOXES_FILE.write_text(json.dumps({"boxes": figures["boxes"], "warm": figures["warm"]}))
    return figures


# --------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import shapely

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


def ms(value: float) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def pct(value: float) -> str:
    return f"{value:.0%}"


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


def render(res: dict[str, Any]) -> str:
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
    gc_table = table(
        [
            "backend",
            "p50 ms",
            "p95 ms",
            "p50 without GC",
            "p95 without GC",
            "share of time in GC",
            "full (gen 2) collections",
            "ms per full collection",
        ],
        gc_rows,
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
    observations = "\n".join("- " + o for o in observations_for(res, sums, floor_p50))
    error_lines = "\n".join("- " + e for e in errors[:20]) or "- none"

    return f"""# Annotation storage benchmark

Written by `make bench-annotations` (`benchmarks/annotations.py`) on {res["when"]:%Y-%m-%d %H:%M}
UTC with {count:,} annotations per backend; the run took {res["elapsed_s"] / 60:.1f} min.
Re-run it rather than editing this file: it is overwritten.

## Targets

{table(["target", "goal", "measured", "status"], targets)}

## Machine and versions

{table(["", ""], list(info.items()))}

## Method

- **Sites and images**: {SITES} sites between 30-50 E and 24-40 N, each with {CAPTURES}
  synthetic captures: WGS 84 GeoTIFFs of {IMAGE_PX} x {IMAGE_PX} px over
  {2 * IMAGE_HALF_M / 1000:.1f} x {2 * IMAGE_HALF_M / 1000:.1f} km (GSD
  {first.results["gsd_m"]:.1f} m), imported with `annotator images import` in
  {first.import_s:.1f} s for the {SITES * CAPTURES} files. The sites (3 km circles) are added
  through `POST /api/v1/sites` once the server is up.
- **Annotations**: {count:,} rows from a fixed seed: {pct(KIND_SHARE[0])} rotated boxes of
  aircraft (the taxonomy's reference length x span for the type ±3 %, 13.5-75 m; unknown
  types 15-75 m; one in ten axis-aligned `box`), {pct(KIND_SHARE[1])} polygons of 6-12
  vertices, 15-75 m across (hangars, revetments, tents, craters, fires, unidentified
  aircraft), {pct(KIND_SHARE[2])} convoy lines of 0.5-5 km with 8-24 vertices. Sites differ in
  size (log-normal weights); within a site {pct(CLUSTERED_SHARE)} of the annotations gather
  around {CLUSTERS} busy spots (60-400 m standard deviation), the rest are spread over
  {2 * SPREAD_M / 1000:.1f} x {2 * SPREAD_M / 1000:.1f} km. Each row is what the app itself
  stores: the geometry text byte for byte as the app normalises it (counter-clockwise rings,
  7 decimals) with its bounds, attributes valid for the label, measurements (length, width,
  area, perimeter, heading; within 0.5 % of `annotations.measure`), the image's provenance in
  `source`, review states (30 % draft, 25 % in review, 40 % approved, 5 % rejected) and
  versions, 12 analysts and 3 editors, a `created_at` about every 15 s, notes on
  {pct(NOTES_SHARE)} and {pct(DELETED_SHARE)} soft-deleted. No revisions are loaded (listing
  never reads them). Generating the rows takes {sqlite_load["generate_s"]:.0f} s per backend.
- **Direct load**: executemany in transactions of {CHUNK:,} rows on SQLite (the app's
  pragmas: WAL, synchronous NORMAL, foreign keys on; plus a 1 GiB page cache for the loading
  connection), `COPY annotations (...) FROM STDIN` in transactions of {CHUNK:,} rows on
  PostgreSQL. The migration's triggers fill the R*Tree and the `geom` column (afterwards
  checked: one R*Tree entry per row, no NULL `geom`). Then a WAL checkpoint on SQLite and
  `VACUUM (ANALYZE)` on PostgreSQL (what autovacuum does shortly after a bulk load). SQLite is
  not `ANALYZE`d: the app never does it.{pg_note}
- **Query boxes**: {len(boxes)} squares, one per site, centred on a random annotation and
  sized by binary search on the in-memory index to meet {QUERY_TARGET:,} ± {pct(QUERY_TOLERANCE)}
  non-deleted annotations (exact GEOS intersects): {min(counts)}-{max(counts)} features,
  {min(widths):.0f}-{max(widths):.0f} m wide (median {np.median(widths):.0f} m). {WARM_BOXES}
  other boxes warm each server up.
- **HTTP**: `annotator serve --workers {WORKERS}` (gunicorn gthread, 4 threads per worker,
  access log on), bearer token, `GET /api/v1/annotations?bbox=w,s,e,n&limit={QUERY_LIMIT}`
  from this process over one keep-alive connection: every box twice, in a shuffled order (p50
  and p95 over the {2 * len(boxes)} requests; "first ask" is the first pass alone); then
  {2 * len(boxes)} requests over {CONCURRENCY} connections. Latency runs from sending the
  request to having read the whole body. Every answer is checked: HTTP 200, a
  FeatureCollection, `numberReturned` equal to its features, no next page, and exactly the
  annotation ids the floor found for that box.
- **Floor**: a separate process holds every non-deleted annotation in a GeoDataFrame
  ({floor["annotations"]:,} rows: the geometry and the API's properties as Python objects)
  with its STRtree `sindex` (built in {floor["sindex_s"]:.1f} s; the process peaked at
  {mb(floor["maxrss_kb"])} RSS). Per box: `sindex.query(box, predicate="intersects")` then
  `gdf.iloc[hits].to_json()`, timed on the second of two passes: the same FeatureCollection in
  content (ids, properties, geometry) as the API's.
- **Naive scans**: in memory, `shapely.intersects` over all {floor["annotations"]:,}
  geometries, then `to_json`; in SQL, the bounding-box test on the `min_lon`..`max_lat`
  columns with every index refused (SQLite `NOT INDEXED`; PostgreSQL with `enable_indexscan`,
  `enable_bitmapscan` and `enable_indexonlyscan` off), fetching every column and testing the
  exact geometry; {NAIVE_BOXES} boxes each, with no server running.
- **In-process breakdown**: the app's own functions called in this process for
  {BREAKDOWN_BOXES} boxes (second pass): the SQL the app sends (`annotations.search.statement`,
  compiled) run on the driver alone; `search()` (SQL, ORM objects and exact test);
  `feature_of()` per row; `json.dumps` of the collection. cProfile of whole requests through
  Flask's test client (the query for those boxes, and one POST of {API_BATCH:,} features) is
  in `benchmarks/out/annotations/profile-*.txt`.
- **Memory**: the server's processes are found by process group; the sum of their VmRSS is
  sampled every 50 ms; VmHWM (the kernel's peak RSS of each process), VmRSS and PSS (shared
  pages split between processes) are read after the queries and after the API inserts.
- **API bulk insert**: {API_BATCHES} `POST /api/v1/annotations` of FeatureCollections of
  {API_BATCH:,} new features (the same generator, another seed), one after the other, after
  the query runs; each is checked, measured, stored with its revision, all-or-nothing.
- **Noise**: the machine ({NPROC} cores) is shared by the server, the load generator and
  possibly other people's processes. "other CPU" is the share of the machine used by
  processes outside this benchmark during a measurement (from /proc/stat, minus our own, our
  servers' and our PostgreSQL's CPU time); a query run above {pct(DISTURBED)} is repeated once
  and the quieter run kept. This run: {res["noise"].retries} repeats,
  {res["noise"].waited:.0f} s spent waiting for a quiet machine.
- All traffic is to 127.0.0.1.

## Bounding-box queries of about {QUERY_TARGET:,} features

{
        table(
            [
                "what",
                "p50 ms",
                "p95 ms",
                "first ask p50 ms",
                "mean features",
                "mean KiB",
                "samples",
                "other CPU",
            ],
            queries,
        )
    }

Answers identical to the floor's (the same annotation ids, box by box): {same}.

At concurrency {CONCURRENCY} ({WORKERS} workers x 4 threads):

{
        table(
            [
                "backend",
                "queries/s",
                "p50 ms",
                "server CPU ms per query at concurrency 1",
                "other CPU",
            ],
            concurrency,
        )
    }

## Where the time goes

In-process, median ms per query:

{
        table(
            [
                "backend",
                "SQL on the driver",
                "search() = SQL + ORM + exact test",
                "feature_of() for every row",
                "json.dumps",
                "app total",
                "HTTP p50",
                "HTTP - app",
            ],
            breakdown,
        )
    }

Python's cyclic garbage collector during the same requests ({gc_requests} per backend, every
box twice, through Flask's test client, timed with `gc.callbacks`):

{gc_table}

From the profile of the request (cumulative ms per request, including the profiler's own
overhead; indented rows are part of the row above):

{keys_table("inprocess")}

Functions with the most own time (share of the profiled time):

{top_table("inprocess")}

Query plans of the app's statement for the first box:

{plans}

## Bulk insert

{
        table(
            ["backend", "path", "features", "time", "features/s", "", "database size", "other CPU"],
            loads,
        )
    }

From the profile of one POST of {API_BATCH:,} features (cumulative ms for the request):

{keys_table("insert_profile")}

{top_table("insert_profile")}

## Server memory

{
        table(
            [
                "backend",
                "when",
                "master peak (VmHWM)",
                "workers' peaks (VmHWM)",
                "RSS now, each process",
                "PSS now, total",
            ],
            memory,
        )
    }

Peak of the sampled sum of RSS (master + workers), by phase:

{table(["backend", "adding 50 sites", "queries", "API inserts"], peaks)}

## Observations

Generated from this run's figures:

{observations}

## Errors

{len(errors)} bad answers or failed POSTs.

{error_lines}
"""


def observations_for(res: dict[str, Any], sums: dict[str, Summary], floor_p50: float) -> list[str]:
    found = []
    for b in res["backends"]:
        s, ip = sums[b.name], b.results["inprocess"]
        total = ip["search"] + ip["features"] + ip["dumps"]
        rest = s.p50 - total
        tail = (
            f"the remaining {ms(rest)} ms is HTTP, authentication and moving {s.mean_kib:.0f} KiB."
            if rest >= 2
            else "HTTP and authentication add nothing measurable on top (the in-process "
            f"medians of {BREAKDOWN_BOXES} boxes already reach the HTTP p50)."
        )
        found.append(
            f"{b.title}: of {ms(s.p50)} ms per query over HTTP, the database's part (the SQL "
            f"on the driver) is {ms(ip['sql'])} ms; ORM objects and the exact test add "
            f"{ms(ip['search'] - ip['sql'])} ms, `feature_of` {ms(ip['features'])} ms and "
            f"`json.dumps` {ms(ip['dumps'])} ms; {tail}"
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


def ensure_index_link() -> None:
    """docs/benchmarks.md holds a short section pointing at this benchmark's own page."""
    write_section("annotations", "# Annotation storage\n\n" + INDEX_LINE)


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


def run_backend(backend: Backend, count: int, floor: dict[str, Any], noise: Noise) -> None:
    boxes = [item["box"] for item in floor["boxes"]]
    warm = [item["box"] for item in floor["warm"]]
    log(f"{backend.title}: loading {count:,} annotations")
    noise.wait_for_quiet()
    meter = CpuMeter()
    load = load_sqlite(backend, count) if backend.name == "sqlite" else load_postgis(backend, count)
    load["other_share"] = meter.other_share()
    backend.results["load"] = load
    log(f"{backend.title}: {load['rows_per_s']:,.0f} rows/s")
    log(f"{backend.title}: in-process breakdown and profile")
    backend.results["inprocess"] = inprocess(backend, boxes)
    log(f"{backend.title}: naive SQL scan")
    backend.results["naive"] = naive_sql(backend, boxes)
    log(f"{backend.title}: HTTP queries and inserts")
    backend.results["http"] = http_runs(backend, boxes, warm, noise)
    log(f"{backend.title}: profile of one POST of {API_BATCH:,} features")
    backend.results["insert_profile"] = profile_insert(backend)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT, help="annotations per backend")
    parser.add_argument("--backends", default="sqlite,postgis", help="comma-separated")
    parser.add_argument("--no-doc", action="store_true", help="do not write the docs")
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker:
        print(json.dumps(floor_worker(args.floor_worker, args.count)))
        return 0

    began = time.perf_counter()
    when = datetime.now(UTC)
    noise = Noise(began, RETRY_BUDGET_S)
    OUT.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    wanted = [name.strip() for name in args.backends.split(",") if name.strip()]
    layout = site_layout()
    sources = write_images(layout)
    backends = []
    if "sqlite" in wanted:
        backends.append(Backend("sqlite", "SQLite", OUT / "sqlite"))
    if "postgis" in wanted:
        backends.append(Backend("postgis", "PostGIS", OUT / "postgis"))
    if not backends:
        parser.error("--backends: give sqlite, postgis or both")

    if "postgis" in wanted:
        from tests.postgis import missing

        why = missing()
        if why:
            parser.error(f"cannot start PostgreSQL + PostGIS: {why}; or run --backends sqlite")
    cluster = None
    floor: dict[str, Any] | None = None
    try:
        for backend in backends:
            if backend.name == "postgis":
                from tests.postgis import ThrowawayCluster

                log("starting a throwaway PostgreSQL + PostGIS cluster")
                cluster = ThrowawayCluster().start()
                assert cluster.directory is not None
                TRACKED_CLUSTERS.append(cluster.directory)
                backend.url = cluster.url
            prepare(backend, sources)
            if floor is None:
                floor = run_floor(backend.catalogue, args.count, noise)
            run_backend(backend, args.count, floor, noise)
    finally:
        if cluster is not None:
            cluster.stop()
    assert floor is not None
    res = {
        "when": when,
        "count": args.count,
        "floor": floor,
        "backends": backends,
        "noise": noise,
        "elapsed_s": time.perf_counter() - began,
    }
    RESULTS_FILE.write_text(json.dumps(raw_results(res), default=str))
    report = render(res)
    print(report)
    if not args.no_doc:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(report)
        ensure_index_link()
        log(f"wrote {DOC.relative_to(ROOT)}")
    log(f"done in {res['elapsed_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
