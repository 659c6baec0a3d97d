"""Rows written at 0006: browser sessions, sign-in rate-limit counters, and a user whose name
has capitals (names now ignore letter case)."""

from __future__ import annotations

from tests.upgrades.r0001 import PASSWORD_HASH
from tests.upgrades.rows import Row, at, sha256

ROWS: dict[str, list[Row]] = {
    "users": [
        {
            "id": 7,
            "name": "Desk.Night",
            "role_name": "editor",
            "password_hash": PASSWORD_HASH,
            "active": True,
            "created_at": at("2025-01-06 22:00:00"),
        },
    ],
    "browser_sessions": [
        {
            "id_sha256": sha256("cookie-of-the-editor"),
            "user_id": 2,
            "csrf_token": "q0V3m9XbT1kYw2Zr8sLp4NdFh6Gc5Ja7",
            "created_at": at("2025-01-07 08:00:00"),
            "last_seen_at": at("2025-01-07 08:42:17.5"),
        },
        {
            "id_sha256": sha256("cookie-of-the-night-desk"),
            "user_id": 7,
            "csrf_token": "Zr8sLp4NdFh6Gc5Ja7q0V3m9XbT1kYw2",
            "created_at": at("2025-01-06 22:05:00"),
            "last_seen_at": at("2025-01-07 01:10:00"),
        },
    ],
    "rate_limits": [
        {"key": "LIMITER/sign-in/name/analyst/5/1/minute", "count": 3, "expires_at": 1736238180.25},
        {
            "key": "LIMITER/sign-in/address/203.0.113.7/20/1/hour",
            "count": 11,
            "expires_at": 1736241000.0,
        },
    ],
}
