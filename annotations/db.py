"""Database engine and sessions: SQLite by default, PostgreSQL/PostGIS by URL.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write sessions open
their transaction with BEGIN IMMEDIATE, so two writers queue on the lock instead of
failing half-way with "database is locked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, DateTime, Engine, Float, and_, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from annotations import disk
from annotations.catalogue.area_cells import meets_area

BUSY_TIMEOUT_MS = 30_000
#: SQLite has no geometry type: this SQL function, registered on every SQLite connection,
#: is the exact test of the site filter (PostGIS uses ST_Intersects), see `search.on_site`
MEETS_AREA = "annotator_meets_area"


class Base(DeclarativeBase):
    pass


class BoundingBox:
    """WGS 84 bounding-box columns, for a cheap overlap pre-filter before exact geometry."""

    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    def set_bounds(self, bounds: tuple[float, float, float, float]) -> None:
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = bounds

    @property
    def bbox(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]

    @classmethod
    def overlapping(cls, bounds: tuple[float, float, float, float]) -> ColumnElement[bool]:
        west, south, east, north = bounds
        return and_(
            cls.min_lon <= east, cls.max_lon >= west, cls.min_lat <= north, cls.max_lat >= south
        )


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always handed back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_ids(count: int) -> list[str]:
    """`uuid.uuid4().hex` of `count` new ids, made at once: 16 random bytes each from the
    OS, with the version (4) and variant bits set as `uuid.uuid4` sets them."""
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = raw.tobytes().hex()
    return [digits[i : i + 32] for i in range(0, 32 * count, 32)]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        folder = make_url(url).database
        if folder and folder != ":memory:":
            disk.watch(Path(folder).parent)  # its I/O errors may mean a full disk
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # let SQLAlchemy's "begin" event issue BEGIN itself, so writes can ask for IMMEDIATE
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    dbapi_connection.create_function(MEETS_AREA, 6, meets_area, deterministic=True)


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get("immediate"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


class Database:
    """An engine plus read and write session factories."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(immediate=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        with self._write() as session, session.begin():
            yield session

    def refresh_statistics(self, table: str) -> None:
        """ANALYZE `table` after a bulk write, so the planner knows its new size at once.

        Without it PostgreSQL plans the next queries from the statistics of the table before
        the write (an empty one: a sequential scan looks cheapest) until autovacuum catches
        up, and psycopg's prepared statements keep such a plan: importing 100,000 features a
        second time took 288 s instead of 13. SQLite's planner needs no statistics for that.
        """
        if self.is_sqlite:
            return
        with self.engine.begin() as connection:
            connection.execute(text(f'ANALYZE "{table}"'))

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
