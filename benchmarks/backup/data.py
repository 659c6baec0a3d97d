"""The backup benchmark's data folder: 100 captures (50 sites x 2) as real COGs of noise that
the app ingested itself (about 200 MB each, 20 GB in all: noise does not compress away), and
1,000,000 annotations on them with their history (one revision per version, each holding the
Feature before and after, as the app writes them). Built once under benchmarks/out/backup/
and reused while its `state.json` says the same scale."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import from_origin

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role, add_user, create_token, get_user
from annotations.db import Database
from annotations.schema import upgrade
from annotator import create_app, services
from annotator.intake import Upload, import_images
from benchmarks.annotations.backends import Backend, load_sqlite
from benchmarks.annotations.data import (
    CAPTURES,
    IMAGE_HALF_M,
    PASSWORD,
    PROVIDER,
    USER,
    CatalogueImage,
    catalogue_image,
    metres_per_degree,
    site_layout,
)
from benchmarks.common.options import Workplace
from benchmarks.common.servers import Annotator
from benchmarks.common.timing import log

SEED = 20261206
#: sources written and imported at a time (then deleted), so the disk holds them only briefly
BATCH = 10


@dataclass(frozen=True)
class Scale:
    """The counts of a run: the published benchmark, or the smoke mode's tiny ones."""

    annotations: int = 1_000_000
    sites: int = 50
    image_px: int = 7168  # 3 bands: about 202 MB of COG each with its overviews
    warm_rounds: int = 5
    cold_rounds: int = 2
    idle_s: float = 15.0  # tile load measured with nothing else running, before each round


FULL = Scale()
SMOKE = Scale(annotations=1000, sites=2, image_px=512, warm_rounds=1, cold_rounds=1, idle_s=1.0)


@dataclass(frozen=True)
class Bench(Workplace):
    scale: Scale

    @property
    def state_file(self) -> Path:
        return self.out / "state.json"

    @property
    def sources(self) -> Path:
        return self.out / "sources"

    @property
    def backups(self) -> Path:
        """Where the backups go: the data folder's filesystem, so hard links work."""
        return self.out / "backups"

    @property
    def database(self) -> Path:
        return self.data_dir / "annotator.db"

    @property
    def images(self) -> Path:
        return self.data_dir / "images"

    @property
    def cli(self) -> Annotator:
        """The app's command line on the data folder."""
        return Annotator(self.data_dir)


@dataclass(frozen=True)
class Data:
    """What the data folder holds (state.json)."""

    annotations: int
    revisions: int
    images: int
    image_px: int
    cog_bytes: int
    db_bytes: int
    tile_image: str  # the image the tile client loads
    token: str
    build_s: float


def prepare(bench: Bench) -> Data:
    """The data folder, built unless state.json says it holds this scale already."""
    scale = bench.scale
    if bench.state_file.exists():
        state = json.loads(bench.state_file.read_text())
        data = Data(**state)
        if (
            data.annotations == scale.annotations
            and data.images == scale.sites * CAPTURES
            and data.image_px == scale.image_px
            and bench.database.exists()
        ):
            return data
    started = time.perf_counter()
    shutil.rmtree(bench.data_dir, ignore_errors=True)
    shutil.rmtree(bench.backups, ignore_errors=True)
    log(f"building the data folder in {bench.data_dir}")
    # in this process, through the functions `annotator init`, `users add`, `images import`
    # and `tokens create` call: one interpreter start instead of four
    app = create_app({"DATA_DIR": str(bench.data_dir)})
    database = services.database(app)
    try:
        upgrade(database)
        with database.write() as session:
            add_user(session, USER, Role.analyst, PASSWORD)
        catalogue = import_all(bench, database, app.config["IMAGES_DIR"])
        with database.write() as session:
            token = create_token(session, get_user(session, USER), "bench")
    finally:
        database.dispose()
    backend = Backend("sqlite", "SQLite", bench.data_dir, catalogue=catalogue)
    log(f"loading {scale.annotations:,} annotations")
    load_sqlite(backend, scale.annotations)
    log("writing their history (one revision per version)")
    revisions = write_history(bench.database)
    cog_bytes = sum(p.stat().st_size for p in bench.images.iterdir())
    data = Data(
        annotations=scale.annotations,
        revisions=revisions,
        images=len(catalogue),
        image_px=scale.image_px,
        cog_bytes=cog_bytes,
        db_bytes=bench.database.stat().st_size,
        tile_image=catalogue[0].id,
        token=token,
        build_s=time.perf_counter() - started,
    )
    bench.state_file.write_text(json.dumps(asdict(data), indent=2))
    log(f"data folder built in {data.build_s / 60:.1f} min: {cog_bytes / 1e9:.1f} GB of COGs")
    return data


# ------------------------------------------------------------------------------- images


