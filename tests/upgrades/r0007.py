"""Rows written at 0007: a comment thread on an annotation (with a mention and a withdrawn
comment), a comment on a claim, and an inbox item marked read."""

from __future__ import annotations

from tests.upgrades.r0002 import BOX
from tests.upgrades.rows import Row, at

ROWS: dict[str, list[Row]] = {
    "comments": [
        {
            "id": 1,
            "annotation_id": BOX,
            "claim_id": None,
            "report_id": None,
            "body": "@editor is this the second An-124 or the same one?",
            "author": "analyst",
            "created_at": at("2025-01-08 10:00:00"),
            "withdrawn_at": None,
            "withdrawn_by": None,
        },
        {
            "id": 2,
            "annotation_id": BOX,
            "claim_id": None,
            "report_id": None,
            "body": "posted twice, sorry",
            "author": "analyst",
            "created_at": at("2025-01-08 10:00:05"),
            "withdrawn_at": at("2025-01-08 10:01:00"),
            "withdrawn_by": "analyst",
        },
        {
            "id": 3,
            "annotation_id": None,
            "claim_id": 1,
            "report_id": 1,
            "body": "The noses are open on the 2024-12-13 capture only.",
            "author": "editor",
            "created_at": at("2025-01-08 11:30:00"),
            "withdrawn_at": None,
            "withdrawn_by": None,
        },
    ],
    "comment_mentions": [{"comment_id": 1, "user_name": "editor"}],
    "inbox_reads": [
        {"user_name": "editor", "item": "comment:1", "read_at": at("2025-01-08 10:05:00")}
    ],
}
