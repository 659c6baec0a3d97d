"""Build a database at any schema revision with the seed rows, and its reference at head.

`build_at(database, "0003")` runs the real migrations one revision at a time from nothing,
writing each revision's seed rows while the schema stands there, so a row written at 0001
reaches 0003 through the migrations 0002 and 0003 as it would in a real data folder.
`build_reference(database, "0003")` makes the schema at head and writes the same rows as
the seeds' `carry` functions say the migrations after each row's revision leave them.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    inspect,
    select,
)

from annotations.db import Database
from annotations.schema import UNMODELLED_COLUMNS, UNMODELLED_TABLES, _config, upgrade
from tests.upgrades import seed
from tests.upgrades.rows import Row


class SeedError(AssertionError):
    pass


@cache
def revisions() -> list[str]:
    """Every revision of the script directory, oldest first (one line of history)."""
    script = ScriptDirectory.from_config(_config())
    heads = script.get_heads()
    if len(heads) != 1:
        raise SeedError(f"the migrations have {len(heads)} heads ({heads}); merge them first")
    return [str(found.revision) for found in reversed(list(script.walk_revisions()))]


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
    """Head's schema with every revision's rows up to `target`, carried, written at once
    (each table after the tables it refers to: they were created before it)."""
    upgrade(database)
    merged: dict[str, list[Row]] = {}
    for _revision, rows in carried(target):
        for table, table_rows in rows.items():
            merged.setdefault(table, []).extend(table_rows)
    write(database, merged, "head")


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
        tables = as_they_stand(connection, list(rows))
        for name, table_rows in rows.items():
            table = tables[name]
            columns = {c.name for c in table.columns} - ignored_columns(name)
            for row in table_rows:
                if set(row) != columns:
                    raise SeedError(_misfit(name, where, row, columns))
            connection.execute(insert(table), table_rows)
        if not database.is_sqlite:
            _advance_sequences(connection, [tables[name] for name in rows])


def _misfit(name: str, where: str, row: Row, columns: set[str]) -> str:
    wrong = (
        f"has {sorted(set(row) - columns)} that the table lacks, lacks {sorted(columns - set(row))}"
    )
    if where == "head":
        return (
            f"a seed row of {name}, carried to head, does not fit the table: it {wrong}; the "
            f"revision that changed {name} needs a carry() saying what it does to the rows "
            "written before it (tests/upgrades/__init__.py)"
        )
    return f"a seed row of {name} written at {where} {wrong}: write it as {name} stands at {where}"


def as_they_stand(connection: Connection, names: list[str]) -> dict[str, Table]:
    """The tables' columns with their types as the database has them now (only the columns:
    quicker than reflecting indexes and keys too, which writing rows does not need)."""
    metadata = MetaData()
    found = inspect(connection).get_multi_columns(filter_names=names)
    return {
        name: Table(name, metadata, *(Column(c["name"], c["type"]) for c in columns))
        for (_schema, name), columns in found.items()
    }


def _advance_sequences(connection: Connection, tables: list[Table]) -> None:
    """Explicit ids do not move PostgreSQL's sequences; move them as the app's inserts would."""
    for table in tables:
        if "id" in table.c and isinstance(table.c.id.type, Integer):
            highest = select(func.max(table.c.id)).scalar_subquery()
            sequence = func.pg_get_serial_sequence(table.name, "id")
            connection.execute(select(func.setval(sequence, highest)))


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
        for name, table in as_they_stand(connection, names).items():
            columns = [c for c in table.columns if c.name not in ignored_columns(name)]
            counts = connection.execute(
                select(func.count(), *(func.count(c) for c in columns)).select_from(table)
            ).one()
            if counts[0] == 0:
                gaps.append(f"table {name} has no rows")
                continue
            gaps += [
                f"column {name}.{c.name} is null in every row"
                for c, filled in zip(columns, counts[1:], strict=True)
                if filled == 0
            ]
    return sorted(gaps)
