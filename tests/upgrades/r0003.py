"""Rows written at 0003: an annotation copied onto a later capture ("still there")."""

from __future__ import annotations

from tests.upgrades.r0001 import IMAGE_2
from tests.upgrades.r0002 import BOX, box_4
from tests.upgrades.rows import Row, at, history

STILL_THERE = "f2a3b4c5d6e74f8091a2b3c4d5e6f7a8"


def carry(table: str, row: Row) -> Row:
    """0003 adds annotations.derived_from, empty: nothing was copied before it existed."""
    if table == "annotations":
        return {**row, "derived_from": None}
    return row


copy = {
    **box_4,
    "id": STILL_THERE,
    "image_id": IMAGE_2,
    "status": "draft",
    "version": 1,
    "observed_at": at("2024-12-13 08:19:30"),
    "created_by": "editor",
    "created_at": at("2024-12-16 10:00:00"),
    "updated_by": "editor",
    "updated_at": at("2024-12-16 10:00:00"),
    "derived_from": BOX,
}

ROWS: dict[str, list[Row]] = {
    "annotations": [copy],
    "revisions": history(STILL_THERE, [(13, "create", "editor", "still there on 13 Dec", copy)]),
}
