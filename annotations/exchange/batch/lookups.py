"""Which of many import keys, or annotation ids, are already stored: one query for all of
them (an import of 100,000 features asked 200 queries of 500 each, 3 s of its re-import).

SQLite reads the values from one JSON array parameter (`json_each`), PostgreSQL from one
text parameter split into an array by the server (`string_to_array`: psycopg adapting a
list of 100,000 strings item by item took 3 s of an import); both look each value up in the
column's index. The values split so are import keys (hex) and annotation ids (uuid hex, as
the app makes them): a value holding a comma can be neither, and is not looked up."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session


def _rows(session: Session, sql_sqlite: str, sql_postgres: str, values: list[str]) -> list[Any]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return list(connection.exec_driver_sql(sql_sqlite, (json.dumps(values),)))
    plain = [value for value in values if "," not in value]
    if not plain:
        return []
    return list(connection.exec_driver_sql(sql_postgres, (",".join(plain),)))


def stored_keys(session: Session, keys: list[str]) -> set[str]:
    """The import keys among `keys` that an annotation already carries."""
    if not keys:
        return set()
    rows = _rows(
        session,
        "SELECT import_key FROM annotations WHERE import_key IN (SELECT value FROM json_each(?))",
        "SELECT import_key FROM annotations WHERE import_key = ANY(string_to_array(%s, ','))",
        keys,
    )
    return {row[0] for row in rows if row[0]}


def stored_annotations(session: Session, ids: list[str]) -> set[tuple[str, str]]:
    """(id, image id) of the annotations, not deleted, among `ids`."""
    if not ids:
        return set()
    rows = _rows(
        session,
        "SELECT id, image_id FROM annotations WHERE deleted_at IS NULL AND id IN "
        "(SELECT value FROM json_each(?))",
        "SELECT id, image_id FROM annotations WHERE deleted_at IS NULL "
        "AND id = ANY(string_to_array(%s, ','))",
        ids,
    )
    return {(row[0], row[1]) for row in rows}


def labels_imported_from(session: Session, keys: list[str], sha256: str) -> dict[str, str]:
    """Import key -> label of the annotations carrying any of `keys` (deleted ones too, as
    `stored_keys` finds them) that were imported from the file whose SHA-256 is `sha256`
    (as their `source_json` says)."""
    if not keys:
        return {}
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT import_key, label FROM annotations "
            "WHERE import_key IN (SELECT value FROM json_each(?)) "
            "AND json_extract(source_json, '$.imported_from.sha256') = ?",
            (json.dumps(keys), sha256),
        )
    else:
        rows = connection.exec_driver_sql(
            # the keys (hex) as one text: psycopg adapts a list item by item
            "SELECT import_key, label FROM annotations "
            "WHERE import_key = ANY(string_to_array(%s, ',')) "
            "AND source_json::json #>> '{imported_from,sha256}' = %s",
            (",".join(keys), sha256),
        )
    return {row[0]: row[1] for row in rows.fetchall()}
