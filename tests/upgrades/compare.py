"""What an upgraded database and its reference are compared by: every row of every table,
the schema (columns, indexes, triggers), the spatial index, and the API's answers."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select, text

from annotations.db import Base, Database
from tests.upgrades import seed
from tests.upgrades.build import as_they_stand, data_tables, up_to

Answer = tuple[int, str | None, bytes]


def table_rows(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every modelled table, read through the models' column types."""
    dump = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [dict(row._mapping) for row in connection.execute(query)]
    return dump


def first_difference(found: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> str:
    """The first row that differs, column by column, for a message a person can read."""
    for index, (got, want) in enumerate(zip(found, wanted, strict=False)):
        if got != want:
            columns = {
                k: (got.get(k), want.get(k)) for k in {*got, *want} if got.get(k) != want.get(k)
            }
            return f"row {index} differs in {columns} (upgraded, reference)"
    return f"{len(found)} rows after the upgrade, {len(wanted)} in the reference"


def as_stored(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table as the schema stands now (any revision), in order."""
    with database.engine.connect() as connection:
        tables = as_they_stand(connection, data_tables(connection))
        return {
            name: [tuple(row) for row in connection.execute(select(table).order_by(*table.c))]
            for name, table in tables.items()
        }


SQLITE_SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
POSTGRES_SCHEMA = [
    """SELECT table_name, ordinal_position, column_name, data_type, is_nullable,
              column_default, character_maximum_length
       FROM information_schema.columns WHERE table_schema = 'public'
       ORDER BY table_name, ordinal_position""",
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
    "ORDER BY tablename, indexname",
    """SELECT event_object_table, trigger_name, event_manipulation, action_timing,
              action_statement
       FROM information_schema.triggers ORDER BY 1, 2, 3""",
    """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
]


def schema(database: Database) -> list[tuple[Any, ...]]:
    """The schema as the backend describes it, to the trigger and the constraint."""
    statements = [SQLITE_SCHEMA] if database.is_sqlite else POSTGRES_SCHEMA
    with database.engine.connect() as connection:
        return [tuple(row) for s in statements for row in connection.execute(text(s))]


def spatial_index(database: Database) -> list[tuple[Any, ...]]:
    """What the spatial index holds for each annotation: SQLite's R*Tree entry (joined by
    rowid, so a table rebuilt under new rowids shows) or PostGIS's geom column."""
    if database.is_sqlite:
        query = (
            "SELECT a.id, r.min_lon, r.max_lon, r.min_lat, r.max_lat FROM annotations a "
            "LEFT JOIN annotations_rtree r ON r.id = a.rowid ORDER BY a.id"
        )
        extra = "SELECT count(*) FROM annotations_rtree"
    else:
        query = "SELECT id, ST_AsEWKT(geom) FROM annotations ORDER BY id"
        extra = "SELECT count(*) FROM annotations WHERE geom IS NULL"
    with database.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(query))]
        rows.append(("count", connection.execute(text(extra)).scalar()))
    return rows


def urls(target: str) -> dict[str, int]:
    """The API reads that show the seeded rows up to `target`, each with the status it must
    answer: every annotation, its history and a box search around it, and every catalogue,
    report, event and link read (404 for what was deleted: kept, but not shown)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for revision in up_to(target):
        for table, written in seed(revision).rows.items():
            rows.setdefault(table, []).extend(written)
    api = "/api/v1"
    found = dict.fromkeys([f"{api}/users", f"{api}/sites", f"{api}/images"], 200)
    found[f"{api}/annotations?limit=1000"] = 200
    found.update({f"{api}/sites/{row['slug']}": 200 for row in rows.get("sites", [])})
    found.update({f"{api}/images/{row['id']}": 200 for row in rows.get("images", [])})
    for row in rows.get("annotations", []):
        box = ",".join(str(row[k]) for k in ("min_lon", "min_lat", "max_lon", "max_lat"))
        found[f"{api}/annotations/{row['id']}"] = _shown(row)
        found[f"{api}/annotations/{row['id']}/history"] = 200
        found[f"{api}/annotations?bbox={box}"] = 200
    if "reports" in rows:
        found.update(dict.fromkeys([f"{api}/reports", f"{api}/events"], 200))
        found[f"{api}/annotations?report=1"] = 200
    for row in rows.get("reports", []):
        report = f"{api}/reports/{row['id']}"
        for path in (report, f"{report}/history", f"{report}/claims", f"{report}/publications"):
            found[path] = _shown(row)
    for row in rows.get("publications", []):
        found[f"{api}/reports/{row['report_id']}/publications/{row['number']}"] = 200
    for row in rows.get("claims", []):
        found[f"{api}/reports/{row['report_id']}/claims/{row['id']}"] = _shown(row)
    for row in rows.get("events", []):
        found[f"{api}/events/{row['id']}"] = _shown(row)
        found[f"{api}/events/{row['id']}/history"] = _shown(row)
    for row in rows.get("links", []):
        found[f"{api}/links/{row['id']}"] = 404 if row["removed_at"] else 200
    return found


def _shown(row: dict[str, Any]) -> int:
    return 404 if row["deleted_at"] is not None else 200


def answers(app: Flask, paths: list[str], token: str) -> dict[str, Answer]:
    """Status, ETag and body bytes of GET `path` for each path, signed in with `token`."""
    client = app.test_client()
    header = {"Authorization": f"Bearer {token}"}
    found = {}
    for path in paths:
        response = client.get(path, headers=header)
        found[path] = (response.status_code, response.headers.get("ETag"), response.get_data())
    return found
