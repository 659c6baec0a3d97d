"""Rows written at 0012: a GeoJSON file of two features that an import accounted for whole
(its row: the file's SHA-256, the plan's fingerprint, and the two import keys)."""

from __future__ import annotations

import json

from tests.upgrades.rows import Row, at, sha256

ROWS: dict[str, list[Row]] = {
    "imported_files": [
        {
            "id": 1,
            "sha256": sha256("tanks.geojson, as imported at 0012"),
            "fingerprint": sha256("options, images and labels at 0012"),
            "features": 2,
            "summary_json": json.dumps(
                {
                    "source": {
                        "name": "tanks.geojson",
                        "sha256": sha256("tanks.geojson, as imported at 0012"),
                        "format": "geojson",
                        "layers": ["tanks"],
                        "features": 2,
                    },
                    "label_field": "label",
                }
            ),
            "keys": bytes.fromhex(sha256("key one") + sha256("key two")),
            "imported_by": "analyst",
            "imported_at": at("2025-01-13 09:30:00"),
        },
    ],
}
