"""Rows written at 0008: a second box drawn on the rotated An-124 of 13 Dec, marked the same
object as it."""

from __future__ import annotations

from tests.upgrades.r0002 import ROTATED, rotated_1
from tests.upgrades.rows import Row, at, history

SECOND_BOX = "5a3e0c1d2b4f4e6a8c9d0e1f2a3b4c5d"


def carry(table: str, row: Row) -> Row:
    """0008 adds annotations.same_as, empty: nothing was marked the same object before it."""
    if table == "annotations":
        return {**row, "same_as": None}
    return row


second = {
    **rotated_1,
    "id": SECOND_BOX,
    "status": "draft",
    "version": 2,
    "created_by": "analyst",
    "created_at": at("2025-01-09 09:00:00"),
    "updated_by": "analyst",
    "updated_at": at("2025-01-09 09:01:00"),
    "derived_from": None,
    "import_key": None,
    "same_as": ROTATED,
}

ROWS: dict[str, list[Row]] = {
    "annotations": [second],
    "revisions": history(
        SECOND_BOX,
        [
            (
                15,
                "create",
                "analyst",
                None,
                {**second, "version": 1, "same_as": None, "updated_at": second["created_at"]},
            ),
            (16, "edit", "analyst", f"the same object as annotation {ROTATED}", second),
        ],
    ),
}
