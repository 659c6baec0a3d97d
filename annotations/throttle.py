"""Rate-limit counters kept in the app's own database, as a storage for the `limits` library.

`limits` offers memory (one process only), Redis, Memcached, MongoDB and Valkey storages.
The app runs as several worker processes and needs no other service, so the counters live
in one small table of its database, which every worker already shares. A deployment that
has Redis can point ANNOTATOR_SIGNIN_STORAGE_URI at it instead.

Only the fixed-window strategy is supported: a counter per key that starts at its first
hit and expires `expiry` seconds later.
"""

from __future__ import annotations

import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from annotations.db import Base, Database

PRUNE_EVERY = 200  # increments between deletions of expired counters


class RateLimitCounter(Base):
    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


# one statement, so two workers counting the same key at once both count (SQLite >= 3.35
# and PostgreSQL share this syntax)
_INCREMENT = text(
    "INSERT INTO rate_limits (key, count, expires_at) VALUES (:key, :amount, :expires) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN rate_limits.expires_at <= :now THEN :amount "
    "ELSE rate_limits.count + :amount END, "
    "expires_at = CASE WHEN rate_limits.expires_at <= :now THEN :expires "
    "ELSE rate_limits.expires_at END "
    "RETURNING count"
)


class DatabaseStorage(Storage):
    """A `limits` storage on an `annotations.db.Database` (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["annotator-database"]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        database = options.pop("database", None)
        if not isinstance(database, Database):
            raise ValueError("DatabaseStorage needs database=<annotations.db.Database>")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.database = database
        self._increments = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        self._increments += 1
        with self.database.write() as session:
            if self._increments % PRUNE_EVERY == 0:
                session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < now))
            values = {"key": key[:255], "amount": amount, "expires": now + expiry, "now": now}
            count = session.execute(_INCREMENT, values).scalar()
        return int(count or 0)

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.database.read() as session:
            row = session.execute(
                select(RateLimitCounter.count, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == key[:255]
                )
            ).first()
        if row is None or row[1] <= time.time():
            return None
        return int(row[0]), float(row[1])

    def get(self, key: str) -> int:
        row = self._row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        try:
            with self.database.read() as session:
                session.execute(select(RateLimitCounter.key).limit(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.database.write() as session:
            result = session.execute(delete(RateLimitCounter))
        return int(getattr(result, "rowcount", 0) or 0)

    def clear(self, key: str) -> None:
        with self.database.write() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key[:255]))
