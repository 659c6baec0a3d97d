"""Rows written at 0005: a published report and a deleted draft, claims, events, links from
evidence to claims, a publication, and the history (changes) of all of these."""

from __future__ import annotations

import json

from tests.upgrades.r0001 import IMAGE_1
from tests.upgrades.r0002 import BOX, ROTATED, box_4
from tests.upgrades.r0003 import STILL_THERE
from tests.upgrades.rows import Row, at, feature, iso, sha256

TEXT = (
    "[…] Satellite images captured two Antonov AN-124 aircraft at the Hmeimim base, with the "
    "noses of the two aircraft open in preparation for loading. […]\n\n[…] a Russian convoy "
    "heading from the south of the capital towards the coast […]"
)
EXACT_1 = "Satellite images captured two Antonov AN-124 aircraft at the Hmeimim base"
EXACT_2 = "a Russian convoy heading from the south of the capital towards the coast"
EMBED_TOKEN = "6Cme-SbbpCNY7T_haGI4vWYOJRD2fES6"

report_1: Row = {
    "id": 1,
    "title": "The situation of the Russian forces in Syria",
    "url": "https://news.example.org/2024/12/hmeimim-airlift",
    "outlet": "Example News",
    "authors_json": json.dumps(["R. Nasser", "J. Okafor"]),
    "published_at": at("2024-12-18 00:00:00"),
    "language": "en",
    "summary": "Two An-124 at Hmeimim; a convoy towards the coast.",
    "text": TEXT,
    "status": "published",
    "coarsening": "none",
    "coarsen_m": None,
    "embed_token": EMBED_TOKEN,
    "version": 2,
    "created_by": "editor",
    "created_at": at("2024-12-18 09:00:00"),
    "updated_by": "editor",
    "updated_at": at("2024-12-18 09:20:00"),
    "deleted_at": None,
    "deleted_by": None,
}
report_2: Row = {
    "id": 2,
    "title": "Tartus: landing ships (draft, abandoned)",
    "url": None,
    "outlet": None,
    "authors_json": "[]",
    "published_at": None,
    "language": None,
    "summary": None,
    "text": None,
    "status": "draft",
    "coarsening": "round",
    "coarsen_m": 500,
    "embed_token": None,
    "version": 1,
    "created_by": "analyst",
    "created_at": at("2024-12-19 11:00:00"),
    "updated_by": "analyst",
    "updated_at": at("2024-12-19 11:00:00"),
    "deleted_at": at("2024-12-20 08:00:00"),
    "deleted_by": "editor",
}


def _claim(claim_id: int, exact: str, **columns: object) -> Row:
    start = TEXT.index(exact)
    return {
        "id": claim_id,
        "report_id": 1,
        "exact": exact,
        "prefix": TEXT[max(0, start - 32) : start],
        "suffix": TEXT[start + len(exact) : start + len(exact) + 32],
        "start": start,
        "created_by": "editor",
        "created_at": at("2024-12-18 09:05:00"),
        "deleted_at": None,
        "deleted_by": None,
        **columns,
    }


claims = [
    _claim(1, EXACT_1),
    _claim(2, EXACT_2, deleted_at=at("2024-12-18 09:30:00"), deleted_by="editor"),
]

events: list[Row] = [
    {
        "id": 1,
        "site_id": 1,
        "title": "An-124 airlift at Hmeimim",
        "description": "Two An-124 transports on the apron, noses open on 13 Dec.",
        "start_at": at("2024-12-10 00:00:00"),
        "end_at": at("2024-12-14 00:00:00"),
        "version": 1,
        "created_by": "analyst",
        "created_at": at("2024-12-18 08:00:00"),
        "updated_by": "analyst",
        "updated_at": at("2024-12-18 08:00:00"),
        "deleted_at": None,
        "deleted_by": None,
    },
    {
        "id": 2,
        "site_id": 2,
        "title": "Convoy at Tartus",
        "description": "",
        "start_at": at("2024-12-12 00:00:00"),
        "end_at": at("2024-12-12 23:59:59"),
        "version": 2,
        "created_by": "analyst",
        "created_at": at("2024-12-18 08:10:00"),
        "updated_by": "editor",
        "updated_at": at("2024-12-19 08:00:00"),
        "deleted_at": at("2024-12-19 08:00:00"),
        "deleted_by": "editor",
    },
]
event_annotations: list[Row] = [
    {
        "event_id": 1,
        "annotation_id": ROTATED,
        "added_by": "analyst",
        "added_at": at("2024-12-18 08:01:00"),
    },
    {
        "event_id": 1,
        "annotation_id": STILL_THERE,
        "added_by": "analyst",
        "added_at": at("2024-12-18 08:01:30.5"),
    },
]

