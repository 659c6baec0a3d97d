"""The two databases the annotation benchmark measures (SQLite, PostGIS), made with the app's
CLI and bulk-loaded with generated rows straight into the `annotations` table."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from benchmarks.annotations.data import (
    COLUMNS,
    PASSWORD,
    PROVIDER,
    USER,
    CatalogueImage,
    Generator,
    catalogue_image,
)
from benchmarks.common.servers import Annotator
from benchmarks.common.timing import log


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

    @property
    def cli(self) -> Annotator:
        """The app's command line on this backend's data folder and database."""
        return Annotator(self.data_dir, self.url)

    def env(self) -> dict[str, str]:
        return self.cli.env()


def prepare(backend: Backend, sources: list[Path]) -> None:
    """A fresh data folder (and database) with the bench user, a token and the images."""
    log(f"{backend.title}: annotator init, users add, tokens create, images import")
    shutil.rmtree(backend.data_dir, ignore_errors=True)
    *_, token = backend.cli.batch(  # one process: the app's import paid once
        (("init",), None),
        (("users", "add", USER, "--role", "analyst", "--password-stdin"), PASSWORD),
        (("tokens", "create", USER), None),
    )
    backend.token = backend.cli.token_of(token)
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
    catalogue = [catalogue_image(image) for image in payload]
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
