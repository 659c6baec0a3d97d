"""Rows written at 0009: a viewer's read-only key for tiles (scope read-tiles), used once."""

from __future__ import annotations

from tests.upgrades.rows import Row, at, sha256

VIEWER_KEY = "ank_upgrade-viewer-key-0009-Tq4mZ8rW"


def carry(table: str, row: Row) -> Row:
    """0009 adds api_tokens.scope (every earlier token is a full one) and last_used_at
    (empty: no use was noted before it)."""
    if table == "api_tokens":
        return {**row, "scope": "full", "last_used_at": None}
    return row


ROWS: dict[str, list[Row]] = {
    "api_tokens": [
        {
            "id": 4,
            "user_id": 4,
            "name": "QGIS on the desk",
            "token_sha256": sha256(VIEWER_KEY),
            "created_at": at("2025-01-10 09:00:00"),
            "revoked_at": None,
            "scope": "read-tiles",
            "last_used_at": at("2025-01-10 09:03:00"),
        },
    ],
}