links: list[Row] = [
    {
        "id": 1,
        "annotation_id": BOX,
        "event_id": None,
        "report_id": 1,
        "claim_id": 1,
        "stance": "supports",
        "note": "nose visor raised, ramp down",
        "created_by": "analyst",
        "created_at": at("2024-12-18 09:10:00"),
        "removed_at": None,
        "removed_by": None,
    },
    {
        "id": 2,
        "annotation_id": None,
        "event_id": 1,
        "report_id": 1,
        "claim_id": None,
        "stance": "context",
        "note": "",
        "created_by": "editor",
        "created_at": at("2024-12-18 09:11:00"),
        "removed_at": None,
        "removed_by": None,
    },
    {
        "id": 3,
        "annotation_id": ROTATED,
        "event_id": None,
        "report_id": 1,
        "claim_id": 1,
        "stance": "contradicts",
        "note": "not yet reviewed",
        "created_by": "analyst",
        "created_at": at("2024-12-18 09:12:00"),
        "removed_at": at("2024-12-18 09:15:00"),
        "removed_by": "editor",
    },
]

EVIDENCE = json.dumps(
    {
        "format": "annotator-evidence/1",
        "report": {"id": 1, "title": report_1["title"], "url": report_1["url"]},
        "claims": [{"id": 1, "exact": EXACT_1}],
        "annotations": [
            {
                "feature": json.loads(feature(box_4)),
                "approved_by": "editor",
                "approved_at": iso(box_4["updated_at"]),
                "image": IMAGE_1,
            }
        ],
        "coarsening": {"mode": "none", "metres": None},
        "published_by": "editor",
        "published_at": "2024-12-18T09:20:00Z",
    },
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
)
publications: list[Row] = [
    {
        "id": 1,
        "report_id": 1,
        "number": 1,
        "sha256": sha256(EVIDENCE),
        "evidence_json": EVIDENCE,
        "published_by": "editor",
        "published_at": at("2024-12-18 09:20:00"),
    },
]


def _change(
    change_id: int,
    subject: str,
    subject_id: int,
    action: str,
    actor: str,
    when: str,
    before: Row | None,
    after: Row | None,
    comment: str | None = None,
) -> Row:
    return {
        "id": change_id,
        "subject": subject,
        "subject_id": subject_id,
        "action": action,
        "actor": actor,
        "at": at(when),
        "comment": comment,
        "before_json": None if before is None else json.dumps(before, ensure_ascii=False),
        "after_json": None if after is None else json.dumps(after, ensure_ascii=False),
    }


REPORT_V1 = {"id": 1, "title": report_1["title"], "status": "draft", "version": 1}
changes: list[Row] = [
    _change(1, "event", 1, "create", "analyst", "2024-12-18 08:00:00", None, {"id": 1}),
    _change(
        2, "event", 1, "add", "analyst", "2024-12-18 08:01:00", None, {"annotation_id": ROTATED}
    ),
    _change(
        3,
        "event",
        1,
        "add",
        "analyst",
        "2024-12-18 08:01:30.5",
        None,
        {"annotation_id": STILL_THERE},
    ),
    _change(4, "report", 1, "create", "editor", "2024-12-18 09:00:00", None, REPORT_V1),
    _change(5, "claim", 1, "create", "editor", "2024-12-18 09:05:00", None, {"exact": EXACT_1}),
    _change(6, "claim", 2, "create", "editor", "2024-12-18 09:05:00", None, {"exact": EXACT_2}),
    _change(7, "link", 1, "link", "analyst", "2024-12-18 09:10:00", None, {"id": 1}),
    _change(8, "link", 2, "link", "editor", "2024-12-18 09:11:00", None, {"id": 2}),
    _change(9, "link", 3, "link", "analyst", "2024-12-18 09:12:00", None, {"id": 3}),
    _change(
        10,
        "link",
        3,
        "unlink",
        "editor",
        "2024-12-18 09:15:00",
        {"id": 3},
        None,
        "the rotated box is still in review",
    ),
    _change(
        11,
        "report",
        1,
        "publish",
        "editor",
        "2024-12-18 09:20:00",
        REPORT_V1,
        {**REPORT_V1, "status": "published", "version": 2},
    ),
    _change(12, "claim", 2, "delete", "editor", "2024-12-18 09:30:00", {"exact": EXACT_2}, None),
    _change(13, "report", 2, "create", "analyst", "2024-12-19 11:00:00", None, {"id": 2}),
    _change(14, "event", 2, "delete", "editor", "2024-12-19 08:00:00", {"id": 2}, None),
    _change(
        15, "report", 2, "delete", "editor", "2024-12-20 08:00:00", {"id": 2}, None, "abandoned"
    ),
]

ROWS: dict[str, list[Row]] = {
    "reports": [report_1, report_2],
    "claims": claims,
    "events": events,
    "event_annotations": event_annotations,
    "links": links,
    "publications": publications,
    "changes": changes,
}
