"""The databases a benchmark runs on: a SQLite file, and a throwaway PostgreSQL + PostGIS
cluster when Debian's packages are there (as in the tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from annotations.db import sqlite_url
from benchmarks.common.timing import log
from tests.postgis import ThrowawayCluster, missing


@dataclass
class Backends:
    #: (name, database URL) of each backend to run on, SQLite first
    urls: list[tuple[str, str]] = field(default_factory=list)
    #: why PostGIS is left out (`--no-postgis`, or what is missing), None when it runs
    left_out: str | None = None


@contextmanager
def backends(folder: Path, name: str, *, no_postgis: bool) -> Iterator[Backends]:
    """SQLite in a new `folder` (emptied first, removed at the end), and PostGIS unless
    `no_postgis` or its packages are missing; the cluster is stopped however the run ends."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    chosen = Backends([("SQLite", sqlite_url(folder / f"{name}.sqlite"))])
    chosen.left_out = "--no-postgis" if no_postgis else missing()
    cluster = None
    try:
        if chosen.left_out is None:
            log("starting a throwaway PostgreSQL + PostGIS cluster")
            cluster = ThrowawayCluster().start()
            chosen.urls.append(("PostGIS", cluster.url))
        yield chosen
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
