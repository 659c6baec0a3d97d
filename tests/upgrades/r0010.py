"""Rows written at 0010: an analyst's ingest job that ended done (with its result) and one
whose worker died, failed with the message `recover` writes; a second still running."""

from __future__ import annotations

from tests.upgrades.rows import Row, at

ROWS: dict[str, list[Row]] = {
    "jobs": [
        {
            "id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
            "kind": "ingest",
            "owner": "analyst",
            "status": "done",
            "progress": 1.0,
            "message": "done",
            "params": '{"files": [{"path": "0.tif", "name": "scene.tif"}]}',
            "result": '{"images": [{"id": "x", "href": "/api/v1/images/x"}]}',
            "error": None,
            "worker": "host-a:4242",
            "created_at": at("2025-01-11 09:00:00"),
            "started_at": at("2025-01-11 09:00:01"),
            "ended_at": at("2025-01-11 09:02:30"),
            "heartbeat_at": at("2025-01-11 09:02:29"),
            "cancelling": False,
        },
        {
            "id": "1a1b2c3d4e5f40718293a4b5c6d7e8f9",
            "kind": "ingest",
            "owner": "analyst",
            "status": "failed",
            "progress": 0.5,
            "message": "the worker running this job (host-a:4243) stopped before it ended",
            "params": "{}",
            "result": None,
            "error": "the worker running this job (host-a:4243) stopped before it ended",
            "worker": "host-a:4243",
            "created_at": at("2025-01-11 10:00:00"),
            "started_at": at("2025-01-11 10:00:01"),
            "ended_at": at("2025-01-11 10:05:00"),
            "heartbeat_at": at("2025-01-11 10:01:00"),
            "cancelling": True,
        },
    ],
}
