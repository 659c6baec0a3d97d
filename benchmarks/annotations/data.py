"""The annotation benchmark's data: the 50 sites and their captures, and the realistic
annotation rows generated from a fixed seed (also used by benchmarks.exchange); the scale of
a run and where it works."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

from annotations.labels.taxonomy import load_taxonomy
from benchmarks.common.options import Workplace
from benchmarks.common.servers import ROOT

PAGE = ROOT / "docs" / "benchmarks-annotations.md"


@dataclass(frozen=True)
class Scale:
    """The counts of a run: the published benchmark, or the smoke mode's tiny ones."""

    count: int = 1_000_000
    sites: int = 50
    query_target: int = 1000  # features per query box
    warm_boxes: int = 5
    naive_boxes: int = 10
    breakdown_boxes: int = 10
    api_batches: int = 10
    api_batch: int = 1000
    max_attempts: int = 2


FULL = Scale()
SMOKE = Scale(
    count=1000,
    sites=2,
    query_target=20,
    warm_boxes=2,
    naive_boxes=2,
    breakdown_boxes=2,
    api_batches=2,
    api_batch=20,
    max_attempts=1,
)


@dataclass(frozen=True)
class Bench(Workplace):
    """Where a run works and at which scale."""

    scale: Scale

    @property
    def sources(self) -> Path:
        return self.out / "images"

    @property
    def boxes_file(self) -> Path:
        return self.out / "boxes.json"

    @property
    def catalogue_file(self) -> Path:
        return self.out / "catalogue.json"

    @property
    def results_file(self) -> Path:
        return self.out / "results.json"

    @property
    def page(self) -> Path:
        """The report's own page: docs/benchmarks-annotations.md (beside the smoke report)."""
        doc = self.options.doc
        return doc.with_name(doc.stem + "-annotations.md") if self.options.smoke else PAGE


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
QUERY_TOLERANCE = 0.05
QUERY_LIMIT = 2000
CONCURRENCY = 4
WORKERS = 2
USER = "bench"
PASSWORD = "benchpassword1"
PROVIDER = "annotator benchmark (synthetic)"
EPOCH = datetime(2025, 1, 6, tzinfo=UTC)

TARGET_P50_MS = 50.0
TARGET_FLOOR_RATIO = 3.0
TARGET_RSS_MB = 400.0

NAN = float("nan")
#: A disturbed query run (see common.timing.Noise) is taken again (at most
#: Scale.max_attempts times) while the run is younger than RETRY_BUDGET_S.
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

    lon: np.ndarray  # (sites,)
    lat: np.ndarray
    weight: np.ndarray  # share of all annotations
    clusters: np.ndarray  # (sites, CLUSTERS, 3): x m, y m, standard deviation m

    def slug(self, site: int) -> str:
        return f"bench-site-{site + 1:02d}"


def site_layout(sites: int = SITES) -> Layout:
    rng = np.random.default_rng([SEED, 0])
    points: list[tuple[float, float]] = []
    while len(points) < sites:  # eastern Mediterranean to the Gulf, at least ~30 km apart
        lon, lat = float(rng.uniform(30.0, 50.0)), float(rng.uniform(24.0, 40.0))
        if all(abs(lon - a) > 0.3 or abs(lat - b) > 0.3 for a, b in points):
            points.append((round(lon, 4), round(lat, 4)))
    weight = rng.lognormal(0.0, 0.6, sites)
    clusters = np.empty((sites, CLUSTERS, 3))
    clusters[..., :2] = rng.uniform(-1800.0, 1800.0, (sites, CLUSTERS, 2))
    clusters[..., 2] = rng.uniform(60.0, 400.0, (sites, CLUSTERS))
    return Layout(
        lon=np.array([p[0] for p in points]),
        lat=np.array([p[1] for p in points]),
        weight=weight / weight.sum(),
        clusters=clusters,
    )


def metres_per_degree(lat: np.ndarray | float) -> tuple[Any, Any]:
    return M_PER_DEG_LON * np.cos(np.radians(lat)), M_PER_DEG_LAT


def write_images(layout: Layout, sources: Path) -> list[Path]:
    """Two small captures per site (distinct pixels, so distinct sha256), WGS 84 GeoTIFFs."""
    sources.mkdir(parents=True, exist_ok=True)
    paths = []
    for site in range(len(layout.lon)):
        mx, my = metres_per_degree(layout.lat[site])
        width_deg, height_deg = 2 * IMAGE_HALF_M / mx, 2 * IMAGE_HALF_M / my
        transform = from_origin(
            layout.lon[site] - width_deg / 2,
            layout.lat[site] + height_deg / 2,
            width_deg / IMAGE_PX,
            height_deg / IMAGE_PX,
        )
        for capture in range(CAPTURES):
            path = sources / f"site-{site + 1:02d}-{capture + 1}.tif"
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


def catalogue_image(image: dict[str, Any]) -> CatalogueImage:
    """What the annotation generator needs of an image the app catalogued (its API JSON);
    its original file name is "<name>-<site>-<capture>.tif", both counted from 1."""
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
    return CatalogueImage(
        id=image["id"],
        site=int(site) - 1,
        capture=int(capture) - 1,
        source_json=json.dumps(source, ensure_ascii=False),
        observed_at=stored_time(image["captured_at"]),
    )


def api_time(stored: str) -> str:
    """What the API prints for a stored time (Annotation._iso)."""
    return datetime.fromisoformat(stored).isoformat() + "Z"


class Generator:
    """Annotation rows, chunk by chunk, the same for a given seed and catalogue."""

    def __init__(self, catalogue: list[CatalogueImage]) -> None:
        self.sites = len(catalogue) // CAPTURES
        self.layout = site_layout(self.sites)
        self.taxonomy = load_taxonomy()
        self.images = sorted(catalogue, key=lambda image: (image.site, image.capture))
        assert len(self.images) == self.sites * CAPTURES
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
        site = rng.choice(self.sites, n, p=layout.weight)
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
        polygons = shapely.polygons(ring)
        area = np.asarray(shapely.area(polygons))
        perimeter = np.asarray(shapely.length(polygons))
        rect = shapely.get_coordinates(shapely.minimum_rotated_rectangle(polygons))
        rect = rect.reshape(len(idx), 5, 2)
        first, second = rect[:, 1] - rect[:, 0], rect[:, 2] - rect[:, 1]
        a: np.ndarray = np.hypot(*first.T)
        b: np.ndarray = np.hypot(*second.T)
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
