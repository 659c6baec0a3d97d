"""Seed rows for every schema revision, for tests/annotations/test_upgrades.py.

The test builds a data folder at each revision in annotations/migrations/versions (read from
Alembic's script directory, never listed by hand), writing each revision's rows while the
schema stands at that revision, upgrades it to head with `annotations.schema.upgrade` (what
`annotator init` runs), and checks it against a folder made at head from the same rows.

ADDING A MIGRATION (say 0007)? The upgrade test fails until you add `tests/upgrades/r0007.py`:

- `ROWS: dict[str, list[Row]]`: rows written at 0007, in 0007's tables. Every table that
  exists at 0007 must hold a row, and every column a non-null value in some row, so give a
  new table rows and a new column a value (in rows of its own table written here).
  Each row names every column of its table as it stands at 0007 (the test refuses one that
  names more or fewer): written against that revision, not against the models.
- `carry(table, row) -> row` (only when 0007 changes rows written before it): the row as
  0007 leaves it, e.g. `{**row, "area_m2": None}` for a new empty column, or the value a
  data migration computes. This is your migration's promise; the test holds it to it.
  A rename or a split is a carry too; return the row unchanged for tables 0007 leaves alone.

Seeds are plain data (tests/upgrades/rows.py has helpers for timestamps, GeoJSON and the
Feature snapshots revisions hold); they never import the app, so they stay what was written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from tests.upgrades.rows import Row


@dataclass(frozen=True)
class Seed:
    revision: str
    rows: dict[str, list[Row]]
    carry: Callable[[str, Row], Row]


class MissingSeed(LookupError):
    pass


def _unchanged(_table: str, row: Row) -> Row:
    return row


def seed(revision: str) -> Seed:
    """The seed module of `revision` (tests/upgrades/r<revision>.py)."""
    name = f"{__name__}.r{revision}"
    try:
        module: ModuleType = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise MissingSeed(
            f"schema revision {revision} has no seed rows: add tests/upgrades/r{revision}.py "
            "(see tests/upgrades/__init__.py for what it holds)"
        ) from None
    return Seed(revision, module.ROWS, getattr(module, "carry", _unchanged))
