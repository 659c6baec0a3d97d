"""Rows written at 0001: users of every role, API tokens, sites, images and their links."""

from __future__ import annotations

import json

from tests.upgrades.rows import Row, at, polygon, rectangle, sha256

#: the one password every seeded account with a password has (scrypt, as the app hashes)
PASSWORD = "upgrade test password"
PASSWORD_HASH = (
    "scrypt:32768:8:1$SlqXJBZPy7m1hZcq$8deddbf0f4e5f4278ac4fcc42a90914c903a560a3a2404020f778c"
    "3181097ba0555e8b85f4c69b4b7c41c5eff46e5b25c97ea2f8335f84581530db113a844e22"
)
#: API tokens (the table keeps only their sha256); ADMIN_TOKEN is the one the test reads with
ADMIN_TOKEN = "ann_upgrade-admin-0001-Rk2vX9qLmT4sW8yZ"
ANALYST_TOKEN = "ann_upgrade-analyst-0001-Jd7pQ3nB"
REVOKED_TOKEN = "ann_upgrade-revoked-0001-Hs5kF2wC"

HMEIMIM = rectangle(35.935, 35.385, 35.960, 35.416)
TARTUS = rectangle(35.862, 34.892, 35.891, 34.921)
IMAGE_1 = "5f0e0a51c2b44d7e9a3f6c1b2d8e4f70"  # Hmeimim, 10 Dec
IMAGE_2 = "a3f88e77cdaf4ae9b6ea2d3bd3c2db3d"  # Hmeimim, 13 Dec
IMAGE_3 = "0c4b9e2f7a1d4c58b6e3f9a2d1c7e5b8"  # Tartus, no capture time, a nodata mask

users: list[Row] = [
    {
        "id": 1,
        "name": "admin",
        "role_name": "admin",
        "password_hash": PASSWORD_HASH,
        "active": True,
        "created_at": at("2024-11-02 09:00:00"),
    },
    {
        "id": 2,
        "name": "editor",
        "role_name": "editor",
        "password_hash": PASSWORD_HASH,
        "active": True,
        "created_at": at("2024-11-02 09:01:13.250000"),
    },
    {
        "id": 3,
        "name": "analyst",
        "role_name": "analyst",
        "password_hash": PASSWORD_HASH,
        "active": True,
        "created_at": at("2024-11-02 09:02:40.125000"),
    },
    {
        "id": 4,
        "name": "viewer",
        "role_name": "viewer",
        "password_hash": PASSWORD_HASH,
        "active": True,
        "created_at": at("2024-11-03 14:30:00"),
    },
    {
        "id": 5,
        "name": "ingest-bot",
        "role_name": "analyst",
        "password_hash": None,
        "active": True,
        "created_at": at("2024-11-04 07:00:00"),
    },
    {
        "id": 6,
        "name": "M.Haddad",
        "role_name": "analyst",
        "password_hash": PASSWORD_HASH,
        "active": False,
        "created_at": at("2024-11-05 16:45:09.999999"),
    },
]

api_tokens: list[Row] = [
    {
        "id": 1,
        "user_id": 1,
        "name": "upgrade test",
        "token_sha256": sha256(ADMIN_TOKEN),
        "created_at": at("2024-11-02 09:05:00"),
        "revoked_at": None,
    },
    {
        "id": 2,
        "user_id": 5,
        "name": "nightly import",
        "token_sha256": sha256(ANALYST_TOKEN),
        "created_at": at("2024-11-04 07:01:00"),
        "revoked_at": None,
    },
    {
        "id": 3,
        "user_id": 3,
        "name": "laptop",
        "token_sha256": sha256(REVOKED_TOKEN),
        "created_at": at("2024-11-02 10:00:00"),
        "revoked_at": at("2024-11-20 18:00:00"),
    },
]

sites: list[Row] = [
    {
        "id": 1,
        "slug": "hmeimim",
        "name": "Hmeimim air base",
        "area_geojson": polygon(HMEIMIM),
        "min_lon": 35.935,
        "min_lat": 35.385,
        "max_lon": 35.96,
        "max_lat": 35.416,
        "created_at": at("2024-11-06 08:00:00"),
        "created_by": "analyst",
    },
    {
        "id": 2,
        "slug": "tartus",
        "name": "Tartus naval facility — port",
        "area_geojson": polygon(TARTUS),
        "min_lon": 35.862,
        "min_lat": 34.892,
        "max_lon": 35.891,
        "max_lat": 34.921,
        "created_at": at("2024-11-06 08:10:00"),
        "created_by": None,
    },
]


def _image(image_id: str, source: str, **columns: object) -> Row:
    digest = sha256(source)
    return {
        "id": image_id,
        "sha256": digest,
        "cog_name": f"{digest}.tif",
        "original_filename": source,
        "crs": "EPSG:32636",
        "width": 3200,
        "height": 6400,
        "band_count": 3,
        "dtype": "uint8",
        "nodata": None,
        "mask": "none",
        "gsd_m": 0.5,
        "footprint_geojson": polygon(HMEIMIM),
        "min_lon": 35.935,
        "min_lat": 35.385,
        "max_lon": 35.96,
        "max_lat": 35.416,
        "captured_at": None,
        "captured_source": "unknown",
        "provider": "Airbus DS (Pléiades Neo)",
        "sensor": "Pléiades Neo 3",
        "licence": "newsroom licence 2024-117",
        "attribution": "© Airbus DS 2024",
        "description": None,
        "synthetic": False,
        "display_json": json.dumps({"bands": [1, 2, 3], "rescale": None}),
        "warped": False,
        "tags_json": json.dumps({"AREA_OR_POINT": "Area"}),
        "created_at": at("2024-12-11 06:00:00"),
        "created_by": "analyst",
        **columns,
    }


images: list[Row] = [
    _image(
        IMAGE_1,
        "hmeimim-2024-12-10.tif",
        captured_at=at("2024-12-10 08:21:00"),
        captured_source="tiff-tag",
        description="Hmeimim apron, morning pass",
        tags_json=json.dumps({"TIFFTAG_DATETIME": "2024:12:10 08:21:00", "AREA_OR_POINT": "Area"}),
    ),
    _image(
        IMAGE_2,
        "hmeimim-2024-12-13.tif",
        captured_at=at("2024-12-13 08:19:30"),
        captured_source="form",
        created_at=at("2024-12-14 06:00:00.500000"),
    ),
    _image(
        IMAGE_3,
        "tartus_2024-12-12_pan.tif",
        crs="EPSG:32637",
        width=900,
        height=900,
        band_count=1,
        dtype="uint16",
        nodata=0.0,
        mask="nodata",
        gsd_m=0.3,
        footprint_geojson=polygon(TARTUS),
        min_lon=35.862,
        min_lat=34.892,
        max_lon=35.891,
        max_lat=34.921,
        provider=None,
        sensor=None,
        licence=None,
        attribution=None,
        display_json=json.dumps({"bands": [1], "rescale": [[126.0, 1109.0]]}),
        warped=True,
        created_by=None,
    ),
]

site_images: list[Row] = [
    {"site_id": 1, "image_id": IMAGE_1, "reason": "footprint"},
    {"site_id": 1, "image_id": IMAGE_2, "reason": "explicit"},
    {"site_id": 2, "image_id": IMAGE_3, "reason": "footprint"},
]

ROWS: dict[str, list[Row]] = {
    "users": users,
    "api_tokens": api_tokens,
    "sites": sites,
    "images": images,
    "site_images": site_images,
}
