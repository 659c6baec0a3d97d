"""Rows written at 0011: an analyst who reads the interface in Arabic."""

from __future__ import annotations

from tests.upgrades.rows import Row, at


def carry(table: str, row: Row) -> Row:
    """0011 adds users.language, empty for every earlier user (the browser's choice)."""
    if table == "users":
        return {**row, "language": None}
    return row


ROWS: dict[str, list[Row]] = {
    "users": [
        {
            "id": 8,
            "name": "R.Khalil",
            "role_name": "analyst",
            "password_hash": None,
            "active": True,
            "created_at": at("2025-01-12 08:00:00"),
            "language": "ar",
        },
    ],
}
