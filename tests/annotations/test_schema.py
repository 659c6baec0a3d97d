"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from annotations.db import Database, sqlite_url
from annotations.schema import current, differences, head, upgrade


def test_migrations_match_models_and_are_idempotent(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path / "a.db"))
    assert current(database) is None
    assert upgrade(database) == head()
    assert upgrade(database) == head(), "running init twice changes nothing"
    assert differences(database) == []
    database.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path / "b.db"))
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    database.dispose()