def write_source(path: Path, site: int, capture: int, lon: float, lat: float, px: int) -> None:
    """A 3-band noise GeoTIFF of the 5.2 km square around a site, with its capture time."""
    mx, my = metres_per_degree(lat)
    width_deg, height_deg = 2 * IMAGE_HALF_M / mx, 2 * IMAGE_HALF_M / my
    transform = from_origin(
        lon - width_deg / 2, lat + height_deg / 2, width_deg / px, height_deg / px
    )
    rng = np.random.default_rng([SEED, site, capture])
    day = datetime(2024, 11, 1, 7, 30) + timedelta(days=site, hours=capture * 75)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=px,
        height=px,
        count=3,
        dtype="uint8",
        crs="EPSG:4326",
        transform=transform,
        tiled=True,
    ) as dst:
        dst.update_tags(TIFFTAG_DATETIME=day.strftime("%Y:%m:%d %H:%M:%S"))
        dst.write(rng.integers(1, 256, (3, px, px), dtype=np.uint8))


def import_all(bench: Bench, database: Database, store: Path) -> list[CatalogueImage]:
    """Every capture written as a source, imported as `annotator images import` does (the
    app writes the COG) BATCH at a time, and its source deleted."""
    layout = site_layout(bench.scale.sites)
    names = [(s, c) for s in range(bench.scale.sites) for c in range(CAPTURES)]
    provenance = Provenance(
        provider=PROVIDER, licence="CC0-1.0", attribution="synthetic, annotator benchmark"
    )
    catalogue: list[CatalogueImage] = []
    for first in range(0, len(names), BATCH):
        shutil.rmtree(bench.sources, ignore_errors=True)
        bench.sources.mkdir(parents=True)
        uploads = []
        for site, capture in names[first : first + BATCH]:
            path = bench.sources / f"site-{site + 1:02d}-{capture + 1}.tif"
            lon, lat = float(layout.lon[site]), float(layout.lat[site])
            write_source(path, site, capture, lon, lat, bench.scale.image_px)
            uploads.append(Upload(path, path.name))
        log(f"importing images {first + 1}-{first + len(uploads)} of {len(names)}")
        imported = import_images(database, store, uploads, provenance, max_pixels=10**10)
        catalogue += [catalogue_image(item.image.to_dict()) for item in imported]
        shutil.rmtree(bench.sources, ignore_errors=True)
    return sorted(catalogue, key=lambda c: (c.site, c.capture))


# ------------------------------------------------------------------------------ history


def _iso(column: str) -> str:
    """A stored time as the API writes it (RFC 3339 with 'Z'), or null."""
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE replace({column}, ' ', 'T') || 'Z' END"


def _status_at(n: str) -> str:
    """The status an annotation had at version `n`: a draft first, in review between, its
    present status at its present version."""
    return f"CASE WHEN {n} = a.version THEN a.status WHEN {n} = 1 THEN 'draft' ELSE 'in_review' END"


def _feature_at(n: str) -> str:
    """The annotation's Feature (as `Annotation.to_feature` writes it) at version `n`."""
    return f"""json_object(
        'type', 'Feature', 'id', a.id, 'geometry', json(a.geometry_geojson),
        'properties', json_object(
            'label', a.label, 'label_name', NULL, 'shape', a.shape,
            'confidence', a.confidence, 'count', a.count,
            'attributes', json(a.attributes_json), 'notes', a.notes, 'image_id', a.image_id,
            'observed_at', {_iso("a.observed_at")}, 'status', {_status_at(n)},
            'version', {n}, 'created_by', a.created_by, 'created_at', {_iso("a.created_at")},
            'updated_by', CASE WHEN {n} = 1 THEN a.created_by ELSE a.updated_by END,
            'updated_at', {_iso(f"CASE WHEN {n} = 1 THEN a.created_at ELSE a.updated_at END")},
            'deleted', json('false'), 'derived_from', NULL,
            'measurements', json(a.measurements_json), 'source', json(a.source_json),
            'reports', json('[]')))"""


HISTORY_SQL = f"""
INSERT INTO revisions (annotation_id, version, action, actor, at, comment, before_json, after_json)
SELECT a.id, v.n,
    CASE WHEN v.n = 1 THEN 'create'
         WHEN {_status_at("v.n")} = {_status_at("v.n - 1")} THEN 'edit' ELSE 'status' END,
    CASE WHEN v.n = 1 THEN a.created_by ELSE a.updated_by END,
    CASE WHEN v.n = 1 THEN a.created_at ELSE a.updated_at END,
    NULL,
    CASE WHEN v.n = 1 THEN NULL ELSE {_feature_at("v.n - 1")} END,
    {_feature_at("v.n")}
FROM annotations a JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5) v ON v.n <= a.version
WHERE a.rowid > ? AND a.rowid <= ?
"""  # noqa: S608 (constants only)


def write_history(database: Path, chunk: int = 100_000) -> int:
    """One revision per version of every annotation, as the app writes them: `create` with
    the first Feature, then `edit` or `status` with the Feature before and after."""
    con = sqlite3.connect(database, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA cache_size=-1048576")
        last = con.execute("SELECT max(rowid) FROM annotations").fetchone()[0] or 0
        for start in range(0, last, chunk):
            con.execute("BEGIN")
            con.execute(HISTORY_SQL, (start, start + chunk))
            con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count: int = con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    finally:
        con.close()
    return count


def describe(data: Data) -> dict[str, Any]:
    return asdict(data)
