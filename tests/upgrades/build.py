"""Build a database at any schema revision with the seed rows, and its reference at head.

`build_at(database, "0003")` runs the real migrations one revision at a time from nothing,
writing each revision's seed rows while the schema stands there, so a row written at 0001
reaches 0003 through the migrations 0002 and 0003 as it would in a real data folder.
`build_reference(database, "0003")` makes the schema at head and writes the same rows as
the seeds' `carry` functions say the migrations after each row's revision leave them.
"""

from __future__ import annotations

import warnings
from collections import Counter

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Integer, MetaData, func, insert, inspect, select

from annotations.db import Database
from annotations.schema import UNMODELLED_COLUMNS, UNMODELLED_TABLES, _config, upgrade
from tests.upgrades import seed
from tests.upgrades.rows import Row


class SeedError(AssertionError):
    pass


def revisions() -> list[str]:
    """Every revision of the script directory, oldest first (one line of history)."""
    script = ScriptDirectory.from_config(_config())
    heads = script.get_heads()
    if len(heads) != 1:
        raise SeedError(f"the migrations have {len(heads)} heads ({heads}); merge them first")
    return [str(script.revision) for script in reversed(list(script.walk_revisions()))]


def up_to(target: str) -> list[str]:
    chain = revisions()
    return chain[: chain.index(target) + 1]


def migrate(database: Database, revision: str) -> None:
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def build_at(database: Database, target: str) -> None:
    for revision in up_to(target):
        migrate(database, revision)
        write(database, seed(revision).rows, revision)


def carried(target: str) -> list[tuple[str, dict[str, list[Row]]]]:
    """Each revision's seed rows up to `target`, as the migrations after it leave them."""
    chain = revisions()
    result = []
    for index, revision in enumerate(up_to(target)):
        later = [seed(r) for r in chain[index + 1 :]]
        rows = {}
        for table, written in seed(revision).rows.items():
            moved = []
            for row in written:
                for step in later:
                    row = step.carry(table, row)
                moved.append(row)
            rows[table] = moved
        result.append((revision, rows))
    return result


def build_reference(database: Database, target: str) -> None:
    upgrade(database)
    for revision, rows in carried(target):
        write(database, rows, f"head (rows of {revision}, carried)")


def expected_counts(target: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for revision in up_to(target):
        for table, rows in seed(revision).rows.items():
            counts[table] += len(rows)
    return counts


def ignored_columns(table: str) -> set[str]:
    """Columns the backend fills itself (PostGIS's geom, from the GeoJSON by a trigger)."""
    return {column for name, column in UNMODELLED_COLUMNS if name == table}


def write(database: Database, rows: dict[str, list[Row]], where: str) -> None:
    """Insert seed rows into the tables as they stand, each row naming every column."""
    with database.engine.begin() as connection:
        metadata = reflected(connection, list(rows))
        for name, table_rows in rows.items():
            table = metadata.tables[name]
            columns = {c.name for c in table.columns} - ignored_columns(name)
            for row in table_rows:
                if set(row) != columns:
                    raise SeedError(
                        f"a seed row of {name} at {where} names {sorted(set(row) - columns)} "
                        f"that the table lacks and lacks {sorted(columns - set(row))}"
                    )
            connection.execute(insert(table), table_rows)
        if not database.is_sqlite:
            _advance_sequences(connection, metadata, list(rows))


def reflected(connection: Connection, names: list[str]) -> MetaData:
    """The tables as they stand (SQLite cannot read back the lower(name) index: no matter)."""
    metadata = MetaData()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        metadata.reflect(connection, only=names)
    return metadata


def _advance_sequences(connection: Connection, metadata: MetaData, tables: list[str]) -> None:
    """Explicit ids do not move PostgreSQL's sequences; move them as the app's inserts would."""
    for name in tables:
        table = metadata.tables[name]
        if "id" in table.c and isinstance(table.c.id.type, Integer):
            highest = select(func.max(table.c.id)).scalar_subquery()
            connection.execute(
                select(func.setval(func.pg_get_serial_sequence(name, "id"), highest))
            )


def data_tables(connection: Connection) -> list[str]:
    """The tables that hold the app's data (not Alembic's, not the spatial index's own)."""
    names = inspect(connection).get_table_names()
    return sorted(
        name
        for name in names
        if name != "alembic_version" and not name.startswith(UNMODELLED_TABLES)
    )


def coverage_gaps(database: Database) -> list[str]:
    """Tables without a row and columns without a non-null value: what the seeds miss."""
    gaps = []
    with database.engine.connect() as connection:
        names = data_tables(connection)
        metadata = reflected(connection, names)
        for name in names:
            table = metadata.tables[name]
            if connection.scalar(select(func.count()).select_from(table)) == 0:
                gaps.append(f"table {name} has no rows")
                continue
            for column in table.columns:
                if column.name in ignored_columns(name):
                    continue
                filled = select(func.count()).select_from(table).where(column.is_not(None))
                if connection.scalar(filled) == 0:
                    gaps.append(f"column {name}.{column.name} is null in every row")
    return gaps
